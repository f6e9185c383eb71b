/** The split-cluster suite (split-suite.ts) over the Redis transport, on a redis-server of its own. */
import { requireRedis, startRedis } from '../helpers/redis-server.js';
import { describeSplit } from './split-suite.js';

describeSplit({
  transport: 'redis',
  async setup(ctx) {
    requireRedis(ctx);
    const server = await startRedis();
    return server.url;
  },
});
