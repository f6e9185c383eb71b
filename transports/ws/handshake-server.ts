import type { WebSocket } from 'ws';
import type { TimerHandle } from '../../src/clock.js';
import { CLOSE } from './close-codes.js';
import {
  HANDSHAKE_VERSION, HandshakeRefusal, newNonce, parseHandshake, signWelcome, verifyHello,
  type Challenge, type Hello, type NonceBook,
} from './handshake.js';
import type { SocketEnds } from './listener.js';
import type { ResolvedWsOptions } from './options.js';
import type { PendingTicket } from './pending-guard.js';

/** What the accepting side of a handshake needs from its transport. */
export interface ServerHandshakeHost {
  readonly opts: ResolvedWsOptions;
  readonly epoch: string;
  readonly nonces: NonceBook;
  /** The tie-break, decided at the instant the hello is verified. */
  decide(hello: Hello): 'accept' | 'duplicate';
  /** The peer is authenticated and the welcome sent: install the connection (synchronously). */
  accepted(ws: WebSocket, hello: Hello, ends: SocketEnds): void;
  /** The handshake was refused: count it and say why in the log. */
  refused(remote: string, claimedNode: string | undefined, reason: string): void;
  /** `lifeMs`: time since the TCP accept. */
  timedOut(remote: string, lifeMs: number): void;
  /** The handshake ended one way or another (frees its slot). */
  finished(handle: IncomingHandshake): void;
}

/**
 * The accepting side: sends a challenge with a fresh single-use nonce, verifies the hello (cluster,
 * timestamp, nonce, HMAC), answers with its own proof in the welcome, and hands the socket over.
 */
export class IncomingHandshake {
  private readonly nonce = newNonce();
  private readonly timer: TimerHandle;
  private done = false;

  private readonly remote: string;

  /** `ticket.deadline` counts from the TCP accept: the upgrade has already used part of the time. */
  constructor(private readonly ws: WebSocket, private readonly ends: SocketEnds, private readonly host: ServerHandshakeHost,
    private readonly ticket: PendingTicket) {
    this.remote = ends.remote;
    const o = host.opts;
    this.timer = o.clock.setTimeout(this.onTimeout, ticket.deadline - o.clock.now());
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    const challenge: Challenge = {
      t: 'challenge', v: HANDSHAKE_VERSION, cluster: o.clusterName, node: o.nodeId, epoch: host.epoch,
      nonce: this.nonce, ts: o.clock.now(),
    };
    ws.send(JSON.stringify(challenge));
  }

  /** Cuts a handshake in progress (the transport is stopping). */
  abort(): void {
    if (this.end()) this.ws.terminate();
  }

  private end(): boolean {
    if (this.done) return false;
    this.done = true;
    this.timer.cancel();
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    this.host.finished(this);
    return true;
  }

  private readonly onMessage = (data: Buffer, isBinary: boolean): void => {
    if (!this.end()) return;
    const o = this.host.opts;
    let hello: Hello | undefined;
    try {
      hello = parseHandshake(data, isBinary, 'hello') as Hello;
      verifyHello(hello, { secret: o.secret, cluster: o.clusterName, self: o.nodeId, now: o.clock.now(), maxSkewMs: o.maxClockSkewMs }, this.nonce, this.host.nonces);
    } catch (err) {
      if (!(err instanceof HandshakeRefusal)) throw err;
      this.host.refused(this.remote, hello?.node, err.reason);
      this.closeSoon(CLOSE.AUTH_FAILED, err.reason);
      return;
    }
    const dup = this.host.decide(hello) === 'duplicate';
    this.ws.send(JSON.stringify(signWelcome(o.secret, {
      t: 'welcome', v: HANDSHAKE_VERSION, cluster: o.clusterName, node: o.nodeId, to: hello.node, epoch: this.host.epoch,
      nonce: this.nonce, cnonce: hello.cnonce, ts: o.clock.now(), dup,
    })));
    if (dup) {
      this.closeSoon(CLOSE.DUPLICATE, 'duplicate connection: the one dialed by the lower node id is kept');
      return;
    }
    this.ws.off('error', this.onError);
    this.ticket.authenticated();
    this.host.accepted(this.ws, hello, this.ends);
  };

  private readonly onTimeout = (): void => {
    if (!this.end()) return;
    const o = this.host.opts;
    this.host.timedOut(this.remote, o.clock.now() - (this.ticket.deadline - o.handshakeTimeoutMs));
    this.closeSoon(CLOSE.HANDSHAKE_TIMEOUT, 'handshake timeout');
  };

  /** Closes with a code and reason; a peer that does not answer the close frame is cut after closeTimeoutMs. */
  private closeSoon(code: number, reason: string): void {
    this.ws.close(code, reason.slice(0, 120));
    this.host.opts.clock.setTimeout(() => this.ws.terminate(), this.host.opts.closeTimeoutMs);
  }

  private readonly onClose = (): void => {
    this.end();
  };

  private readonly onError = (err: Error): void => {
    this.host.opts.log.debug('incoming connection error during the handshake', { remote: this.remote, error: err.message });
  };
}
