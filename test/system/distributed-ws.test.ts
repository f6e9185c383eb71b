/** The distributed suite (distributed-suite.ts) over the WebSocket transport. */
import { describeDistributed } from './distributed-suite.js';

describeDistributed({ transport: 'ws' });
