/**
 * Holds every connection of the API server to its deadlines and to the admission policy of limits.ts.
 * Each connection is in one phase — `head` (a request head is awaited or arriving), `body` (a
 * request's body is arriving), `busy` (requests being served) or `idle` (kept alive between
 * requests) — with at most one timer for the deadline of that phase, so a slow client is cut when its
 * time is up, not at the next periodic check.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import { addressKey } from '../../src/net/address-key.js';
import { ConnectionTable, type Tier } from '../../src/net/connection-table.js';
import { EventTally } from '../../src/net/event-tally.js';
import { FreshMarks } from '../../src/net/fresh-marks.js';
import type { ApiServerLimits } from './limits.js';

type Phase = 'head' | 'body' | 'busy' | 'idle';

interface Tracked {
  readonly socket: Socket;
  readonly source: string;
  readonly acceptedAt: number;
  phase: Phase;
  /** When the phase's clock started: head and idle — the accept or the end of the last response; body — its request's start. */
  since: number;
  timer: TimerHandle | undefined;
  /** Requests received and not yet answered (more than one when the client pipelines). */
  inFlight: number;
  /** The request whose body is still arriving, if any. */
  receiving: { req: IncomingMessage; res: ServerResponse } | undefined;
  /** socket.bytesRead when the connection went idle: more means the next request has begun. */
  bytesAtIdle: number;
}

/** What the guard counts (also returned by ApiServer.connectionStats()). */
export interface ApiConnectionStats {
  /** Connections open now (a gauge), and of those: awaiting a request head, receiving a body, serving, idle. */
  open: number;
  awaitingHead: number;
  receivingBody: number;
  serving: number;
  idle: number;
  /** Connections admitted since the start. */
  accepted: number;
  /** Idle or incomplete connections closed to admit a newcomer. */
  evicted: number;
  /** Newcomers closed with 503 because every candidate for eviction was serving a request. */
  refused: number;
  /** Connections closed (408) because a request head took longer than headersTimeoutMs. */
  headTimeouts: number;
  /** Connections closed (408) because a request took longer than requestTimeoutMs to arrive. */
  bodyTimeouts: number;
  /** Kept-alive connections closed after keepAliveTimeoutMs (plus the grace) without a new request (normal, not logged). */
  idleTimeouts: number;
  /** Connections the kernel had queued that could not be accepted (e.g. EMFILE: the open-files limit). */
  acceptErrors: number;
}

type Logged = 'evicted' | 'refused' | 'headTimeouts' | 'bodyTimeouts' | 'acceptErrors';
const LOGGED: readonly Logged[] = ['evicted', 'refused', 'headTimeouts', 'bodyTimeouts', 'acceptErrors'];

const TIER: Record<Phase, Tier> = { head: 'incomplete', body: 'incomplete', busy: 'busy', idle: 'idle' };

function rawResponse(status: string, extra = ''): string {
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`;
}
const TIMEOUT_RESPONSE = rawResponse('408 Request Timeout');
const BUSY_RESPONSE = rawResponse('503 Service Unavailable', 'Retry-After: 1\r\n');

export interface ConnectionGuard {
  stats(): ApiConnectionStats;
  /** The server is closing: idle and incomplete connections are closed now, the others once idle. */
  beginClose(): void;
}

export interface GuardOptions {
  readonly limits: ApiServerLimits;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Installs the guard on a Node http server whose own header, request and keep-alive checks are off. */
export function guardConnections(server: Server, o: GuardOptions): ConnectionGuard {
  const g = new Guard(o);
  server.on('connection', (socket: Socket) => g.accept(socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => g.request(req, res));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => g.request(req, res));
  // A failed accept (EMFILE when the process is out of file descriptors) is an 'error' event on the
  // server: counted and logged instead of crashing the process. Listen errors are listen()'s to report.
  server.on('error', (err: NodeJS.ErrnoException) => { if (err.syscall === 'accept') g.acceptFailed(err); });
  return { stats: () => g.snapshot(), beginClose: () => g.beginClose() };
}

class Guard {
  private readonly table: ConnectionTable<Tracked>;
  private readonly fresh = new FreshMarks<Tracked>();
  private readonly bySocket = new Map<Socket, Tracked>();
  private readonly counters: ApiConnectionStats = {
    open: 0, awaitingHead: 0, receivingBody: 0, serving: 0, idle: 0, accepted: 0, evicted: 0, refused: 0, headTimeouts: 0, bodyTimeouts: 0, idleTimeouts: 0, acceptErrors: 0,
  };
  private lastAcceptError = '';
  private readonly tally: EventTally<Logged>;
  private closing = false;

  constructor(private readonly o: GuardOptions) {
    const l = o.limits;
    this.table = new ConnectionTable<Tracked>({
      maxConnections: l.maxConnections, maxPerAddress: l.maxConnectionsPerAddress, mayEvict: (t) => !this.fresh.isFresh(t),
    });
    this.tally = new EventTally(LOGGED, {
      clock: o.clock, intervalMs: l.connectionLogIntervalMs,
      report: (counts, d) => o.logger.warn('API connections shed or timed out (slow or idle clients, or too many connections)', {
        ...counts, windowMs: d.windowMs, lastSource: d.source, longestLifeMs: d.longestLifeMs ?? null, open: this.table.size,
        maxConnections: l.maxConnections, maxConnectionsPerAddress: l.maxConnectionsPerAddress,
        ...(counts.acceptErrors > 0 ? { acceptError: this.lastAcceptError, hint: 'raise the open-files limit (ulimit -n) above maxConnections' } : {}),
      }),
    });
  }

  snapshot(): ApiConnectionStats {
    const by: Record<Phase, number> = { head: 0, body: 0, busy: 0, idle: 0 };
    for (const t of this.bySocket.values()) by[t.phase]++;
    return { ...this.counters, open: this.table.size, awaitingHead: by.head, receivingBody: by.body, serving: by.busy, idle: by.idle };
  }

  accept(socket: Socket): void {
    const source = addressKey(socket.remoteAddress);
    if (this.closing) {
      socket.destroy();
      return;
    }
    const admission = this.table.admit(source);
    if (!admission.admitted) {
      this.count('refused', source);
      socket.write(BUSY_RESPONSE);
      socket.destroy();
      return;
    }
    if (admission.evict !== undefined) this.shut(admission.evict, 'evicted');
    const now = this.o.clock.now();
    const t: Tracked = { socket, source, acceptedAt: now, phase: 'head', since: now, timer: undefined, inFlight: 0, receiving: undefined, bytesAtIdle: 0 };
    this.bySocket.set(socket, t);
    this.table.add(t, source, 'incomplete');
    this.fresh.mark(t);
    this.counters.accepted++;
    this.arm(t, t.since + this.o.limits.headersTimeoutMs);
    socket.once('close', () => this.forget(t));
  }

  request(req: IncomingMessage, res: ServerResponse): void {
    const t = this.bySocket.get(req.socket);
    if (t === undefined) return;
    // A pipelined request starts now; otherwise it started when its connection began waiting for it.
    const start = t.phase === 'head' || t.phase === 'idle' ? t.since : this.o.clock.now();
    t.inFlight++;
    t.receiving = { req, res };
    this.enter(t, 'body', start);
    this.arm(t, start + this.o.limits.requestTimeoutMs);
    req.once('end', () => this.received(t, req));
    res.once('close', () => {
      if (req.complete) this.received(t, req);
      t.inFlight--;
      this.settle(t);
    });
  }

  acceptFailed(err: NodeJS.ErrnoException): void {
    this.lastAcceptError = err.code ?? err.message;
    this.count('acceptErrors', 'unknown');
  }

  beginClose(): void {
    this.closing = true;
    for (const t of this.table.all()) if (t.phase === 'head' || t.phase === 'idle') this.drop(t);
    this.tally.flush();
  }

  private received(t: Tracked, req: IncomingMessage): void {
    if (t.receiving?.req !== req) return;
    t.receiving = undefined;
    this.settle(t);
  }

  /** After a body or a response ended: still receiving, serving, or idle. */
  private settle(t: Tracked): void {
    if (!this.table.has(t) || t.receiving !== undefined) return;
    if (t.inFlight > 0) {
      if (t.phase !== 'busy') this.enter(t, 'busy', this.o.clock.now());
      this.disarm(t);
      return;
    }
    if (this.closing) {
      this.drop(t);
      return;
    }
    this.enter(t, 'idle', this.o.clock.now());
    t.bytesAtIdle = t.socket.bytesRead;
    this.arm(t, t.since + this.o.limits.keepAliveTimeoutMs + this.o.limits.keepAliveGraceMs);
  }

  private onDeadline(t: Tracked): void {
    t.timer = undefined;
    const l = this.o.limits;
    if (t.phase === 'head') this.shut(t, 'headTimeouts');
    else if (t.phase === 'body') this.shut(t, 'bodyTimeouts');
    else if (t.phase === 'idle' && t.socket.bytesRead > t.bytesAtIdle && l.headersTimeoutMs > l.keepAliveTimeoutMs + l.keepAliveGraceMs) {
      // The next request began in time: its head has until headersTimeoutMs from the last response.
      this.enter(t, 'head', t.since);
      this.arm(t, t.since + l.headersTimeoutMs);
    } else if (t.phase === 'idle') {
      this.shut(t, t.socket.bytesRead > t.bytesAtIdle ? 'headTimeouts' : 'idleTimeouts');
    }
  }

  private enter(t: Tracked, phase: Phase, since: number): void {
    const tierChanged = TIER[t.phase] !== TIER[phase];
    t.phase = phase;
    t.since = since;
    if (tierChanged) this.table.setTier(t, TIER[phase]);
  }

  private arm(t: Tracked, deadline: number): void {
    t.timer?.cancel();
    t.timer = this.o.clock.setTimeout(() => this.onDeadline(t), deadline - this.o.clock.now());
  }

  private disarm(t: Tracked): void {
    t.timer?.cancel();
    t.timer = undefined;
  }

  /** Closes a connection for a reason that is counted (and logged, rate-limited). */
  private shut(t: Tracked, why: Logged | 'idleTimeouts'): void {
    if (why === 'idleTimeouts') this.counters.idleTimeouts++;
    else this.count(why, t.source, this.o.clock.now() - t.acceptedAt);
    // Say why when nothing of a response has been sent on the connection yet.
    const unanswered = t.phase === 'head' || (t.phase === 'body' && t.receiving !== undefined && !t.receiving.res.headersSent && t.inFlight === 1);
    if (unanswered && t.socket.writable) t.socket.write(why === 'evicted' ? BUSY_RESPONSE : TIMEOUT_RESPONSE);
    this.drop(t);
  }

  private drop(t: Tracked): void {
    this.forget(t);
    t.socket.destroy();
  }

  private forget(t: Tracked): void {
    this.disarm(t);
    this.table.remove(t);
    this.bySocket.delete(t.socket);
  }

  private count(kind: Logged, source: string, lifeMs?: number): void {
    this.counters[kind]++;
    this.tally.add(kind, source, {}, lifeMs);
  }
}
