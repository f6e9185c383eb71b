import type { WebSocket } from 'ws';
import type { CodecLimits } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import { BackPressureError, NotSentError, PeerDownError, StoppedError } from '../../src/errors.js';
import { randomId } from '../../src/ids.js';
import type { Transport, TransportHandlers } from '../../src/transport.js';
import { CLOSE } from './close-codes.js';
import { WsConnection, type ConnectionContext } from './connection.js';
import { OutgoingHandshake, type ClientHandshakeHost, type DialOutcome } from './handshake-client.js';
import { IncomingHandshake, type ServerHandshakeHost } from './handshake-server.js';
import { IncomingLog } from './incoming-log.js';
import { NonceBook, type Hello } from './handshake.js';
import { listen, normalizeAddress, type Listener, type SocketEnds } from './listener.js';
import { resolveWsOptions, type ResolvedWsOptions, type WsTransportOptions } from './options.js';
import type { PendingEvent, PendingTicket } from './pending-guard.js';
import { PeerLink, type LinkHost } from './peer-link.js';
import { emptyWsStats, type ConnectionSummary, type WsStats } from './stats.js';

interface DialWaiter {
  resolve(id: string): void;
  reject(err: Error): void;
}

/**
 * The WebSocket transport: one authenticated connection per pair of nodes, dialled on demand and
 * reused for all traffic; per-turn batching through each peer's Outbox; ping/pong liveness; redial
 * with capped, jittered backoff; a peer whose connection does not come back within the grace period
 * is declared down (its queued envelopes and pending asks fail with PeerDownError); back-pressure on
 * each socket's buffered amount; optional TLS.
 */
export class WsTransport implements Transport, LinkHost, ServerHandshakeHost, ClientHandshakeHost {
  readonly kind = 'ws';
  readonly nodeId: string;
  readonly opts: ResolvedWsOptions;
  readonly limits: CodecLimits;
  readonly counters: WsStats = emptyWsStats();
  /** This process's incarnation: peers that see it change know this node restarted. */
  epoch = randomId(16);
  readonly nonces: NonceBook;
  private readonly links = new Map<string, PeerLink>();
  private readonly byAddress = new Map<string, string>();
  private readonly incoming = new Set<IncomingHandshake>();
  private readonly outgoing = new Set<OutgoingHandshake>();
  private readonly ctx: ConnectionContext;
  private readonly incomingLog: IncomingLog;
  private handlers: TransportHandlers | undefined;
  private listener: Listener | undefined;
  private running = false;

  constructor(options: WsTransportOptions) {
    this.opts = resolveWsOptions(options);
    this.nodeId = this.opts.nodeId;
    this.limits = { maxFrameBytes: this.opts.maxFrameBytes, maxDepth: this.opts.maxDepth };
    this.nonces = new NonceBook(2 * this.opts.maxClockSkewMs);
    const o = this.opts;
    this.ctx = {
      limits: this.limits, highWaterMarkBytes: o.highWaterMarkBytes, pingIntervalMs: o.pingIntervalMs,
      closeTimeoutMs: o.closeTimeoutMs, clock: o.clock, counters: this.counters, log: o.log,
      deliver: (env) => this.handlers?.onEnvelope(env),
      connectionClosed: (conn, code, reason) => this.connectionClosed(conn, code, reason),
      connectionDrained: (conn) => { const l = this.links.get(conn.peerId); if (l?.conn === conn) l.writeHeld(); },
    };
    this.incomingLog = new IncomingLog(o);
  }

  async start(handlers: TransportHandlers): Promise<void> {
    if (this.running) throw new StoppedError(`ws transport of ${this.nodeId} is already started`);
    this.epoch = randomId(16);
    this.listener = await listen(this.opts, (ws, ends, ticket) => this.onIncoming(ws, ends, ticket),
      (remote, reason) => this.refused(remote, undefined, `TLS: ${reason}`), (kind, source, lifeMs) => this.pendingEvent(kind, source, lifeMs));
    this.handlers = handlers;
    this.running = true;
    this.opts.log.debug('ws transport listening', { node: this.nodeId, address: this.listener.address });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const hs of [...this.incoming]) hs.abort();
    for (const hs of [...this.outgoing]) hs.abort('transport stopping');
    const closing: Promise<void>[] = [];
    for (const link of this.links.values()) {
      link.cancelTimers();
      link.outbox.flush();
      if (link.conn !== undefined) {
        const conn = link.conn;
        closing.push(conn.whenClosed());
        conn.close(CLOSE.NODE_STOPPING, 'node stopping');
      }
      this.counters.sendFailures += link.outbox.drain().length;
    }
    await Promise.all(closing);
    this.links.clear();
    this.byAddress.clear();
    this.counters.heldBytes = 0;
    await this.listener?.close();
    this.listener = undefined;
    this.handlers = undefined;
    this.incomingLog.flush();
  }

  send(nodeId: string, env: Envelope): void {
    const h = this.handlers;
    if (h === undefined || !this.running) throw new StoppedError(`ws transport of ${this.nodeId} is not running`);
    const link = this.links.get(nodeId);
    if (link === undefined || (link.state === 'idle' && link.address === undefined)) {
      this.counters.sendFailures++;
      throw new NotSentError(`node ${nodeId} is not connected to ${this.nodeId} and its address is unknown (learnAddress or dial it first)`);
    }
    const problem = link.congestion();
    if (problem !== undefined) {
      this.counters.backpressureRejects++;
      this.counters.sendFailures++;
      h.onUndeliverable(env, new BackPressureError(problem));
      return;
    }
    if (link.state === 'idle') this.connect(link);
    link.outbox.push(env);
  }

  broadcast(env: Envelope): void {
    for (const link of this.links.values()) {
      if (link.state === 'up') this.send(link.id, { ...env, toNode: link.id });
    }
  }

  peers(): string[] {
    const out: string[] = [];
    for (const link of this.links.values()) if (link.announced) out.push(link.id);
    return out;
  }

  address(): string | undefined {
    return this.listener?.address;
  }

  /** The port this node listens on (address() may advertise another, e.g. behind a proxy). */
  listeningPort(): number | undefined {
    return this.listener?.port;
  }

  learnAddress(nodeId: string, address: string): void {
    if (nodeId === this.nodeId) return;
    const a = normalizeAddress(address, this.opts.tls !== undefined);
    const link = this.linkFor(nodeId);
    if (link.address !== undefined && link.address !== a) this.byAddress.delete(link.address);
    link.address = a;
    this.byAddress.set(a, nodeId);
  }

  /** Connects to a seed and resolves to its node id once both ends are authenticated (one attempt). */
  dial(address: string): Promise<string> {
    if (!this.running) return Promise.reject(new StoppedError(`ws transport of ${this.nodeId} is not running`));
    const a = normalizeAddress(address, this.opts.tls !== undefined);
    const known = this.byAddress.get(a);
    if (known !== undefined && this.links.get(known)?.state === 'up') return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const hs: OutgoingHandshake = new OutgoingHandshake(a, undefined, this, (err, outcome) => this.dialDone(hs, err, outcome, undefined, { resolve, reject }));
      this.outgoing.add(hs);
    });
  }

  stats(): WsStats {
    return { ...this.counters, pendingHandshakes: this.listener?.pending() ?? 0 };
  }

  /** The connections in use, one per connected peer (for diagnostics and tests). */
  connections(): ConnectionSummary[] {
    return [...this.links.values()].flatMap((link) => link.summary() ?? []);
  }

  /** The state of each known peer: idle, connecting, up or lost (for diagnostics and tests). */
  linkStates(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const link of this.links.values()) out[link.id] = link.state;
    return out;
  }

  // ---- LinkHost ---------------------------------------------------------------------------------

  undeliverable(env: Envelope, err: Error): void {
    this.counters.sendFailures++;
    this.handlers?.onUndeliverable(env, err);
  }

  // ---- handshake hosts ----------------------------------------------------------------------------

  decide(hello: Hello): 'accept' | 'duplicate' {
    const link = this.links.get(hello.node);
    if (link === undefined) return 'accept';
    if (link.epoch !== undefined && link.epoch !== hello.epoch) return 'accept'; // it restarted: its new connection wins
    // Tie-break: of two connections between the same nodes, the one dialed by the lower id is kept.
    const oursLive = (link.conn !== undefined && link.conn.outgoing) || (link.dialing?.challenged ?? false);
    if (oursLive && this.nodeId < hello.node) {
      this.counters.duplicateConnections++;
      return 'duplicate';
    }
    return 'accept';
  }

  accepted(ws: WebSocket, hello: Hello, ends: SocketEnds): void {
    if (!this.running) { ws.terminate(); return; }
    if (hello.address !== '') {
      try { this.learnAddress(hello.node, hello.address); } catch { /* an address we cannot parse is not learned */ }
    }
    const link = this.linkFor(hello.node);
    link.dialing?.supersede(hello.node);
    this.install(link, new WsConnection(ws, { peerId: hello.node, outgoing: false, epoch: hello.epoch, ...ends }, this.ctx));
  }

  refused(remote: string, claimedNode: string | undefined, reason: string): void {
    this.counters.authFailures++;
    this.incomingLog.refused(remote, claimedNode ?? '?', reason);
  }

  refusedByPeer(url: string, peerId: string | undefined, reason: string): void {
    this.counters.refusedByPeer++;
    this.opts.log.error('a peer refused this node\'s handshake (check cluster name and secret)', { url, peer: peerId ?? '?', reason });
  }

  timedOut(remote: string, lifeMs: number): void {
    this.counters.handshakeTimeouts++;
    this.incomingLog.closedEarly('handshakeTimeouts', remote, lifeMs);
  }

  private pendingEvent(kind: PendingEvent, source: string, lifeMs?: number): void {
    this.counters[kind]++;
    this.incomingLog.closedEarly(kind, source, lifeMs);
  }

  finished(hs: IncomingHandshake): void {
    this.incoming.delete(hs);
  }

  challenged(hs: OutgoingHandshake, peerId: string): void {
    const link = this.linkFor(peerId);
    if (link.dialing === undefined) link.dialing = hs;
  }

  // ---- connections and peer states -----------------------------------------------------------------

  /** The listener's pending table already bounds the handshakes in progress (see pending-guard.ts). */
  private onIncoming(ws: WebSocket, ends: SocketEnds, ticket: PendingTicket): void {
    if (!this.running) { ws.terminate(); return; }
    this.incoming.add(new IncomingHandshake(ws, ends, this, ticket));
  }

  private linkFor(id: string): PeerLink {
    let link = this.links.get(id);
    if (link === undefined) {
      link = new PeerLink(id, this);
      this.links.set(id, link);
    }
    return link;
  }

  /** First use of an idle peer: dial now; it must be up within the grace period. */
  private connect(link: PeerLink): void {
    link.state = 'connecting';
    this.armGrace(link);
    this.startDial(link);
  }

  private startDial(link: PeerLink): void {
    if (!this.running || link.address === undefined || link.dialing !== undefined || link.conn !== undefined) return;
    const hs: OutgoingHandshake = new OutgoingHandshake(link.address, link.id, this, (err, outcome) => this.dialDone(hs, err, outcome, link, undefined));
    link.dialing = hs;
    this.outgoing.add(hs);
  }

  private dialDone(hs: OutgoingHandshake, err: Error | undefined, outcome: DialOutcome | undefined, expected: PeerLink | undefined, waiter: DialWaiter | undefined): void {
    this.outgoing.delete(hs);
    const named = hs.peerId === undefined ? expected : this.links.get(hs.peerId);
    if (named?.dialing === hs) named.dialing = undefined;
    if (expected !== undefined && expected.dialing === hs) expected.dialing = undefined;
    if (err !== undefined || outcome === undefined) {
      waiter?.reject(err ?? new PeerDownError(`dial to ${hs.url} failed`));
      if (expected !== undefined && this.running) {
        expected.lastDialError = err?.message;
        this.opts.log.debug('dial failed', { peer: expected.id, url: hs.url, error: err?.message ?? '' });
        this.scheduleRetry(expected);
      }
      return;
    }
    const peerId = outcome.kind === 'connected' ? outcome.welcome.node : outcome.peerId;
    if (!this.running) {
      if (outcome.kind === 'connected') outcome.ws.terminate();
      waiter?.reject(new StoppedError(`ws transport of ${this.nodeId} stopped during the dial`));
      return;
    }
    if (waiter !== undefined) this.learnAddress(peerId, hs.url);
    const link = this.linkFor(peerId);
    if (outcome.kind === 'connected') {
      this.install(link, new WsConnection(outcome.ws, { peerId, outgoing: true, epoch: outcome.welcome.epoch, remote: hs.url, localPort: hs.localPort, remotePort: hs.remotePort }, this.ctx));
    } else if (outcome.kind === 'duplicate') {
      this.counters.duplicateConnections++;
      // The peer keeps its own dial to this node; if that one never arrives, redial later.
      if (link.conn === undefined) {
        if (link.state === 'idle') link.state = 'connecting';
        this.armGrace(link);
        this.scheduleRetry(link);
      }
    }
    waiter?.resolve(peerId);
  }

  private install(link: PeerLink, conn: WsConnection): void {
    this.counters.connectionsEstablished++;
    const old = link.conn;
    link.conn = conn;
    if (old !== undefined) {
      this.counters.duplicateConnections++;
      old.close(CLOSE.REPLACED, 'replaced by a newer connection between the same nodes', true);
    }
    link.cancelTimers();
    link.backoff.reset();
    link.lastDialError = undefined;
    // A new incarnation while the old one counted as up: what was in flight to it is lost.
    const restarted = link.announced && link.epoch !== undefined && link.epoch !== conn.epoch;
    const wasLost = link.state === 'lost';
    const mayHaveLost = wasLost && link.lossMayDropMessages;
    link.lossMayDropMessages = false;
    link.epoch = conn.epoch;
    link.state = 'up';
    if (wasLost) this.counters.reconnects++;
    if (restarted) {
      link.dropHeld(new PeerDownError(`node ${link.id} restarted`));
      if (link.announced) this.announceDown(link, 'peer restarted');
    } else if (mayHaveLost && link.announced) {
      // Back within the grace period, but what was in flight on the lost connection (requests or their
      // replies) may be gone: down then up fails the asks pending on it now instead of at their deadline.
      this.announceDown(link, 'connection lost and re-established; messages in flight may be lost');
    }
    link.writeHeld();
    if (!link.announced) {
      link.announced = true;
      this.opts.log.info('peer up', { peer: link.id, remote: conn.remote, direction: conn.outgoing ? 'out' : 'in' });
      this.handlers?.onPeerUp(link.id);
    }
  }

  private connectionClosed(conn: WsConnection, code: number, reason: string): void {
    const link = this.links.get(conn.peerId);
    if (link === undefined || link.conn !== conn) return;
    link.conn = undefined;
    if (!this.running) return;
    if (code === CLOSE.NODE_STOPPING) {
      this.down(link, `peer stopped (${reason || 'closed'})`);
      return;
    }
    this.opts.log.info('connection to peer lost; reconnecting within the grace period', { peer: link.id, code, reason, graceMs: this.opts.peerDownGraceMs });
    link.state = 'lost';
    // A peer that replaced the connection sent everything on the old one before closing it.
    link.lossMayDropMessages = code !== CLOSE.REPLACED && code !== CLOSE.DUPLICATE;
    this.armGrace(link);
    this.scheduleRetry(link);
  }

  private armGrace(link: PeerLink): void {
    if (link.graceTimer !== undefined) return;
    link.graceTimer = this.opts.clock.setTimeout(() => {
      link.graceTimer = undefined;
      if (link.conn === undefined && link.state !== 'idle') {
        const last = link.lastDialError === undefined ? '' : ` (last attempt: ${link.lastDialError})`;
        this.down(link, `no connection within the grace period of ${this.opts.peerDownGraceMs} ms${last}`);
      }
    }, this.opts.peerDownGraceMs);
  }

  private scheduleRetry(link: PeerLink): void {
    if (link.address === undefined || link.retryTimer !== undefined || link.dialing !== undefined || link.conn !== undefined) return;
    if (link.state !== 'connecting' && link.state !== 'lost') return;
    link.retryTimer = this.opts.clock.setTimeout(() => {
      link.retryTimer = undefined;
      if (link.state === 'connecting' || link.state === 'lost') this.startDial(link);
    }, link.backoff.next());
  }

  /** The peer is lost: everything queued for it fails now, and asks pending on it (via onPeerDown). */
  private down(link: PeerLink, reason: string): void {
    link.cancelTimers();
    link.state = 'idle';
    link.epoch = undefined;
    link.dialing?.abort('peer declared down');
    link.dialing = undefined;
    const err = new PeerDownError(`node ${link.id} is unreachable: ${reason}`);
    link.dropHeld(err);
    // Queued envelopes never reached a socket: their outcome is known (nothing happened).
    const unsent = new NotSentError(`node ${link.id} is unreachable (${reason}); the message was not sent`);
    for (const env of link.outbox.drain()) this.undeliverable(env, unsent);
    if (link.announced) this.announceDown(link, reason);
    if (link.address === undefined && link.conn === undefined) this.links.delete(link.id);
  }

  private announceDown(link: PeerLink, reason: string): void {
    link.announced = false;
    this.opts.log.info('peer down', { peer: link.id, reason });
    this.handlers?.onPeerDown(link.id, reason);
  }
}
