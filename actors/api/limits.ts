/**
 * Every resource the HTTP API holds is bounded by one of these options. Defaults are chosen for a lab
 * or a small deployment behind a load balancer; validated once when the server is created.
 *
 * Slow and idle connections (connection-guard.ts). Each connection has one deadline at a time, kept
 * by its own timer (Node's own header and request timeouts are only checked every
 * connectionsCheckingInterval, and a connection it times out was left half-open):
 *  - a new connection must deliver a whole request head within headersTimeoutMs of being accepted;
 *  - a request must be received whole (head and body) within requestTimeoutMs of its start;
 *  - after a response, a kept-alive connection must begin its next request within keepAliveTimeoutMs
 *    (plus keepAliveGraceMs) and complete its head within headersTimeoutMs of that response (the start of a request on a
 *    kept-alive connection counts from the end of the previous response, so that the time a client
 *    spent idle is not given back to it);
 *  - a connection serving a request has no deadline here: the data service calls have their own.
 * A request whose head arrived while an earlier one on the same connection was being served
 * (pipelining) is held to keepAliveTimeoutMs from that response if its head is still incomplete.
 *
 * When the table is full (maxConnections) or a newcomer's address is at maxConnectionsPerAddress,
 * the oldest idle or incomplete connection — of the newcomer's own address, or else of the address
 * holding the most connections — is closed to admit the newcomer, instead of refusing it; the
 * newcomer is refused (503) only when every candidate is serving a request. Refusing newcomers would
 * let whoever fills the table first keep everyone else out for as long as it likes (one process with
 * 1,100 half-sent requests did exactly that); evicting the oldest waiting connection means a flood of
 * slow clients only ever competes with itself, and a real client, whose request arrives in one go, is
 * never the one that has waited longest. The reasoning per step is in src/net/connection-table.ts.
 */
import { ConfigError } from '../../src/errors.js';

export interface ApiServerLimits {
  /** Largest request body accepted, bytes. Larger gets a 431 error and the connection is closed. Default 1 MiB. */
  readonly maxBodyBytes: number;
  /**
   * Of an oversized body, how many further bytes are read and discarded so the client can read the
   * error reply before the connection closes; beyond this the connection is cut. Default 8 MiB.
   */
  readonly maxDrainBytes: number;
  /** Largest request head (request line plus headers), bytes; larger gets 431. Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Most parameters in one request (query plus body); more gets 431. Default 10,000. */
  readonly maxParameters: number;
  /** Time to receive a whole request (head and body) from its start, ms; slower gets 408 and is closed. Default 30 s. */
  readonly requestTimeoutMs: number;
  /** Time to receive a request head, ms; slower gets 408 and is closed. At most requestTimeoutMs. Default 10 s. */
  readonly headersTimeoutMs: number;
  /**
   * How long a kept-alive connection may stay idle after a response, ms (advertised to clients in
   * `Keep-Alive: timeout=`, in whole seconds). Default 5 s.
   */
  readonly keepAliveTimeoutMs: number;
  /**
   * How much longer than the advertised keepAliveTimeoutMs an idle connection is actually kept, ms, so
   * that a client reusing it just before the advertised time is not cut mid-request (Node's own server
   * waits the same extra second). Default 1,000.
   */
  readonly keepAliveGraceMs: number;
  /**
   * Most simultaneous connections. A newcomer beyond it evicts the oldest idle or incomplete
   * connection of the heaviest source address (see above); it is refused with 503 only when every
   * connection is serving a request. Keep it well under the process's open-files limit
   * (`ulimit -n`). Default 1,024.
   */
  readonly maxConnections: number;
  /**
   * Most simultaneous connections from one source address (IPv6: one /64). A newcomer beyond it
   * evicts that address's own oldest idle or incomplete connection, so one client cannot take the
   * whole table. At most maxConnections. Behind a load balancer (every connection from its address)
   * set it to maxConnections. Default 512 (half the default table: others always find room).
   */
  readonly maxConnectionsPerAddress: number;
  /**
   * Shortest time between two log lines (warn) about shed and timed-out connections, ms: events are
   * counted and summed into one line per interval so that a flood cannot flood the log. Default 10 s.
   */
  readonly connectionLogIntervalMs: number;
  /** Requests served on one keep-alive connection before it is closed. Default 1,000. */
  readonly maxRequestsPerSocket: number;
  /** How long close() waits for in-flight requests before cutting connections, ms. Default 10 s. */
  readonly closeTimeoutMs: number;
  /**
   * A streamed answer (pagesize=-1) whose client reads nothing for this long is cut, ms, so that a
   * stalled reader does not hold a data read open forever. Default 60 s.
   */
  readonly streamStallTimeoutMs: number;
}

export const DEFAULT_LIMITS: ApiServerLimits = {
  maxBodyBytes: 1024 * 1024,
  maxDrainBytes: 8 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxParameters: 10_000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  keepAliveGraceMs: 1_000,
  maxConnections: 1_024,
  maxConnectionsPerAddress: 512,
  connectionLogIntervalMs: 10_000,
  maxRequestsPerSocket: 1_000,
  closeTimeoutMs: 10_000,
  streamStallTimeoutMs: 60_000,
};

export function validateLimits(l: ApiServerLimits): ApiServerLimits {
  for (const [name, value] of Object.entries(l) as [keyof ApiServerLimits, number][]) {
    const allowZero = name === 'maxDrainBytes' || name === 'keepAliveGraceMs';
    if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
      throw new ConfigError(`limits.${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
    }
  }
  if (l.headersTimeoutMs > l.requestTimeoutMs) {
    throw new ConfigError('limits.headersTimeoutMs must not exceed limits.requestTimeoutMs');
  }
  if (l.maxConnectionsPerAddress > l.maxConnections) {
    throw new ConfigError('limits.maxConnectionsPerAddress must not exceed limits.maxConnections');
  }
  return l;
}

/** Reason phrases for CloudStack's codes (Node knows none for 430, 432 or 53x). */
export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  405: 'Method Not Allowed',
  430: 'Malformed Parameter',
  431: 'Parameter Error',
  432: 'Unsupported Action',
  530: 'Internal Error',
  531: 'Account Error',
  532: 'Account Resource Limit Error',
  533: 'Insufficient Capacity',
  534: 'Resource Unavailable',
  535: 'Resource Allocation Error',
  536: 'Resource In Use',
  537: 'Network Rule Conflict',
};
