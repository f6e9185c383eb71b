/** Shared fixtures for the ws transport tests: transports with recording handlers, a TCP proxy that can cut the wire, a log capture. */
import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger, type LogLevel } from '../../../src/logger.js';
import type { Envelope } from '../../../src/envelope.js';
import type { TransportHandlers } from '../../../src/transport.js';
import { WsTransport } from '../../../transports/ws/ws-transport.js';
import type { WsTransportOptions } from '../../../transports/ws/options.js';

export const SECRET = Buffer.from('ws-test-secret-0123456789abcdef');
export const CLUSTER = 'ws-test';

/** Records everything a transport reports. */
export class Recorder implements TransportHandlers {
  readonly envelopes: Envelope[] = [];
  readonly ups: string[] = [];
  readonly downs: { id: string; reason: string }[] = [];
  readonly undeliverable: { env: Envelope; err: Error }[] = [];
  onEnvelope(env: Envelope): void { this.envelopes.push(env); }
  onPeerUp(id: string): void { this.ups.push(id); }
  onPeerDown(id: string, reason: string): void { this.downs.push({ id, reason }); }
  onUndeliverable(env: Envelope, err: Error): void { this.undeliverable.push({ env, err }); }
}

export interface LogRecord {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, logger: createLogger('debug', (level, msg, fields) => { records.push({ level, msg, fields }); }) };
}

let seq = 0;

export function tell(from: string, to: string, body: unknown = { n: seq }): Envelope {
  return { kind: 'tell', id: `m${++seq}`, toNode: to, to: '/sink', fromNode: from, from: '', type: 'record', body };
}

export function askEnv(from: string, to: string, body: unknown = {}): Envelope {
  return { kind: 'ask', id: `a${++seq}`, toNode: to, to: '/sink', fromNode: from, from: '', type: 'echo', body, ttl: 10_000 };
}

/** Transports (and anything else with a stop/close) created in a test, stopped afterwards even on failure. */
export class Fixture {
  private readonly stops: (() => Promise<void>)[] = [];

  async transport(nodeId: string, options: Partial<WsTransportOptions> = {}): Promise<{ t: WsTransport; rec: Recorder }> {
    const t = new WsTransport({ nodeId, clusterName: CLUSTER, clusterSecret: SECRET, logger: createLogger('silent'), ...options });
    const rec = new Recorder();
    await t.start(rec);
    this.stops.push(() => t.stop());
    return { t, rec };
  }

  onCleanup(fn: () => Promise<void>): void {
    this.stops.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.stops.splice(0).reverse()) await fn().catch(() => undefined);
  }
}

/** A TCP proxy in front of a ws listener: cutting it breaks connections without a close frame, like a crash or a partition. */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  /** Where connections are forwarded (may be set after start, once the target listens). */
  constructor(public targetPort: number) {}

  get address(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      this.sockets.add(client).add(upstream);
      const drop = (): void => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(this.targetPort, '127.0.0.1', () => { client.pipe(upstream); upstream.pipe(client); });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Destroys every proxied connection (both ends see the TCP connection drop). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Cuts and stops listening: new connections are refused until start(port) again. */
  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
