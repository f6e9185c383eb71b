import { DEFAULT_CODEC_LIMITS, decodeFrame, type CodecLimits } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import { NotSentError, PeerDownError, StoppedError } from '../../src/errors.js';
import { Outbox } from '../../src/outbox.js';
import { emptyStats, type Transport, type TransportHandlers, type TransportStats } from '../../src/transport.js';
import { InprocHub } from './hub.js';

export interface InprocTransportOptions {
  nodeId: string;
  hub: InprocHub;
  limits?: CodecLimits;
}

/**
 * Nodes in one process. Same semantics as the network transports: every envelope is encoded into a
 * frame (batched per event-loop turn, control lane first) and decoded on arrival, so whatever could
 * not cross a real wire fails here too; a node that stops is seen going by its peers.
 */
export class InprocTransport implements Transport {
  readonly kind = 'inproc';
  readonly nodeId: string;
  private readonly hub: InprocHub;
  private readonly limits: CodecLimits;
  private readonly outboxes = new Map<string, Outbox>();
  private handlers: TransportHandlers | undefined;
  private readonly counters: TransportStats = emptyStats();

  constructor(options: InprocTransportOptions) {
    this.nodeId = options.nodeId;
    this.hub = options.hub;
    this.limits = options.limits ?? DEFAULT_CODEC_LIMITS;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
    this.hub.attach(this);
  }

  async stop(): Promise<void> {
    for (const box of this.outboxes.values()) box.flush();
    this.outboxes.clear();
    this.hub.detach(this);
    this.handlers = undefined;
  }

  send(nodeId: string, env: Envelope): void {
    if (this.handlers === undefined) throw new StoppedError(`transport of ${this.nodeId} is not running`);
    if (this.hub.get(nodeId) === undefined) {
      this.counters.sendFailures++;
      throw new NotSentError(`node ${nodeId} is not reachable from ${this.nodeId}`);
    }
    this.outboxFor(nodeId).push(env);
  }

  broadcast(env: Envelope): void {
    for (const id of this.hub.ids()) if (id !== this.nodeId) this.outboxFor(id).push({ ...env, toNode: id });
  }

  peers(): string[] {
    return this.hub.ids().filter((id) => id !== this.nodeId);
  }

  address(): string {
    return `inproc://${this.nodeId}`;
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Called by the hub. */
  peerUp(nodeId: string): void {
    this.handlers?.onPeerUp(nodeId);
  }

  peerDown(nodeId: string, reason: string): void {
    const box = this.outboxes.get(nodeId);
    this.outboxes.delete(nodeId);
    for (const env of box?.drain() ?? []) this.handlers?.onUndeliverable(env, new PeerDownError(`node ${nodeId} stopped`));
    this.handlers?.onPeerDown(nodeId, reason);
  }

  /** A frame arrives from another in-process node. */
  receiveFrame(frame: Buffer): void {
    const h = this.handlers;
    if (h === undefined) return;
    this.counters.framesReceived++;
    this.counters.bytesReceived += frame.length;
    let envelopes: Envelope[];
    try {
      envelopes = decodeFrame(frame, this.limits);
    } catch {
      this.counters.decodeErrors++;
      return;
    }
    this.counters.envelopesReceived += envelopes.length;
    for (const env of envelopes) h.onEnvelope(env);
  }

  private outboxFor(nodeId: string): Outbox {
    let box = this.outboxes.get(nodeId);
    if (box === undefined) {
      box = new Outbox(
        (frame, n) => {
          this.counters.framesSent++;
          this.counters.envelopesSent += n;
          this.counters.bytesSent += frame.length;
          const target = this.hub.get(nodeId);
          if (target) target.receiveFrame(frame);
          else this.counters.sendFailures++;
        },
        (env, err) => { this.counters.sendFailures++; this.handlers?.onUndeliverable(env, err); },
        this.limits,
      );
      this.outboxes.set(nodeId, box);
    }
    return box;
  }
}
