import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConfigError } from '../../src/errors.js';
import type { ResolvedWsOptions } from './options.js';
import { PendingGuard, type PendingEvent, type PendingTicket } from './pending-guard.js';
import { serverTlsOptions } from './tls.js';

export interface Listener {
  /** The address peers dial, e.g. ws://127.0.0.1:7070. */
  address: string;
  /** The port actually bound (differs from the option when it was 0). */
  port: number;
  /** Incoming connections not yet authenticated now. */
  pending(): number;
  close(): Promise<void>;
}

/** The sockets' ends, for log lines and for telling connections apart. */
export interface SocketEnds {
  remote: string;
  localPort: number;
  remotePort: number;
}

export type OnConnection = (ws: WebSocket, ends: SocketEnds, ticket: PendingTicket) => void;
export type OnTlsRefusal = (remote: string, reason: string) => void;
export type OnPendingEvent = (kind: PendingEvent, source: string, lifeMs?: number) => void;

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Accepts ws://host:port, wss://host:port and plain host:port (scheme from whether TLS is configured). */
export function normalizeAddress(address: string, tls: boolean): string {
  const a = address.trim();
  const withScheme = /^wss?:\/\//.test(a) ? a : `${tls ? 'wss' : 'ws'}://${a}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`"${address}" is not a ws address (expected ws://host:port, wss://host:port or host:port)`);
  }
  if (url.port === '' || url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw new ConfigError(`"${address}" is not a ws address (expected ws://host:port, wss://host:port or host:port)`);
  }
  return `${url.protocol}//${url.host}`;
}

/**
 * The listening side: an http (or https, for wss) server carrying a WebSocketServer whose maxPayload
 * is the frame limit, so ws closes with 1009 any larger frame before buffering it. Every accepted
 * connection is held to handshakeTimeoutMs and to the pending table by a PendingGuard until it is
 * authenticated.
 */
export async function listen(o: ResolvedWsOptions, onConnection: OnConnection, onTlsRefusal: OnTlsRefusal, onPendingEvent: OnPendingEvent): Promise<Listener> {
  const server: Server = o.tls === undefined ? createHttpServer() : createHttpsServer(serverTlsOptions(o.tls));
  const guard = new PendingGuard({
    maxPending: o.maxPendingHandshakes, maxPendingPerAddress: o.maxPendingHandshakesPerAddress, handshakeTimeoutMs: o.handshakeTimeoutMs,
    plainHttp: o.tls === undefined, clock: o.clock, onEvent: onPendingEvent,
  });
  guard.attach(server);
  server.on('tlsClientError', (err: Error, socket: { remoteAddress?: string; remotePort?: number }) => {
    onTlsRefusal(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, err.message);
  });
  // Plain HTTP requests are not part of the protocol.
  server.on('request', (_req, res) => { res.writeHead(426, { 'content-type': 'text/plain' }).end('cloudstackd: WebSocket upgrade required\n'); });
  const wss = new WebSocketServer({ server, maxPayload: o.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const s = req.socket;
    const ticket = guard.upgraded(s);
    onConnection(ws, { remote: `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`, localPort: s.localPort ?? 0, remotePort: s.remotePort ?? 0 }, ticket);
  });
  wss.on('error', () => { /* errors of the http server are reported by listen() below */ });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve(); });
  }).catch((err: Error) => {
    throw new ConfigError(`ws transport cannot listen on ${o.host}:${o.port}: ${err.message}`, { cause: err });
  });
  const bound = server.address() as AddressInfo;
  const address = o.advertiseAddress ?? `${o.tls ? 'wss' : 'ws'}://${formatHost(o.host)}:${bound.port}`;
  return {
    address,
    port: bound.port,
    pending: () => guard.size,
    close: () => new Promise<void>((resolve) => {
      guard.closeAll();
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
