/**
 * The listening port's table of connections not yet authenticated: from the TCP accept, through the
 * TLS handshake (wss), the WebSocket upgrade and the cluster handshake, until the peer has proved the
 * cluster secret. Every such connection must be authenticated within handshakeTimeoutMs of its
 * accept; it is closed at that deadline by its own timer (before the upgrade) or by its
 * IncomingHandshake, which is given the same deadline (after it). When the table is full, or the
 * newcomer's address has maxPendingHandshakesPerAddress connections pending, the oldest pending
 * connection of that address, or else of the address with the most pending, is closed to admit the
 * newcomer (src/net/connection-table.ts says why): connections that never finish cannot keep a real
 * peer, whose handshake takes a few round trips, from connecting.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { addressKey } from '../../src/net/address-key.js';
import { ConnectionTable } from '../../src/net/connection-table.js';
import { FreshMarks } from '../../src/net/fresh-marks.js';

/** What the cluster handshake of one accepted connection needs from the guard. */
export interface PendingTicket {
  /** When the connection must be authenticated, on the transport's clock. */
  readonly deadline: number;
  /** The peer proved the secret: the connection leaves the pending table. */
  authenticated(): void;
}

export type PendingEvent = 'pendingShed' | 'upgradeTimeouts';

export interface PendingGuardOptions {
  readonly maxPending: number;
  readonly maxPendingPerAddress: number;
  readonly handshakeTimeoutMs: number;
  /** Plain ws:// (an HTTP 408 can be written before closing); false for wss://, where raw bytes would be garbage. */
  readonly plainHttp: boolean;
  readonly clock: Clock;
  /** Counts (and logs, rate-limited) a connection closed by the guard, with how long it had lived (ms; none for a refused newcomer). */
  readonly onEvent: (kind: PendingEvent, source: string, lifeMs?: number) => void;
}

interface Pending {
  readonly socket: Socket;
  readonly source: string;
  readonly id: string;
  readonly deadline: number;
  timer: TimerHandle | undefined;
}

const TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** A live TCP connection to one listening port is told apart by its remote end (the same for its TLS socket). */
function connectionId(s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string | undefined {
  return s.remoteAddress === undefined || s.remotePort === undefined ? undefined : `${s.remoteAddress}|${s.remotePort}`;
}

export class PendingGuard {
  private readonly table: ConnectionTable<Pending>;
  private readonly fresh = new FreshMarks<Pending>();
  private readonly byId = new Map<string, Pending>();

  constructor(private readonly o: PendingGuardOptions) {
    this.table = new ConnectionTable<Pending>({
      maxConnections: o.maxPending, maxPerAddress: o.maxPendingPerAddress, mayEvict: (p) => !this.fresh.isFresh(p),
    });
  }

  /** Guards every TCP connection the server accepts (for https, before its TLS handshake). */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.accept(socket));
  }

  /** Connections pending now. */
  get size(): number {
    return this.table.size;
  }

  /** The WebSocket upgrade of `socket` completed: its own timer stops, the cluster handshake keeps the deadline. */
  upgraded(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): PendingTicket {
    const id = connectionId(socket);
    const p = id === undefined ? undefined : this.byId.get(id);
    if (p === undefined) return { deadline: this.o.clock.now() + this.o.handshakeTimeoutMs, authenticated: () => undefined };
    p.timer?.cancel();
    p.timer = undefined;
    return { deadline: p.deadline, authenticated: () => this.forget(p) };
  }

  /** Closes every pending connection (the transport is stopping). */
  closeAll(): void {
    for (const p of this.table.all()) {
      this.forget(p);
      p.socket.destroy();
    }
  }

  private accept(socket: Socket): void {
    const id = connectionId(socket);
    if (id === undefined) {
      socket.destroy();
      return;
    }
    const source = addressKey(socket.remoteAddress);
    const admission = this.table.admit(source);
    // Refused only when every pending connection was accepted in this same burst (none read yet).
    if (!admission.admitted) {
      this.o.onEvent('pendingShed', source);
      socket.destroy();
      return;
    }
    if (admission.evict !== undefined) {
      const victim = admission.evict;
      this.o.onEvent('pendingShed', victim.source, this.o.clock.now() - (victim.deadline - this.o.handshakeTimeoutMs));
      this.forget(victim);
      victim.socket.destroy();
    }
    const deadline = this.o.clock.now() + this.o.handshakeTimeoutMs;
    const p: Pending = { socket, source, id, deadline, timer: undefined };
    p.timer = this.o.clock.setTimeout(() => this.timedOut(p), this.o.handshakeTimeoutMs);
    this.table.add(p, source, 'incomplete');
    this.fresh.mark(p);
    this.byId.set(id, p);
    socket.once('close', () => this.forget(p));
  }

  private timedOut(p: Pending): void {
    p.timer = undefined;
    if (!this.table.has(p)) return;
    this.o.onEvent('upgradeTimeouts', p.source, this.o.clock.now() - (p.deadline - this.o.handshakeTimeoutMs));
    this.forget(p);
    if (this.o.plainHttp && p.socket.writable) p.socket.write(TIMEOUT_RESPONSE);
    p.socket.destroy();
  }

  private forget(p: Pending): void {
    p.timer?.cancel();
    p.timer = undefined;
    if (!this.table.remove(p)) return;
    if (this.byId.get(p.id) === p) this.byId.delete(p.id);
  }
}
