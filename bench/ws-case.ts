/**
 * The WebSocket transport's bench case (see transport-case.ts):
 *   node dist/bench/ws-case.js ask --inflight 1|1000 | tell
 */
import { silentLogger } from '../src/logger.js';
import { WsTransport } from '../transports/ws/ws-transport.js';
import { runTransportCase } from './transport-case.js';

await runTransportCase({
  name: 'ws',
  make: (nodeId, clusterName, clusterSecret) => new WsTransport({ nodeId, clusterName, clusterSecret, logger: silentLogger }),
  reach: async (node, address) => {
    if (address === undefined) throw new Error('the ws bench server reported no address');
    return node.transport!.dial!(address);
  },
});
