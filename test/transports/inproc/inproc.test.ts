import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { transportConformance } from '../conformance.js';

const MAX = 256 * 1024;

transportConformance({
  name: 'inproc',
  maxFrameBytes: MAX,
  async create(ids) {
    const hub = new InprocHub();
    const transports = ids.map((nodeId) => new InprocTransport({ nodeId, hub, limits: { maxFrameBytes: MAX, maxDepth: 64 } }));
    return {
      transports,
      async injectRawFrame(target, bytes) { (target as InprocTransport).receiveFrame(bytes); },
      async cleanup() { /* nodes stop their transports */ },
    };
  },
});
