import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { decodeFrame, type CodecLimits } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import type { Logger } from '../../src/logger.js';
import { CLOSE } from './close-codes.js';
import type { WsStats } from './stats.js';

/** What an established connection needs from its transport (shared by all connections). */
export interface ConnectionContext {
  readonly limits: CodecLimits;
  readonly highWaterMarkBytes: number;
  readonly pingIntervalMs: number;
  readonly closeTimeoutMs: number;
  readonly clock: Clock;
  readonly counters: WsStats;
  readonly log: Logger;
  deliver(env: Envelope): void;
  /** The connection closed or was closed (called once, synchronously for closes this end starts). */
  connectionClosed(conn: WsConnection, code: number, reason: string): void;
  /** A congested connection's socket drained below its high-water mark. */
  connectionDrained(conn: WsConnection): void;
}

export interface ConnectionInfo {
  peerId: string;
  /** True when this node dialed the connection (the tie-break keeps the lower node id's dial). */
  outgoing: boolean;
  /** The peer process's incarnation: a new epoch on the same node id means it restarted. */
  epoch: string;
  /** Remote socket address, for log lines. */
  remote: string;
  localPort: number;
  remotePort: number;
}

// One options object for every send: no per-frame allocation on the hot path.
const SEND_OPTS = { binary: true, compress: false, fin: true } as const;

/**
 * An authenticated connection to one peer: writes frames with back-pressure accounting, decodes
 * incoming frames (a malformed one closes the connection with 4400 and is counted; ws itself closes
 * with 1009 a frame over maxFrameBytes), and detects a silent peer with ping/pong within two ping
 * intervals. It has one timer (the ping interval), never one per message.
 */
export class WsConnection {
  readonly peerId: string;
  readonly outgoing: boolean;
  readonly epoch: string;
  readonly remote: string;
  readonly localPort: number;
  readonly remotePort: number;
  /** Socket buffer above the high-water mark; cleared when the frame that crossed it is written out. */
  pressured = false;
  closed = false;
  /** After close(): whether frames still arriving are delivered (a replaced connection drains). */
  private draining = false;
  private heard = true;
  private readonly pingTimer: TimerHandle;
  private readonly closedPromise: Promise<void>;

  constructor(private readonly ws: WebSocket, info: ConnectionInfo, private readonly ctx: ConnectionContext) {
    this.peerId = info.peerId;
    this.outgoing = info.outgoing;
    this.epoch = info.epoch;
    this.remote = info.remote;
    this.localPort = info.localPort;
    this.remotePort = info.remotePort;
    this.closedPromise = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', this.onMessage);
    ws.on('pong', this.onHeard);
    ws.on('ping', this.onHeard);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
    this.pingTimer = ctx.clock.setInterval(this.onPingTick, ctx.pingIntervalMs);
  }

  /** Bytes waiting in this connection's socket. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Hot path: one frame (a per-turn batch) out. The caller holds frames while `pressured`. */
  write(frame: Buffer, envelopes: number): void {
    const c = this.ctx.counters;
    c.framesSent++;
    c.envelopesSent += envelopes;
    c.bytesSent += frame.length;
    if (this.ws.bufferedAmount + frame.length >= this.ctx.highWaterMarkBytes) {
      // Only the frame that crosses the mark carries a callback: when it is written out, the socket
      // has drained everything before it.
      this.pressured = true;
      c.backpressureEvents++;
      this.ws.send(frame, SEND_OPTS, this.onDrained);
    } else {
      this.ws.send(frame, SEND_OPTS);
    }
  }

  /**
   * Closes with an application code; the transport hears about it at once, not after the close
   * handshake. With `drain`, frames the peer sent before it saw the close are still delivered.
   */
  close(code: number, reason: string, drain = false): void {
    if (this.closed) return;
    this.draining = drain;
    this.finish(code, reason);
    this.ws.close(code, reason.slice(0, 120));
    // A peer that never answers the close frame is cut after closeTimeoutMs, not ws's 30 s.
    this.ctx.clock.setTimeout(() => this.ws.terminate(), this.ctx.closeTimeoutMs);
  }

  /** Cuts the connection without a close handshake (silent peer). */
  terminate(code: number, reason: string): void {
    if (this.closed) return;
    this.finish(code, reason);
    this.ws.terminate();
  }

  /** Resolves when the socket is closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  private finish(code: number, reason: string): void {
    this.closed = true;
    this.pingTimer.cancel();
    this.ctx.connectionClosed(this, code, reason);
  }

  private readonly onMessage = (data: Buffer, isBinary: boolean): void => {
    if (this.closed && !this.draining) return;
    this.heard = true;
    const c = this.ctx.counters;
    c.framesReceived++;
    c.bytesReceived += data.length;
    if (!isBinary) {
      this.refuseFrame('text frame after the handshake');
      return;
    }
    let envelopes: Envelope[];
    try {
      envelopes = decodeFrame(data, this.ctx.limits);
    } catch (err) {
      this.refuseFrame((err as Error).message);
      return;
    }
    c.envelopesReceived += envelopes.length;
    for (let i = 0; i < envelopes.length; i++) {
      const env = envelopes[i]!;
      // An authenticated peer speaks only for itself: no forged sender node ids.
      if (env.fromNode !== this.peerId) { c.misaddressed++; continue; }
      try {
        this.ctx.deliver(env);
      } catch (err) {
        // A fault in the receiving runtime must not take the connection (or the process) down.
        c.handlerErrors++;
        this.ctx.log.error('envelope handler failed', { peer: this.peerId, type: env.type, error: (err as Error).message });
      }
    }
  };

  private refuseFrame(problem: string): void {
    this.draining = false;
    this.ctx.counters.decodeErrors++;
    this.ctx.log.warn('closing connection: malformed frame from peer', { peer: this.peerId, remote: this.remote, problem: problem.slice(0, 200) });
    this.close(CLOSE.MALFORMED_FRAME, 'malformed frame');
  }

  private readonly onHeard = (): void => {
    this.heard = true;
  };

  private readonly onPingTick = (): void => {
    if (this.closed) return;
    if (!this.heard) {
      this.ctx.counters.livenessTimeouts++;
      this.ctx.log.warn('peer silent for 2 ping intervals; dropping its connection', { peer: this.peerId, remote: this.remote, pingIntervalMs: this.ctx.pingIntervalMs });
      this.terminate(CLOSE.SILENT_PEER, 'peer silent');
      return;
    }
    this.heard = false;
    this.ws.ping();
  };

  private readonly onDrained = (err?: Error | null): void => {
    if (err || this.closed) return;
    this.pressured = false;
    this.ctx.connectionDrained(this);
  };

  private readonly onError = (err: Error & { code?: string }): void => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      // ws closes with 1009 itself; the frame broke a limit, so it counts as a decode error.
      this.ctx.counters.decodeErrors++;
      this.ctx.counters.framesTooLarge++;
      this.ctx.log.warn('closing connection: frame over maxFrameBytes (1009)', { peer: this.peerId, remote: this.remote, maxFrameBytes: this.ctx.limits.maxFrameBytes });
    } else if (err.code?.startsWith('WS_ERR_') === true) {
      this.ctx.counters.decodeErrors++;
      this.ctx.log.warn('closing connection: invalid WebSocket frame', { peer: this.peerId, remote: this.remote, error: err.message });
    } else {
      this.ctx.log.debug('connection error', { peer: this.peerId, remote: this.remote, error: err.message });
    }
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    this.draining = false;
    if (this.closed) return;
    this.finish(code, reason.toString('utf8'));
  };
}
