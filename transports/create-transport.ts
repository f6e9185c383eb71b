import type { Transport } from '../src/transport.js';
import type { Logger } from '../src/logger.js';
import { ConfigError } from '../src/errors.js';
import { InprocHub } from './inproc/hub.js';
import { InprocTransport } from './inproc/inproc-transport.js';
import { WsTransport } from './ws/index.js';
import { RedisTransport } from './redis/redis-transport.js';

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
    case 'ws':
      return new WsTransport({
        nodeId: c.nodeId, clusterName: c.clusterName, clusterSecret: requireSecret(c),
        host: c.listen.host, port: c.listen.port, logger: c.logger,
      });
    case 'redis':
      if (c.redisUrl === undefined) throw new ConfigError('the redis transport needs a redis URL (--redis-url)');
      return new RedisTransport({
        nodeId: c.nodeId, clusterName: c.clusterName, clusterSecret: requireSecret(c), url: c.redisUrl, logger: c.logger,
      });
  }
}

function requireSecret(c: TransportConfig): Buffer {
  if (c.clusterSecret === undefined) throw new ConfigError(`the ${c.kind} transport needs a cluster secret (--cluster-secret-file)`);
  return c.clusterSecret;
}

/**
 * Connects to seed addresses (ws `--join`), retrying each until it answers or `timeoutMs` passes.
 * Resolves to the node ids reached; rejects with one line naming the seeds that never answered.
 */
export async function joinSeeds(transport: Transport, seeds: readonly string[], timeoutMs: number, retryMs = 250): Promise<string[]> {
  if (seeds.length === 0) return [];
  if (!transport.dial) throw new ConfigError(`the ${transport.kind} transport does not dial seeds; --join is for ws`);
  const dial = transport.dial.bind(transport);
  const until = Date.now() + timeoutMs;
  const reached: string[] = [];
  const failed: string[] = [];
  await Promise.all(seeds.map(async (seed) => {
    let last = '';
    for (;;) {
      try {
        reached.push(await dial(seed));
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() + retryMs > until) { failed.push(`${seed} (${last})`); return; }
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }));
  if (reached.length === 0) throw new ConfigError(`no seed answered within ${timeoutMs} ms: ${failed.join(', ')}`);
  return reached;
}
