import { Redis } from 'ioredis';
import { AuthError, CloudstackdError, ResourceUnavailableError } from '../../src/errors.js';
import type { Random } from '../../src/random.js';
import { redactUrl, type ResolvedRedisOptions } from './options.js';

/**
 * The three connections of a node: `cmd` for everything that answers (PUBLISH, XADD, XACK...),
 * auto-pipelined so that all the commands of one event-loop turn leave in one write; `sub` for
 * SUBSCRIBE, which takes a connection over; `block` for the blocking XREADGROUP of the durable lane.
 */
export type ConnectionRole = 'cmd' | 'sub' | 'block';

/**
 * Delay before reconnection attempt `times` (1, 2, ...): exponential from `baseMs`, capped at `maxMs`,
 * with jitter down to half so that many nodes do not reconnect in lockstep after a Redis restart.
 */
export function reconnectDelay(times: number, baseMs: number, maxMs: number, random: Random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, times - 1)));
  return Math.max(1, Math.round(full * (0.5 + 0.5 * random.next())));
}

export function createConnection(role: ConnectionRole, o: ResolvedRedisOptions): Redis {
  const tls = o.tls !== undefined || o.url.startsWith('rediss://') ? { tls: { ...(o.tls ?? {}) } } : {};
  return new Redis(o.url, {
    lazyConnect: true,
    connectionName: `cloudstackd:${o.clusterName}:${o.nodeId}:${role}`.replace(/\s/g, '_'),
    retryStrategy: (times) => reconnectDelay(times, o.reconnectBaseMs, o.reconnectMaxMs, o.random),
    connectTimeout: o.connectTimeoutMs,
    // Nothing waits for Redis to come back: a command while disconnected fails at once, and commands in
    // flight when the connection drops fail at the first reconnection attempt (their effect is unknown;
    // pub/sub is at-most-once and the durable lane is retried by its caller).
    enableOfflineQueue: role === 'sub',
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The transport resubscribes itself, so that it knows when it is subscribed again.
    autoResubscribe: false,
    enableAutoPipelining: role === 'cmd',
    disableClientInfo: true,
    ...tls,
  });
}

const AUTH_PATTERN = /WRONGPASS|NOAUTH|NOPERM|invalid username-password|invalid password/i;

/** True for errors meaning the credentials (or the ACL user's rights) are wrong: retrying cannot help. */
export function isAuthFailure(err: unknown): boolean {
  return err instanceof Error && AUTH_PATTERN.test(err.message);
}

/**
 * Connects, retrying (per the reconnect strategy) until `connectTimeoutMs`, and turns a failure into a
 * message that says what to fix. ioredis rejects connect() with a bare "Connection is closed." and
 * reports the cause through 'error' events, so those are watched. Wrong credentials fail at once.
 */
export async function connectOrExplain(conn: Redis, o: ResolvedRedisOptions): Promise<void> {
  const where = redactUrl(o.url);
  let last: Error | undefined;
  let onError: (err: Error) => void = () => undefined;
  let onReady: () => void = () => undefined;
  let timer: { cancel(): void } | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onError = (err) => {
        last = err;
        if (!isAuthFailure(err)) return;
        const user = new URL(o.url).username || 'default';
        reject(new AuthError(`redis at ${where} refused user "${user}": ${err.message.trim()} — check the user and password in the redis URL and the user's ACL rules`, { cause: err }));
      };
      conn.on('error', onError);
      conn.once('ready', onReady);
      timer = o.clock.setTimeout(() => reject(new ResourceUnavailableError(
        `cannot connect to redis at ${where} within ${o.connectTimeoutMs} ms${last ? `: ${last.message}` : ''} — is redis-server running and reachable?${
          o.url.startsWith('rediss://') ? ' Do the tls options (ca, and cert/key when it requires client certificates) match its TLS setup?' : ''}`,
        { cause: last })), o.connectTimeoutMs);
      conn.connect().catch(() => { /* reconnection continues; the 'error' events say why */ });
    });
  } finally {
    timer?.cancel();
    conn.off('error', onError);
    conn.off('ready', onReady);
  }
}

/** A command refused during start-up (SUBSCRIBE, XGROUP...) by the ACL becomes an AuthError that says so. */
export function explainStartFailure(err: unknown, o: ResolvedRedisOptions): unknown {
  if (err instanceof CloudstackdError || !isAuthFailure(err)) return err;
  const user = new URL(o.url).username || 'default';
  return new AuthError(`redis at ${redactUrl(o.url)} refused a command to user "${user}": ${(err as Error).message} — check the user's ACL rules (see RedisTransportOptions)`, { cause: err });
}
