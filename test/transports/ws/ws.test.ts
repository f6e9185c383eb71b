import { expect } from 'chai';
import { silentLogger } from '../../../src/logger.js';
import { WsTransport } from '../../../transports/ws/ws-transport.js';
import { transportConformance } from '../conformance.js';
import { RawPeer } from './raw-peer.js';

const MAX = 256 * 1024;
const SECRET = Buffer.from('conformance-secret-0123456789abcdef');
const CLUSTER = 'conformance';
let rawCount = 0;

transportConformance({
  name: 'ws',
  maxFrameBytes: MAX,
  async create(ids) {
    const transports = ids.map((nodeId) => new WsTransport({
      nodeId, clusterName: CLUSTER, clusterSecret: SECRET, maxFrameBytes: MAX, logger: silentLogger, peerDownGraceMs: 1_000,
    }));
    return {
      transports,
      async connect() {
        for (const t of transports) {
          for (const o of transports) if (o !== t) t.learnAddress(o.nodeId, o.address()!);
        }
      },
      // A raw, authenticated connection (a node id of its own, so the real peers' connections are
      // untouched) delivers the bytes; the target must close it with the malformed-frame code.
      async injectRawFrame(target, bytes) {
        const peer = await RawPeer.connect({ address: target.address()!, nodeId: `raw-${++rawCount}`, cluster: CLUSTER, secret: SECRET });
        expect(peer.welcome, 'raw peer authenticated').to.not.equal(undefined);
        peer.send(bytes);
        const closed = await peer.closed;
        expect(closed.code).to.equal(4400);
      },
      async cleanup() { /* nodes stop their transports */ },
    };
  },
});
