import { WebSocket } from 'ws';
import type { TimerHandle } from '../../src/clock.js';
import { AuthError, PeerDownError } from '../../src/errors.js';
import { CLOSE } from './close-codes.js';
import {
  checkChallenge, HANDSHAKE_VERSION, HandshakeRefusal, newNonce, parseHandshake, signHello, verifyWelcome,
  type Challenge, type Welcome,
} from './handshake.js';
import type { ResolvedWsOptions } from './options.js';
import { clientTlsOptions } from './tls.js';

/** How an outgoing handshake ended. */
export type DialOutcome =
  /** Authenticated both ways; the socket is handed over. */
  | { kind: 'connected'; ws: WebSocket; challenge: Challenge; welcome: Welcome }
  /** The peer (authenticated) keeps another connection between the two nodes. */
  | { kind: 'duplicate'; peerId: string }
  /** This node accepted a connection from the same peer meanwhile (the tie-break chose that one). */
  | { kind: 'superseded'; peerId: string };

export type DialCallback = (err: Error | undefined, outcome: DialOutcome | undefined) => void;

export interface ClientHandshakeHost {
  readonly opts: ResolvedWsOptions;
  readonly epoch: string;
  /** Where this node listens, sent in the hello so that the peer can redial it. */
  address(): string | undefined;
  /** The server named itself (not yet authenticated): lets the tie-break see this dial in progress. */
  challenged(hs: OutgoingHandshake, peerId: string): void;
  /** This node refused the peer's challenge or welcome: count it and say why in the log. */
  refused(remote: string, claimedNode: string | undefined, reason: string): void;
  /** The peer refused this node's hello. */
  refusedByPeer(url: string, peerId: string | undefined, reason: string): void;
}

// Client frames must be masked, but a zero key is a valid key and lets ws skip the XOR pass over
// every byte. Masking guards browser-controlled payloads against proxy cache poisoning; both ends here
// are cluster nodes that proved a shared secret.
const zeroMask = (mask: Buffer): void => { mask.fill(0); };

/**
 * The dialing side: waits for the challenge, checks the cluster name, answers with a hello that proves
 * the secret over the server's nonce, and verifies the welcome's proof over its own nonce. The outcome
 * is delivered through a callback, synchronously from the socket's message event, so that frames the
 * server sends right after its welcome are never missed.
 */
export class OutgoingHandshake {
  peerId: string | undefined;
  localPort = 0;
  remotePort = 0;
  private readonly ws: WebSocket;
  private readonly timer: TimerHandle;
  private readonly cnonce = newNonce();
  private challenge: Challenge | undefined;
  private done = false;

  /**
   * @param expectedPeer the node id the address was learned for (a dial to a seed passes undefined);
   *   a different node answering there fails the dial.
   */
  constructor(readonly url: string, readonly expectedPeer: string | undefined, private readonly host: ClientHandshakeHost,
    private readonly callback: DialCallback) {
    const o = host.opts;
    this.ws = new WebSocket(url, {
      perMessageDeflate: false, maxPayload: o.maxFrameBytes, followRedirects: false,
      handshakeTimeout: o.handshakeTimeoutMs, generateMask: zeroMask, ...clientTlsOptions(o.tls),
    });
    this.timer = o.clock.setTimeout(() => this.fail(new PeerDownError(`handshake with ${url} timed out after ${o.handshakeTimeoutMs} ms`)), o.handshakeTimeoutMs);
    this.ws.on('message', this.onMessage);
    this.ws.on('close', this.onClose);
    this.ws.on('error', this.onError);
    this.ws.once('upgrade', (res) => {
      this.localPort = res.socket.localPort ?? 0;
      this.remotePort = res.socket.remotePort ?? 0;
    });
  }

  /** True once the server has named itself: the dial reached a live node. */
  get challenged(): boolean {
    return this.challenge !== undefined;
  }

  /** Gives up this dial because the same peer's own connection was accepted instead. */
  supersede(peerId: string): void {
    if (this.finish()) {
      this.ws.close(CLOSE.DUPLICATE, 'superseded by the peer\'s connection');
      this.callback(undefined, { kind: 'superseded', peerId });
    }
  }

  /** Abandons the dial (the transport is stopping, or the peer was declared down). */
  abort(reason: string): void {
    if (this.finish()) {
      this.ws.terminate();
      this.callback(new PeerDownError(`dial to ${this.url} abandoned: ${reason}`), undefined);
    }
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.timer.cancel();
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    return true;
  }

  private fail(err: Error): void {
    if (!this.finish()) return;
    this.ws.terminate();
    this.callback(err, undefined);
  }

  private refuse(reason: string): void {
    if (!this.finish()) return;
    this.host.refused(this.url, this.peerId, reason);
    this.ws.close(CLOSE.AUTH_FAILED, reason.slice(0, 120));
    this.callback(new AuthError(`refused ${this.url}: ${reason}`), undefined);
  }

  private readonly onMessage = (data: Buffer, isBinary: boolean): void => {
    try {
      if (this.challenge === undefined) this.answerChallenge(parseHandshake(data, isBinary, 'challenge') as Challenge);
      else this.checkWelcome(parseHandshake(data, isBinary, 'welcome') as Welcome);
    } catch (err) {
      if (!(err instanceof HandshakeRefusal)) throw err;
      this.refuse(err.reason);
    }
  };

  private answerChallenge(c: Challenge): void {
    const o = this.host.opts;
    checkChallenge(c, { cluster: o.clusterName, self: o.nodeId, now: o.clock.now(), maxSkewMs: o.maxClockSkewMs });
    if (this.expectedPeer !== undefined && c.node !== this.expectedPeer) {
      this.fail(new PeerDownError(`${this.url} is node ${c.node}, not ${this.expectedPeer} (its address changed?)`));
      return;
    }
    this.challenge = c;
    this.peerId = c.node;
    this.host.challenged(this, c.node);
    if (this.done) return; // the tie-break may have superseded this dial already
    this.ws.send(JSON.stringify(signHello(o.secret, {
      t: 'hello', v: HANDSHAKE_VERSION, cluster: o.clusterName, node: o.nodeId, to: c.node, epoch: this.host.epoch,
      nonce: c.nonce, cnonce: this.cnonce, ts: o.clock.now(), address: this.host.address() ?? '',
    })));
  }

  private checkWelcome(w: Welcome): void {
    const o = this.host.opts;
    verifyWelcome(w, { secret: o.secret, cluster: o.clusterName, self: o.nodeId, now: o.clock.now(), maxSkewMs: o.maxClockSkewMs }, this.challenge!, this.cnonce);
    this.finish();
    if (w.dup) {
      this.ws.close(CLOSE.NORMAL, 'duplicate');
      this.callback(undefined, { kind: 'duplicate', peerId: w.node });
      return;
    }
    this.ws.off('error', this.onError);
    this.callback(undefined, { kind: 'connected', ws: this.ws, challenge: this.challenge!, welcome: w });
  }

  private readonly onClose = (code: number, reason: Buffer): void => {
    const text = reason.toString('utf8');
    if (code === CLOSE.AUTH_FAILED) {
      if (this.finish()) {
        this.host.refusedByPeer(this.url, this.peerId, text);
        this.callback(new AuthError(`${this.url} refused this node's handshake: ${text}`), undefined);
      }
      return;
    }
    this.fail(new PeerDownError(`${this.url} closed the connection during the handshake (${code}${text ? ' ' + text : ''})`));
  };

  private readonly onError = (err: Error): void => {
    this.fail(new PeerDownError(`cannot connect to ${this.url}: ${err.message}`, { cause: err }));
  };
}
