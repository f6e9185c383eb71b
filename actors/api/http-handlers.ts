/**
 * The Node http event handlers of the API server: one request in, the dispatcher's reply out, with
 * the body and parameter limits applied on the way, and CloudStack envelopes even for the failures
 * Node detects itself (oversized request heads).
 */
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseCookies } from './auth.js';
import type { ApiReply, Dispatcher } from './dispatch.js';
import { ApiError, ApiErrorCode } from './error-map.js';
import { errorPayload } from './envelope.js';
import { REASONS, type ApiServerLimits } from './limits.js';
import { mergeParams } from './params.js';
import { withTrace } from '../../src/trace-context.js';
import { readBody } from './read-body.js';
import { renderXml } from './render-xml.js';
import { writeStream } from './write-stream.js';
import type { Logger } from '../../src/logger.js';

export const API_PATH = '/client/api';

export interface HandlerDeps {
  readonly dispatcher: Dispatcher;
  readonly limits: ApiServerLimits;
  readonly cloudStackVersion: string;
  readonly nextRequestId: () => string;
  /** True once close() has begun: replies then ask the client to close the connection. */
  readonly isClosing: () => boolean;
  /** Where a streamed answer cut short is reported. */
  readonly logger?: Logger;
  /** See ApiServerOptions.onRequest. */
  readonly onRequest?: (command: string, status: number, ms: number) => void;
}

function writeReply(res: ServerResponse, reply: ApiReply, closeAfter: boolean): void {
  const headers: OutgoingHttpHeaders = {
    'Content-Type': reply.contentType,
    // A streamed answer has no length ahead of time: Node sends it with chunked transfer encoding.
    ...(reply.stream === undefined ? { 'Content-Length': String(Buffer.byteLength(reply.body, 'utf8')) } : {}),
    'Cache-Control': 'no-cache, no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  for (const [name, value] of Object.entries(reply.headers)) headers[name] = typeof value === 'string' ? value : [...value];
  if (closeAfter) headers['Connection'] = 'close';
  res.writeHead(reply.status, REASONS[reply.status] ?? 'Error', headers);
  if (reply.stream === undefined) res.end(reply.body);
}

/** The reply to an oversized request head, written on the raw socket (XML: no `response` is known yet). */
function headerOverflowResponse(version: string): string {
  const body = renderXml('errorresponse', errorPayload({
    uuidList: [], errorcode: 431, cserrorcode: 9999, errortext: 'Request headers are too large',
  }), version);
  return 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/xml; charset=UTF-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Only form bodies carry parameters, as for the servlet (a missing Content-Type counts as a form). */
function isForm(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type === undefined || type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

function tooLarge(limits: ApiServerLimits): ApiError {
  return new ApiError(ApiErrorCode.PARAM_ERROR, `The request body is larger than ${limits.maxBodyBytes} bytes; send less data per request`);
}

async function serve(d: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { path, query } = splitUrl(req.url ?? '/');
  // The UI calls `/client/api/`; the servlet is mapped at both.
  if (path !== API_PATH && path !== `${API_PATH}/`) {
    res.writeHead(404, d.isClosing() ? { 'Content-Type': 'text/plain; charset=UTF-8', Connection: 'close' } : { 'Content-Type': 'text/plain; charset=UTF-8' });
    res.end(`Not found: the CloudStack API is at ${API_PATH}\n`);
    return;
  }
  const queryPairs = mergeParams(query, undefined);
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
    req.resume();
    const err = new ApiError(ApiErrorCode.METHOD_NOT_ALLOWED, `HTTP method ${method} is not supported; use GET or POST`);
    writeReply(res, d.dispatcher.reject(queryPairs, err), d.isClosing());
    return;
  }
  const body = await readBody(req, d.limits);
  if (body.kind === 'aborted') return;
  if (body.kind === 'too-large') {
    writeReply(res, d.dispatcher.reject(queryPairs, tooLarge(d.limits)), true);
    if (!body.drained) res.once('finish', () => req.socket.destroy());
    return;
  }
  const pairs = mergeParams(query, method === 'POST' && isForm(req) ? body.text : undefined);
  if (pairs.length > d.limits.maxParameters) {
    const err = new ApiError(ApiErrorCode.PARAM_ERROR, `The request has more than ${d.limits.maxParameters} parameters`);
    writeReply(res, d.dispatcher.reject(queryPairs, err), d.isClosing());
    return;
  }
  const cookies = parseCookies(req.headers.cookie);
  const started = d.onRequest === undefined ? 0 : performance.now();
  // The request id is the trace id of everything the request causes, in every process it reaches.
  const requestId = d.nextRequestId();
  const reply = await withTrace(requestId, () => d.dispatcher.dispatch({ method, pairs, cookies, requestId }));
  writeReply(res, reply, d.isClosing());
  if (d.onRequest !== undefined) {
    // Only a command the table knows is a label: a client must not create unbounded metric series.
    const named = pairs.find(([n]) => n === 'command')?.[1];
    d.onRequest((named === undefined ? undefined : d.dispatcher.commandName(named)) ?? 'unknown', reply.status, performance.now() - started);
  }
  if (reply.stream !== undefined) {
    if (method === 'HEAD') { await reply.stream[Symbol.asyncIterator]().return?.(); res.end(); return; }
    await writeStream(res, reply.stream, { stallTimeoutMs: d.limits.streamStallTimeoutMs, log: d.logger });
  }
}

/** Attaches the request, 100-continue and client-error handlers to a Node http server. */
export function installHandlers(server: Server, d: HandlerDeps): void {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    serve(d, req, res).catch((err: unknown) => {
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
    if (Number(req.headers['content-length'] ?? 0) > d.limits.maxBodyBytes) {
      writeReply(res, d.dispatcher.reject(mergeParams(splitUrl(req.url ?? '/').query, undefined), tooLarge(d.limits)), true);
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
    const response = err.code === 'HPE_HEADER_OVERFLOW' ? headerOverflowResponse(d.cloudStackVersion)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
        : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
    // The server's sockets are half-open capable: end() alone would leave this one open until the
    // client closes its side, holding a slot. Close once the reply is written.
    socket.end(response);
    socket.destroySoon();
  });
}
