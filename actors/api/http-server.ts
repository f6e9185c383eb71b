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
import { createDispatcher } from './dispatch.js';
import { installHandlers } from './http-handlers.js';
import { DEFAULT_LIMITS, validateLimits, type ApiServerLimits } from './limits.js';
import { createListApisCommand } from './list-apis.js';
import { SessionStore, memorySessions, type SessionOptions, type Sessions } from './sessions.js';
import type { Credentials } from './types.js';

export { API_PATH } from './http-handlers.js';
export { DEFAULT_LIMITS, type ApiServerLimits } from './limits.js';

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
  /** Where unexpected handler failures are logged (with their stack). Default: errors to stderr. */
  readonly logger?: Logger;
}

export interface ApiServer {
  /** Starts listening; resolves with the bound port. A port in use rejects with a ConfigError. */
  listen(): Promise<{ port: number }>;
  /** Stops accepting, lets in-flight requests finish (up to limits.closeTimeoutMs), then resolves. */
  close(): Promise<void>;
  /** The command table served, listApis/login/logout included. */
  readonly table: CommandTable;
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
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node enforces the two timeouts on this period; a quarter of the shorter keeps them close to exact.
    connectionsCheckingInterval: Math.max(100, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4),
  });
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  let closing = false;
  installHandlers(server, { dispatcher, limits, cloudStackVersion, nextRequestId: createIdGenerator(), isClosing: () => closing,
    ...(options.logger === undefined ? {} : { logger: options.logger }) });
  return createLifecycle(server, clock, limits, options, table, () => { closing = true; });
}

function createLifecycle(server: Server, clock: Clock, limits: ApiServerLimits, options: ApiServerOptions,
  table: CommandTable, markClosing: () => void): ApiServer {
  let closed: Promise<void> | undefined;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  return {
    table,
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
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
