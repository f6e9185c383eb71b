import { createRealClock, type Clock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createRandom, type Random } from '../../src/random.js';
import type { BackoffOptions } from './backoff.js';
import type { WsTlsOptions } from './tls.js';

/**
 * What to do when a peer's socket has more than `highWaterMarkBytes` waiting to be written:
 * - 'hold': keep new frames in this transport (not in the socket) until the socket drains, up to
 *   `maxHeldBytes`; past that, new envelopes fail with BackPressureError.
 * - 'error': new envelopes for that peer fail at once with BackPressureError (retryable).
 */
export type BackPressurePolicy = 'hold' | 'error';

export interface WsBackPressureOptions {
  /** Bytes buffered in a peer's socket above which that peer counts as congested. Default 4 MiB. */
  highWaterMarkBytes?: number;
  /** What congestion does to senders. Default 'hold'. */
  policy?: BackPressurePolicy;
  /**
   * Most bytes of encoded frames held per peer (while congested, or while the connection is being
   * established or re-established). Further envelopes fail with BackPressureError. Default 16 MiB.
   */
  maxHeldBytes?: number;
  /** Most envelopes queued per peer within one event-loop turn before they are framed. Default 100,000. */
  maxQueuedEnvelopes?: number;
}

export interface WsTransportOptions {
  /** This node's id (1-256 printable characters). Peers know this node by it. */
  nodeId: string;
  /** Nodes only connect to nodes of the same cluster name, so two clusters never mix. */
  clusterName: string;
  /**
   * The shared cluster secret (at least 16 bytes). Both ends of every connection prove they hold it
   * (HMAC-SHA256) before any message passes. Generate one with `openssl rand -hex 32`.
   */
  clusterSecret: string | Buffer;
  /** Interface to listen on. Default '127.0.0.1' (loopback only). */
  host?: string;
  /** Port to listen on; 0 picks a free one (address() reports the real one). Default 0. */
  port?: number;
  /** Address peers should dial (e.g. when listening on 0.0.0.0). Default: derived from host and the bound port. */
  advertiseAddress?: string;
  /** Largest frame sent or accepted, bytes. A larger incoming frame closes the connection with 1009. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Deepest array/map nesting accepted in a frame. Default 64. */
  maxDepth?: number;
  /** Ping period, ms. A peer that sends nothing (not even a pong) for 2 periods is dropped. Default 5,000. */
  pingIntervalMs?: number;
  /**
   * How long a lost (or not yet established) connection may take to come back before the peer is
   * declared down, ms: then its queued envelopes fail and asks pending on it fail with PeerDownError.
   * Default 3,000.
   */
  peerDownGraceMs?: number;
  /**
   * Longest time a connection may take to complete the handshake, ms: an incoming connection must be
   * authenticated (TLS, WebSocket upgrade and cluster handshake) within this time of its TCP accept,
   * and an outgoing dial within this time of its start. Default 5,000.
   */
  handshakeTimeoutMs?: number;
  /** Largest accepted difference between a peer's handshake timestamp and this clock, ms. Default 30,000. */
  maxClockSkewMs?: number;
  /**
   * Most incoming connections not yet authenticated at once, counted from their TCP accept. A newcomer
   * beyond it (or beyond maxPendingHandshakesPerAddress) closes the oldest pending connection of its
   * own address, or else of the address with the most pending, instead of being refused: connections
   * that never finish the handshake cannot keep a real peer out (see pending-guard.ts). Default 64.
   */
  maxPendingHandshakes?: number;
  /** Most pending connections from one source address (IPv6: one /64); at most maxPendingHandshakes. Default 16. */
  maxPendingHandshakesPerAddress?: number;
  /**
   * Shortest time between two log lines about handshakes that timed out, failed or were shed, ms:
   * they are counted and summed into one line per interval so that a flood cannot flood the log. Default 10,000.
   */
  connectionLogIntervalMs?: number;
  /** How long stop() waits for connections to close cleanly before cutting them, ms. Default 2,000. */
  closeTimeoutMs?: number;
  /** Reconnect delays (capped exponential backoff with jitter). */
  reconnect?: BackoffOptions;
  backPressure?: WsBackPressureOptions;
  /** TLS (wss://): certificates, CA, and whether peers must present a client certificate. Default: plain ws://. */
  tls?: WsTlsOptions;
  clock?: Clock;
  /** Randomness for backoff jitter (nonces always come from the OS's secure source). */
  random?: Random;
  logger?: Logger;
}

export interface ResolvedWsOptions {
  nodeId: string;
  clusterName: string;
  secret: Buffer;
  host: string;
  port: number;
  advertiseAddress: string | undefined;
  maxFrameBytes: number;
  maxDepth: number;
  pingIntervalMs: number;
  peerDownGraceMs: number;
  handshakeTimeoutMs: number;
  maxClockSkewMs: number;
  maxPendingHandshakes: number;
  maxPendingHandshakesPerAddress: number;
  connectionLogIntervalMs: number;
  closeTimeoutMs: number;
  reconnect: Required<BackoffOptions>;
  highWaterMarkBytes: number;
  policy: BackPressurePolicy;
  maxHeldBytes: number;
  maxQueuedEnvelopes: number;
  tls: WsTlsOptions | undefined;
  clock: Clock;
  random: Random;
  log: Logger;
}

export const WS_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxFrameBytes: 1_048_576,
  maxDepth: 64,
  pingIntervalMs: 5_000,
  peerDownGraceMs: 3_000,
  handshakeTimeoutMs: 5_000,
  // The handshake timestamp only has to stop replays of old handshakes; 30 s tolerates NTP drift.
  maxClockSkewMs: 30_000,
  maxPendingHandshakes: 64,
  // A real address has one pending handshake per node behind it while they dial; 16 leaves room for a
  // NAT gateway in front of several nodes and keeps one address to a quarter of the table.
  maxPendingHandshakesPerAddress: 16,
  connectionLogIntervalMs: 10_000,
  closeTimeoutMs: 2_000,
  reconnect: { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.5 },
  highWaterMarkBytes: 4 * 1_048_576,
  policy: 'hold' as BackPressurePolicy,
  maxHeldBytes: 16 * 1_048_576,
  maxQueuedEnvelopes: 100_000,
};

const MIN_SECRET_BYTES = 16;
// Ids travel in handshakes and log lines: printable, no separators that could confuse either.
const ID_RE = /^[\x21-\x7e]{1,256}$/;

function positiveInt(name: string, v: number | undefined, def: number, min = 1): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`ws transport option ${name} must be an integer >= ${min} (got ${String(v)})`);
  return n;
}

function secretOf(s: string | Buffer | undefined): Buffer {
  const secret = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (secret === undefined || secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`ws transport needs clusterSecret of at least ${MIN_SECRET_BYTES} bytes (generate one with \`openssl rand -hex 32\`)`);
  }
  return Buffer.from(secret);
}

function resolveReconnect(r: BackoffOptions | undefined): Required<BackoffOptions> {
  const d = WS_DEFAULTS.reconnect;
  const out = {
    initialMs: positiveInt('reconnect.initialMs', r?.initialMs, d.initialMs),
    maxMs: positiveInt('reconnect.maxMs', r?.maxMs, d.maxMs),
    factor: r?.factor ?? d.factor,
    jitter: r?.jitter ?? d.jitter,
  };
  if (out.maxMs < out.initialMs) throw new ConfigError('ws transport option reconnect.maxMs must be >= reconnect.initialMs');
  if (!(out.factor >= 1)) throw new ConfigError('ws transport option reconnect.factor must be >= 1');
  if (!(out.jitter >= 0 && out.jitter <= 1)) throw new ConfigError('ws transport option reconnect.jitter must be between 0 and 1');
  return out;
}

/** Applies defaults and checks every option once; a bad or contradictory option throws ConfigError naming it. */
export function resolveWsOptions(o: WsTransportOptions): ResolvedWsOptions {
  if (typeof o.nodeId !== 'string' || !ID_RE.test(o.nodeId)) throw new ConfigError('ws transport option nodeId must be 1-256 printable characters without spaces');
  if (typeof o.clusterName !== 'string' || !ID_RE.test(o.clusterName)) throw new ConfigError('ws transport option clusterName must be 1-256 printable characters without spaces');
  const d = WS_DEFAULTS;
  const bp = o.backPressure ?? {};
  const r: ResolvedWsOptions = {
    nodeId: o.nodeId,
    clusterName: o.clusterName,
    secret: secretOf(o.clusterSecret),
    host: o.host ?? d.host,
    port: positiveInt('port', o.port, d.port, 0),
    advertiseAddress: o.advertiseAddress,
    maxFrameBytes: positiveInt('maxFrameBytes', o.maxFrameBytes, d.maxFrameBytes, 1024),
    maxDepth: positiveInt('maxDepth', o.maxDepth, d.maxDepth),
    pingIntervalMs: positiveInt('pingIntervalMs', o.pingIntervalMs, d.pingIntervalMs),
    peerDownGraceMs: positiveInt('peerDownGraceMs', o.peerDownGraceMs, d.peerDownGraceMs),
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', o.handshakeTimeoutMs, d.handshakeTimeoutMs),
    maxClockSkewMs: positiveInt('maxClockSkewMs', o.maxClockSkewMs, d.maxClockSkewMs),
    maxPendingHandshakes: positiveInt('maxPendingHandshakes', o.maxPendingHandshakes, d.maxPendingHandshakes),
    maxPendingHandshakesPerAddress: positiveInt('maxPendingHandshakesPerAddress', o.maxPendingHandshakesPerAddress,
      Math.min(d.maxPendingHandshakesPerAddress, o.maxPendingHandshakes ?? d.maxPendingHandshakes)),
    connectionLogIntervalMs: positiveInt('connectionLogIntervalMs', o.connectionLogIntervalMs, d.connectionLogIntervalMs),
    closeTimeoutMs: positiveInt('closeTimeoutMs', o.closeTimeoutMs, d.closeTimeoutMs),
    reconnect: resolveReconnect(o.reconnect),
    highWaterMarkBytes: positiveInt('backPressure.highWaterMarkBytes', bp.highWaterMarkBytes, d.highWaterMarkBytes),
    policy: bp.policy ?? d.policy,
    maxHeldBytes: positiveInt('backPressure.maxHeldBytes', bp.maxHeldBytes, d.maxHeldBytes),
    maxQueuedEnvelopes: positiveInt('backPressure.maxQueuedEnvelopes', bp.maxQueuedEnvelopes, d.maxQueuedEnvelopes),
    tls: o.tls,
    clock: o.clock ?? createRealClock(),
    random: o.random ?? createRandom(),
    log: (o.logger ?? createLogger('info')).child({ transport: 'ws' }),
  };
  if (r.maxPendingHandshakesPerAddress > r.maxPendingHandshakes) {
    throw new ConfigError('ws transport option maxPendingHandshakesPerAddress must be <= maxPendingHandshakes');
  }
  if (r.port > 65535) throw new ConfigError('ws transport option port must be between 0 and 65535');
  if (r.policy !== 'hold' && r.policy !== 'error') throw new ConfigError("ws transport option backPressure.policy must be 'hold' or 'error'");
  if (r.maxHeldBytes < r.maxFrameBytes) {
    throw new ConfigError('ws transport option backPressure.maxHeldBytes must be >= maxFrameBytes (a full frame must fit while a connection is re-established)');
  }
  if (r.tls !== undefined && (r.tls.cert === undefined || r.tls.key === undefined)) {
    throw new ConfigError('ws transport option tls needs both cert and key (PEM)');
  }
  return r;
}
