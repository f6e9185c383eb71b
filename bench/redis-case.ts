/**
 * The Redis transport's bench case (see transport-case.ts), over the redis at REDIS_URL:
 *   REDIS_URL=redis://127.0.0.1:PORT node dist/bench/redis-case.js ask --inflight 1|1000 | tell
 */
import { RedisTransport } from '../transports/redis/redis-transport.js';
import { runTransportCase } from './transport-case.js';

await runTransportCase({
  name: 'redis',
  make: (nodeId, clusterName, clusterSecret) => new RedisTransport({ nodeId, clusterName, clusterSecret, url: process.env.REDIS_URL! }),
  // Redis needs no dialling: the server is discovered on the cluster's broadcast channel.
  reach: async (node) => {
    const until = Date.now() + 10_000;
    while (!node.transport!.peers().includes('bench-server')) {
      if (Date.now() > until) throw new Error('the bench server node was not discovered within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    return 'bench-server';
  },
});
