/**
 * The API server: Node's http server on `/client/api` (GET and POST form bodies), every resource
 * bounded by a named option (limits.ts), and a graceful close that lets in-flight requests finish.
 * Everything CloudStack-specific happens in the dispatcher; http-handlers.ts moves the bytes.
 */
import { createServer, type Server } from 'node:http';
import { createRealClock, type Clock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createIdGenerator } from '../../src/ids.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { DEFAULT_AUTH_OPTIONS, loginCommand, logoutCommand, type AuthOptions } from './auth.js';
import { createCommandTable, type CommandDefinition, type CommandTable } from './command-table.js';
import { guardConnections, type ApiConnectionStats, type ConnectionGuard } from './connection-guard.js';
import { createDispatcher } from './dispatch.js';
import { installHandlers } from './http-handlers.js';
import { DEFAULT_LIMITS, validateLimits, type ApiServerLimits } from './limits.js';
import { createListApisCommand } from './list-apis.js';
import { SessionStore, memorySessions, type SessionOptions, type Sessions } from './sessions.js';
import type { Credentials } from './types.js';

export { API_PATH } from './http-handlers.js';
export { DEFAULT_LIMITS, type ApiServerLimits } from './limits.js';
export type { ApiConnectionStats } from './connection-guard.js';

export interface ApiServerOptions {
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** The commands served; listApis, login and logout are added. */
  readonly commands: readonly CommandDefinition[];
  readonly credentials: Credentials;
  /** Default: the real clock. Used for `expires` checks, sessions and the close timeout. */
  readonly clock?: Clock;
  readonly limits?: Partial<ApiServerLimits>;
  readonly sessions?: Partial<SessionOptions>;
  /** Sessions shared by every API instance (kept in the data service). Default: this server's own, in memory. */
  readonly sharedSessions?: Sessions;
  readonly auth?: Partial<AuthOptions>;
  /** default.page.size: default and maximum rows per page of a list. Default 500. */
  readonly maxPageSize?: number;
  /** Reported in XML's `cloud-stack-version`. Default 4.20.0.0. */
  readonly cloudStackVersion?: string;
  /** Render `"success":"true"` (old servers) instead of a boolean. Default false. */
  readonly successAsString?: boolean;
  /** Where unexpected handler failures (with their stack) and, rate-limited, shed or timed-out connections are logged. Default: stderr (errors; connection warnings). */
  readonly logger?: Logger;
  /** Called after each API answer with the command (or '' when none was named), the HTTP status and the time taken, ms (metrics). */
  readonly onRequest?: (command: string, status: number, ms: number) => void;
}

export interface ApiServer {
  /** Starts listening; resolves with the bound port. A port in use rejects with a ConfigError. */
  listen(): Promise<{ port: number }>;
  /** Stops accepting, lets in-flight requests finish (up to limits.closeTimeoutMs), then resolves. */
  close(): Promise<void>;
  /** The command table served, listApis/login/logout included. */
  readonly table: CommandTable;
  /** Connections open, admitted, shed and timed out (see limits.ts for the policy). */
  connectionStats(): ApiConnectionStats;
}

/** The full table: the given commands plus listApis (which describes this same table), login and logout. */
export function buildCommandTable(commands: readonly CommandDefinition[]): CommandTable {
  let table: CommandTable | undefined;
  const listApis = createListApisCommand(() => table!);
  table = createCommandTable([...commands, listApis, loginCommand, logoutCommand]);
  return table;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const limits = validateLimits({ ...DEFAULT_LIMITS, ...options.limits });
  const clock = options.clock ?? createRealClock();
  const cloudStackVersion = options.cloudStackVersion ?? '4.20.0.0';
  const maxPageSize = options.maxPageSize ?? 500;
  if (!Number.isInteger(maxPageSize) || maxPageSize < 1) throw new ConfigError('maxPageSize must be a positive integer');
  const table = buildCommandTable(options.commands);
  const dispatcher = createDispatcher({
    table,
    credentials: options.credentials,
    clock,
    sessions: options.sharedSessions ?? memorySessions(new SessionStore(clock, options.sessions)),
    auth: { ...DEFAULT_AUTH_OPTIONS, ...options.auth },
    maxPageSize,
    cloudStackVersion,
    successAsString: options.successAsString === true,
    logger: options.logger ?? createLogger('error'),
  });
  const server: Server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    // The guard keeps the header, request and keep-alive deadlines with a timer per connection; Node's
    // own checks (run every connectionsCheckingInterval) are off. keepAliveTimeout stays set so that
    // replies advertise it (`Keep-Alive: timeout=`); Node's timer for it runs a second later than the guard's.
    requestTimeout: 0,
    headersTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  });
  // No server.maxConnections: Node would refuse newcomers past it, which is what let one client lock
  // everyone out; the guard admits, evicts and refuses by the policy of limits.ts instead.
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  const guard = guardConnections(server, { limits, clock, logger: options.logger ?? createLogger('warn') });
  let closing = false;
  installHandlers(server, { dispatcher, limits, cloudStackVersion, nextRequestId: createIdGenerator(), isClosing: () => closing,
    ...(options.logger === undefined ? {} : { logger: options.logger }), ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }) });
  return createLifecycle(server, clock, limits, options, table, guard, () => { closing = true; });
}

function createLifecycle(server: Server, clock: Clock, limits: ApiServerLimits, options: ApiServerOptions,
  table: CommandTable, guard: ConnectionGuard, markClosing: () => void): ApiServer {
  let closed: Promise<void> | undefined;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  return {
    table,
    connectionStats: () => guard.stats(),
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          const what = err.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use; choose another port`
            : `cannot listen on ${host}:${port} (${err.code ?? err.message})`;
          reject(new ConfigError(what, { cause: err }));
        };
        server.once('error', onError);
        server.listen({ host, port }, () => {
          server.off('error', onError);
          const addr = server.address();
          resolve({ port: typeof addr === 'object' && addr !== null ? addr.port : port });
        });
      });
    },
    close() {
      if (closed !== undefined) return closed;
      markClosing();
      closed = new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        // In-flight requests finish (their replies carry Connection: close); idle keep-alives go now.
        const force = clock.setTimeout(() => server.closeAllConnections(), limits.closeTimeoutMs);
        server.close(() => {
          force.cancel();
          resolve();
        });
        // Node's closeIdleConnections() leaves connections that have sent nothing, or half a request.
        guard.beginClose();
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
