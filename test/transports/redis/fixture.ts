/**
 * Shared by the Redis transport tests: a transport factory for the conformance suite (fresh cluster
 * name per cluster, short timers), a raw ioredis client for crafting frames, and small helpers.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Transport } from '../../../src/transport.js';
import { clusterNames } from '../../../transports/redis/channels.js';
import { FrameKind, FrameSealer } from '../../../transports/redis/mac.js';
import type { RedisTransportOptions } from '../../../transports/redis/options.js';
import { RedisTransport } from '../../../transports/redis/redis-transport.js';
import type { TransportCluster, TransportFactory } from '../conformance.js';
import { waitFor } from '../../helpers/wait.js';

export const TEST_MAX_FRAME = 256 * 1024;

/** Timers shortened for tests (the defaults suit production). */
export const TEST_TIMERS = {
  heartbeatIntervalMs: 200, peerTimeoutMs: 2_000, reconnectBaseMs: 20, reconnectMaxMs: 300, connectTimeoutMs: 5_000,
  claimIdleMs: 500, claimIntervalMs: 200, readBlockMs: 200,
} satisfies Partial<RedisTransportOptions>;

export function newClusterName(tag = 't'): string {
  return `${tag}-${randomBytes(4).toString('hex')}`;
}

export interface TestCluster {
  name: string;
  secret: Buffer;
  url: string;
  transport(nodeId: string, extra?: Partial<RedisTransportOptions>): RedisTransport;
}

export function testCluster(url: string, name = newClusterName(), secret = randomBytes(32)): TestCluster {
  return {
    name, secret, url,
    transport: (nodeId, extra = {}) => new RedisTransport({
      nodeId, clusterName: name, clusterSecret: secret, url, maxFrameBytes: TEST_MAX_FRAME, ...TEST_TIMERS, ...extra,
    }),
  };
}

/** Waits until every transport sees every other one as a peer. */
export async function allConnected(transports: Transport[], timeoutMs = 10_000): Promise<void> {
  await waitFor(() => transports.every((t) => transports.every((o) => o === t || t.peers().includes(o.nodeId))), timeoutMs, 'peers to discover each other');
}

/** Seals `payload` as a frame from a node that holds the secret (or a forger with the wrong one). */
export function craftFrame(c: { name: string; secret: Buffer }, channel: string, payload: Buffer, seq = 0, sender = 'raw-injector'): Buffer {
  return new FrameSealer(c.secret, c.name, sender, randomBytes(8)).seal(channel, FrameKind.Envelopes, seq, 1, payload, Date.now());
}

export function redisFactory(url: () => string): TransportFactory {
  return {
    name: 'redis',
    maxFrameBytes: TEST_MAX_FRAME,
    async create(ids: string[]): Promise<TransportCluster> {
      const c = testCluster(url());
      const transports = ids.map((id) => c.transport(id));
      const raw = new Redis(url(), { lazyConnect: true, maxRetriesPerRequest: 1 });
      await raw.connect();
      const sealer = new FrameSealer(c.secret, c.name, 'raw-injector', randomBytes(8));
      let seq = 0;
      return {
        transports,
        connect: () => allConnected(transports),
        // A misbehaving peer that holds the secret: a valid MAC around bytes that are not a valid frame.
        async injectRawFrame(target, bytes) {
          const channel = clusterNames('cloudstackd', c.name).node(target.nodeId);
          const n = await raw.publish(channel, sealer.seal(channel, FrameKind.Envelopes, seq++, 1, bytes, Date.now()));
          if (n !== 1) throw new Error(`raw PUBLISH reached ${n} subscribers, expected 1`);
        },
        async cleanup() { raw.disconnect(); },
      };
    },
  };
}
