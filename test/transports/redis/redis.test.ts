import { startRedis, requireRedis, type RedisServer } from '../../helpers/redis-server.js';
import { transportConformance } from '../conformance.js';
import { redisFactory } from './fixture.js';

describe('redis transport', function () {
  let server: RedisServer | undefined;
  before(async function () {
    this.timeout(20_000);
    requireRedis(this);
    server = await startRedis();
  });
  after(async () => { await server?.dispose(); });

  transportConformance(redisFactory(() => server!.url));
});
