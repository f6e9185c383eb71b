import type { ConnectionOptions } from 'node:tls';
import { createRealClock, type Clock } from '../../src/clock.js';
import { DEFAULT_CODEC_LIMITS, type CodecLimits } from '../../src/codec.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createRandom, type Random } from '../../src/random.js';

/**
 * Options of the Redis transport. Every timing and limit has a default chosen for a LAN Redis; the
 * `testConfig` helpers of the test suites shorten the timers.
 *
 * Redis 6.2 or newer (XAUTOCLAIM). An ACL user confined to one cluster needs, e.g.
 * `ACL SETUSER node on >password ~cloudstackd:prod:* &cloudstackd:prod:* +@pubsub +@stream +@connection +info`
 * (PUBLISH, SUBSCRIBE, PUBSUB NUMSUB; XADD, XREADGROUP, XACK, XAUTOCLAIM, XGROUP; HELLO, PING, AUTH; INFO
 * for the ready check). A command refused by the ACL makes start() fail with an AuthError naming it.
 */
export interface RedisTransportOptions {
  /** This node's id (1–200 bytes of UTF-8). Names its channel and its durable stream. */
  nodeId: string;
  /**
   * The cluster this node belongs to: [A-Za-z0-9._-], 1–64 characters. Prefixes every channel and key,
   * and is mixed into the MAC key, so two clusters on one Redis never see each other's traffic.
   */
  clusterName: string;
  /** The shared cluster secret, at least 16 bytes. Every frame carries an HMAC-SHA256 keyed from it. */
  clusterSecret: string | Buffer;
  /**
   * Where Redis is: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. The user and
   * password are sent with AUTH (Redis 6 ACL users) when present. Default `redis://127.0.0.1:6379`.
   */
  url?: string;
  /** TLS settings (ca, cert, key, servername, rejectUnauthorized...) merged in for `rediss://` URLs. */
  tls?: ConnectionOptions;
  /** Namespace in front of the cluster name on every channel and key. Default `cloudstackd`. */
  keyPrefix?: string;
  /** Largest frame (one batch of envelopes, before the MAC header), bytes. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Deepest nesting of message bodies accepted when decoding. Default 64. */
  maxDepth?: number;
  /**
   * Envelopes to one node are batched per event-loop turn, but a batch reaching this many envelopes is
   * sent at once, so that the receiving process works on it while this one produces the rest. Default 512.
   */
  maxBatchEnvelopes?: number;
  /** Queued PUBLISH bytes that are written at once instead of at the end of the turn. Default 32 KiB. */
  earlyWriteBytes?: number;
  /** How often this node announces itself on the broadcast channel, ms. Default 500. */
  heartbeatIntervalMs?: number;
  /**
   * A peer not heard from for this long is down (its pending asks fail with PeerDownError), ms.
   * Must exceed 2 heartbeat intervals. Default 3,000. A silent peer is also probed with PUBSUB NUMSUB
   * after 1.5 heartbeat intervals, so a crashed process is usually detected within about 1 s.
   */
  peerTimeoutMs?: number;
  /** Frames whose timestamp is further than this from our clock are refused (replay bound), ms. Default 30,000. */
  maxClockSkewMs?: number;
  /** First reconnection delay after losing Redis, ms; doubles per attempt. Default 50. */
  reconnectBaseMs?: number;
  /**
   * Longest delay between reconnection attempts, ms (jittered down to half). Default 500: with it the
   * transport is subscribed again well within 2 s of Redis coming back.
   */
  reconnectMaxMs?: number;
  /** start() fails when Redis cannot be reached (or refuses the credentials) within this, ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Durable lane: approximate cap on each node's stream (XADD MAXLEN ~), entries. Default 100,000. */
  streamMaxLen?: number;
  /** Durable lane: an entry pending this long on a consumer is claimed by another (XAUTOCLAIM), ms. Default 30,000. */
  claimIdleMs?: number;
  /** Durable lane: how often idle pending entries are looked for, ms. Default 5,000. */
  claimIntervalMs?: number;
  /** Durable lane: entries read per XREADGROUP / XAUTOCLAIM. Default 256. */
  readBatch?: number;
  /** Durable lane: how long one XREADGROUP blocks waiting for entries, ms. Default 1,000. */
  readBlockMs?: number;
  /** Most senders whose frame sequence numbers are tracked (to count lost frames). Default 10,000. */
  maxTrackedSenders?: number;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

export interface ResolvedRedisOptions {
  nodeId: string;
  clusterName: string;
  clusterSecret: Buffer;
  url: string;
  tls: ConnectionOptions | undefined;
  keyPrefix: string;
  limits: CodecLimits;
  maxBatchEnvelopes: number;
  earlyWriteBytes: number;
  heartbeatIntervalMs: number;
  peerTimeoutMs: number;
  maxClockSkewMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
  streamMaxLen: number;
  claimIdleMs: number;
  claimIntervalMs: number;
  readBatch: number;
  readBlockMs: number;
  maxTrackedSenders: number;
  clock: Clock;
  random: Random;
  logger: Logger;
}

export const REDIS_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'cloudstackd',
  maxBatchEnvelopes: 512,
  earlyWriteBytes: 32_768,
  heartbeatIntervalMs: 500,
  peerTimeoutMs: 3_000,
  maxClockSkewMs: 30_000,
  reconnectBaseMs: 50,
  reconnectMaxMs: 500,
  connectTimeoutMs: 10_000,
  streamMaxLen: 100_000,
  claimIdleMs: 30_000,
  claimIntervalMs: 5_000,
  readBatch: 256,
  readBlockMs: 1_000,
  maxTrackedSenders: 10_000,
} as const;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`redis transport option ${name} must be a positive number, got ${v}`);
  return v;
}

/** Fills in defaults and refuses contradictory or unsafe options, naming the option at fault. */
export function resolveRedisOptions(o: RedisTransportOptions): ResolvedRedisOptions {
  if (typeof o.nodeId !== 'string' || o.nodeId.length === 0 || Buffer.byteLength(o.nodeId) > 200) {
    throw new ConfigError('redis transport option nodeId must be a non-empty string of at most 200 bytes');
  }
  if (!NAME.test(o.clusterName)) throw new ConfigError(`redis transport option clusterName "${o.clusterName}" must match ${NAME.source}`);
  const keyPrefix = o.keyPrefix ?? REDIS_DEFAULTS.keyPrefix;
  if (!NAME.test(keyPrefix)) throw new ConfigError(`redis transport option keyPrefix "${keyPrefix}" must match ${NAME.source}`);
  const clusterSecret = typeof o.clusterSecret === 'string' ? Buffer.from(o.clusterSecret) : o.clusterSecret;
  if (!Buffer.isBuffer(clusterSecret) || clusterSecret.length < 16) {
    throw new ConfigError('redis transport option clusterSecret must be at least 16 bytes (e.g. from --cluster-secret-file)');
  }
  const url = o.url ?? REDIS_DEFAULTS.url;
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`redis transport option url must start with redis:// or rediss://, got ${redactUrl(url)}`);
  const r: ResolvedRedisOptions = {
    nodeId: o.nodeId, clusterName: o.clusterName, clusterSecret, url, tls: o.tls, keyPrefix,
    limits: { maxFrameBytes: positive('maxFrameBytes', o.maxFrameBytes ?? DEFAULT_CODEC_LIMITS.maxFrameBytes),
      maxDepth: positive('maxDepth', o.maxDepth ?? DEFAULT_CODEC_LIMITS.maxDepth) },
    maxBatchEnvelopes: positive('maxBatchEnvelopes', o.maxBatchEnvelopes ?? REDIS_DEFAULTS.maxBatchEnvelopes),
    earlyWriteBytes: positive('earlyWriteBytes', o.earlyWriteBytes ?? REDIS_DEFAULTS.earlyWriteBytes),
    heartbeatIntervalMs: positive('heartbeatIntervalMs', o.heartbeatIntervalMs ?? REDIS_DEFAULTS.heartbeatIntervalMs),
    peerTimeoutMs: positive('peerTimeoutMs', o.peerTimeoutMs ?? REDIS_DEFAULTS.peerTimeoutMs),
    maxClockSkewMs: positive('maxClockSkewMs', o.maxClockSkewMs ?? REDIS_DEFAULTS.maxClockSkewMs),
    reconnectBaseMs: positive('reconnectBaseMs', o.reconnectBaseMs ?? REDIS_DEFAULTS.reconnectBaseMs),
    reconnectMaxMs: positive('reconnectMaxMs', o.reconnectMaxMs ?? REDIS_DEFAULTS.reconnectMaxMs),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs),
    streamMaxLen: positive('streamMaxLen', o.streamMaxLen ?? REDIS_DEFAULTS.streamMaxLen),
    claimIdleMs: positive('claimIdleMs', o.claimIdleMs ?? REDIS_DEFAULTS.claimIdleMs),
    claimIntervalMs: positive('claimIntervalMs', o.claimIntervalMs ?? REDIS_DEFAULTS.claimIntervalMs),
    readBatch: positive('readBatch', o.readBatch ?? REDIS_DEFAULTS.readBatch),
    readBlockMs: positive('readBlockMs', o.readBlockMs ?? REDIS_DEFAULTS.readBlockMs),
    maxTrackedSenders: positive('maxTrackedSenders', o.maxTrackedSenders ?? REDIS_DEFAULTS.maxTrackedSenders),
    clock: o.clock ?? createRealClock(), random: o.random ?? createRandom(), logger: o.logger ?? silentLogger,
  };
  if (r.peerTimeoutMs <= 2 * r.heartbeatIntervalMs) {
    throw new ConfigError(`redis transport option peerTimeoutMs (${r.peerTimeoutMs}) must exceed 2 × heartbeatIntervalMs (${r.heartbeatIntervalMs}), or live peers would be declared down`);
  }
  if (r.reconnectBaseMs > r.reconnectMaxMs) {
    throw new ConfigError(`redis transport option reconnectBaseMs (${r.reconnectBaseMs}) must not exceed reconnectMaxMs (${r.reconnectMaxMs})`);
  }
  return r;
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
