import type { TimerHandle } from '../../src/clock.js';
import { decodeFrame, type CodecLimits } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import { Outbox } from '../../src/outbox.js';
import { Backoff } from './backoff.js';
import type { WsConnection } from './connection.js';
import type { OutgoingHandshake } from './handshake-client.js';
import type { ResolvedWsOptions } from './options.js';
import type { ConnectionSummary, WsStats } from './stats.js';

/**
 * - idle: no connection and none wanted (never used, or declared down);
 * - connecting: a first connection is being established (envelopes are held meanwhile);
 * - up: connected, onPeerUp reported;
 * - lost: the connection dropped; redialing within the grace period (envelopes are held meanwhile).
 */
export type LinkState = 'idle' | 'connecting' | 'up' | 'lost';

export interface LinkHost {
  readonly opts: ResolvedWsOptions;
  readonly limits: CodecLimits;
  readonly counters: WsStats;
  undeliverable(env: Envelope, err: Error): void;
}

/**
 * Everything this node keeps about one peer: the one connection in use, the per-turn outbox, frames
 * held while the connection is congested or being (re-)established, and the timers that redial it or
 * declare it down. The state transitions are the transport's; this class keeps the frames moving.
 */
export class PeerLink {
  state: LinkState = 'idle';
  /** onPeerUp was reported and onPeerDown not yet. */
  announced = false;
  address: string | undefined;
  /** The incarnation of the peer process last connected. */
  epoch: string | undefined;
  conn: WsConnection | undefined;
  dialing: OutgoingHandshake | undefined;
  /** The connection was lost in a way that may have lost messages in flight (not a replacement). */
  lossMayDropMessages = false;
  /** Why the last dial failed (said when the peer is declared down). */
  lastDialError: string | undefined;
  graceTimer: TimerHandle | undefined;
  retryTimer: TimerHandle | undefined;
  readonly backoff: Backoff;
  readonly outbox: Outbox;
  heldBytes = 0;
  private held: Buffer[] = [];
  private heldCounts: number[] = [];

  constructor(readonly id: string, private readonly host: LinkHost) {
    this.backoff = new Backoff(host.opts.reconnect, host.opts.random);
    this.outbox = new Outbox(this.sink, (env, err) => host.undeliverable(env, err), host.limits);
  }

  /** Why new envelopes for this peer must be refused with BackPressureError, or undefined. */
  congestion(): string | undefined {
    const o = this.host.opts;
    if (this.heldBytes >= o.maxHeldBytes) {
      return `${this.heldBytes} bytes are already held for node ${this.id} (backPressure.maxHeldBytes ${o.maxHeldBytes}); retry later`;
    }
    if (this.outbox.queued >= o.maxQueuedEnvelopes) {
      return `${this.outbox.queued} envelopes are already queued for node ${this.id} in this turn (backPressure.maxQueuedEnvelopes ${o.maxQueuedEnvelopes}); retry later`;
    }
    if (o.policy === 'error' && this.conn !== undefined && this.conn.pressured) {
      return `the socket to node ${this.id} has ${this.conn.bufferedAmount} bytes waiting (backPressure.highWaterMarkBytes ${o.highWaterMarkBytes}); retry later`;
    }
    return undefined;
  }

  /** The connection in use, for diagnostics. */
  summary(): ConnectionSummary | undefined {
    const c = this.conn;
    if (c === undefined) return undefined;
    return {
      peer: this.id, direction: c.outgoing ? 'out' : 'in', localPort: c.localPort, remotePort: c.remotePort,
      bufferedAmount: c.bufferedAmount, heldBytes: this.heldBytes,
    };
  }

  cancelTimers(): void {
    this.graceTimer?.cancel();
    this.graceTimer = undefined;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
  }

  /** Writes held frames, in order, until the connection is congested again. */
  writeHeld(): void {
    const c = this.conn;
    if (c === undefined || this.held.length === 0) return;
    let i = 0;
    while (i < this.held.length && !c.pressured && !c.closed) {
      const frame = this.held[i]!;
      c.write(frame, this.heldCounts[i]!);
      this.heldBytes -= frame.length;
      this.host.counters.heldBytes -= frame.length;
      i++;
    }
    this.held.splice(0, i);
    this.heldCounts.splice(0, i);
  }

  /** Gives up the held frames: every envelope in them is reported undeliverable with `err`. */
  dropHeld(err: Error): void {
    const frames = this.held;
    this.host.counters.heldBytes -= this.heldBytes;
    this.held = [];
    this.heldCounts = [];
    this.heldBytes = 0;
    for (const frame of frames) {
      // Our own encoding, so decoding cannot fail; it recovers each ask so that it fails now.
      for (const env of decodeFrame(frame, this.host.limits)) this.host.undeliverable(env, err);
    }
  }

  private readonly sink = (frame: Buffer, envelopes: number): void => {
    const c = this.conn;
    if (c !== undefined && !c.pressured && this.held.length === 0) {
      c.write(frame, envelopes);
      return;
    }
    this.held.push(frame);
    this.heldCounts.push(envelopes);
    this.heldBytes += frame.length;
    this.host.counters.heldBytes += frame.length;
  };
}
