/**
 * The HTTP side of the API: Node's http server on `/client/api` (GET and POST form bodies), with every
 * resource bounded by a named option, and a graceful close that lets in-flight requests finish.
 * Everything CloudStack-specific happens in the dispatcher; this file only moves bytes.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createRealClock, type Clock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createIdGenerator } from '../../src/ids.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { DEFAULT_AUTH_OPTIONS, loginCommand, logoutCommand, parseCookies, type AuthOptions } from './auth.js';
import { createCommandTable, type CommandDefinition, type CommandTable } from './command-table.js';
import { createDispatcher, type ApiReply, type Dispatcher } from './dispatch.js';
import { ApiError, ApiErrorCode } from './error-map.js';
import { errorPayload } from './envelope.js';
import { createListApisCommand } from './list-apis.js';
import { mergeParams } from './params.js';
import { readBody, type BodyLimits } from './read-body.js';
import { renderXml } from './render-xml.js';
import { SessionStore, type SessionOptions } from './sessions.js';
import type { Credentials } from './types.js';
import { REASONS, validateLimits, type ApiServerLimits, DEFAULT_LIMITS } from './limits.js';

export { DEFAULT_LIMITS, type ApiServerLimits } from './limits.js';

export interface ApiServerOptions {
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** The commands served; listApis, login and logout are added. */
  readonly commands: readonly CommandDefinition[];
  readonly credentials: Credentials;
  /** Default: the real clock. */
  readonly clock?: Clock;
  readonly limits?: Partial<ApiServerLimits>;
  readonly sessions?: Partial<SessionOptions>;
  readonly auth?: Partial<AuthOptions>;
  /** default.page.size: default and maximum rows per page of a list. Default 500. */
  readonly maxPageSize?: number;
  /** Reported in XML's `cloud-stack-version`. Default 4.20.0.0. */
  readonly cloudStackVersion?: string;
  /** Render `"success":"true"` (old servers) instead of a boolean. Default false. */
  readonly successAsString?: boolean;
  /** Default: errors to stderr. */
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

export const API_PATH = '/client/api';

/** The full table: the given commands plus listApis (which describes this same table), login and logout. */
export function buildCommandTable(commands: readonly CommandDefinition[]): CommandTable {
  let table: CommandTable | undefined;
  const listApis = createListApisCommand(() => table!);
  table = createCommandTable([...commands, listApis, loginCommand, logoutCommand]);
  return table;
}

function writeReply(res: ServerResponse, reply: ApiReply, closeAfter: boolean): void {
  const headers: OutgoingHttpHeaders = {
    'Content-Type': reply.contentType,
    'Content-Length': String(Buffer.byteLength(reply.body, 'utf8')),
    'Cache-Control': 'no-cache, no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  for (const [name, value] of Object.entries(reply.headers)) headers[name] = typeof value === 'string' ? value : [...value];
  if (closeAfter) headers['Connection'] = 'close';
  res.writeHead(reply.status, REASONS[reply.status] ?? 'Error', headers);
  res.end(reply.body);
}

/** The reply to a malformed or oversized request head, written on the raw socket (XML: no `response` known). */
function headerOverflowResponse(version: string): string {
  const body = renderXml('errorresponse', errorPayload({
    uuidList: [], errorcode: 431, cserrorcode: 9999, errortext: 'Request headers are too large',
  }), version);
  return `HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/xml; charset=UTF-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function isForm(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type === undefined || type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const limits = validateLimits({ ...DEFAULT_LIMITS, ...options.limits });
  const clock = options.clock ?? createRealClock();
  const version = options.cloudStackVersion ?? '4.20.0.0';
  const table = buildCommandTable(options.commands);
  const maxPageSize = options.maxPageSize ?? 500;
  if (!Number.isInteger(maxPageSize) || maxPageSize < 1) throw new ConfigError('maxPageSize must be a positive integer');
  const dispatcher: Dispatcher = createDispatcher({
    table,
    credentials: options.credentials,
    clock,
    sessions: new SessionStore(clock, options.sessions),
    auth: { ...DEFAULT_AUTH_OPTIONS, ...options.auth },
    maxPageSize,
    cloudStackVersion: version,
    successAsString: options.successAsString === true,
    logger: options.logger ?? createLogger('error'),
  });
  const nextId = createIdGenerator();
  const bodyLimits: BodyLimits = { maxBodyBytes: limits.maxBodyBytes, maxDrainBytes: limits.maxDrainBytes };
  let closing = false;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (path !== API_PATH) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8', Connection: closing ? 'close' : 'keep-alive' });
      res.end(`Not found: the CloudStack API is at ${API_PATH}\n`);
      return;
    }
    const queryPairs = mergeParams(query, undefined);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
      req.resume();
      const err = new ApiError(ApiErrorCode.METHOD_NOT_ALLOWED, `HTTP method ${method} is not supported; use GET or POST`);
      writeReply(res, dispatcher.reject(queryPairs, err), closing);
      return;
    }
    const body = await readBody(req, bodyLimits);
    if (body.kind === 'aborted') return;
    if (body.kind === 'too-large') {
      const err = new ApiError(ApiErrorCode.PARAM_ERROR,
        `The request body is larger than ${limits.maxBodyBytes} bytes; send less data per request`);
      writeReply(res, dispatcher.reject(queryPairs, err), true);
      if (!body.drained) res.once('finish', () => req.socket.destroy());
      return;
    }
    const pairs = mergeParams(query, method === 'POST' && isForm(req) ? body.text : undefined);
    if (pairs.length > limits.maxParameters) {
      const err = new ApiError(ApiErrorCode.PARAM_ERROR, `The request has more than ${limits.maxParameters} parameters`);
      writeReply(res, dispatcher.reject(queryPairs, err), closing);
      return;
    }
    const reply = await dispatcher.dispatch({ method, pairs, cookies: parseCookies(req.headers.cookie), requestId: nextId() });
    writeReply(res, reply, closing);
  }

  const server: Server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4),
  });
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch((err: unknown) => {
      // serve() renders every API error itself; reaching here means the socket failed under us.
      if (!res.headersSent) {
        res.writeHead(500, { Connection: 'close' });
        res.end();
      } else res.destroy(err instanceof Error ? err : undefined);
    });
  };
  server.on('request', onRequest);
  // With `Expect: 100-continue`, refuse an oversized body before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > limits.maxBodyBytes) {
      const err = new ApiError(ApiErrorCode.PARAM_ERROR, `The request body is larger than ${limits.maxBodyBytes} bytes; send less data per request`);
      writeReply(res, dispatcher.reject(mergeParams((req.url ?? '').split('?')[1] ?? '', undefined), err), true);
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const response = err.code === 'HPE_HEADER_OVERFLOW' ? headerOverflowResponse(version)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
        : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
    socket.end(response);
  });

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
