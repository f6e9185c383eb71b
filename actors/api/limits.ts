/**
 * Every resource the HTTP API holds is bounded by one of these options. Defaults are chosen for a lab
 * or a small deployment behind a load balancer; validated once when the server is created.
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
  /** Time to receive a whole request, ms. Default 30 s. */
  readonly requestTimeoutMs: number;
  /** Time to receive the request head, ms; at most requestTimeoutMs. Default 10 s. */
  readonly headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, ms. Default 5 s. */
  readonly keepAliveTimeoutMs: number;
  /** Most simultaneous connections; more are refused. Default 1,024. */
  readonly maxConnections: number;
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
  maxConnections: 1_024,
  maxRequestsPerSocket: 1_000,
  closeTimeoutMs: 10_000,
  streamStallTimeoutMs: 60_000,
};

export function validateLimits(l: ApiServerLimits): ApiServerLimits {
  for (const [name, value] of Object.entries(l) as [keyof ApiServerLimits, number][]) {
    const allowZero = name === 'maxDrainBytes';
    if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
      throw new ConfigError(`limits.${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
    }
  }
  if (l.headersTimeoutMs > l.requestTimeoutMs) {
    throw new ConfigError('limits.headersTimeoutMs must not exceed limits.requestTimeoutMs');
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
