/** The distributed suite (distributed-suite.ts) over the Redis transport, on a redis-server of its own. */
import { requireRedis, startRedis } from '../helpers/redis-server.js';
import { describeDistributed } from './distributed-suite.js';

describeDistributed({
  transport: 'redis',
  async setup(ctx) {
    requireRedis(ctx);
    const server = await startRedis();
    return server.url;
  },
});
