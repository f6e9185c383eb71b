import type { Transport } from '../src/transport.js';
import type { Logger } from '../src/logger.js';
import { ConfigError } from '../src/errors.js';
import { InprocHub } from './inproc/hub.js';
import { InprocTransport } from './inproc/inproc-transport.js';

/** The transport settings a node is started with (from the CLI or startLab). */
export interface TransportConfig {
  kind: 'inproc' | 'ws' | 'redis';
  nodeId: string;
  clusterName: string;
  clusterSecret: Buffer | undefined;
  listen: { host: string; port: number };
  redisUrl: string | undefined;
  logger: Logger;
  /** inproc: the hub shared by the nodes of one process (a new one when absent). */
  hub?: InprocHub;
}

/** Chooses the transport by configuration only: the same actors run on any of them. */
export async function createTransport(c: TransportConfig): Promise<Transport> {
  switch (c.kind) {
    case 'inproc':
      return new InprocTransport({ nodeId: c.nodeId, hub: c.hub ?? new InprocHub() });
    default:
      throw new ConfigError(`transport ${c.kind} is not built into this version`);
  }
}
