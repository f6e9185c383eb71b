import type { Envelope } from './envelope.js';

/**
 * The one interface every transport implements (in-process, WebSocket, Redis). Transports move
 * envelopes between nodes: they encode them with src/codec.ts, batch what is queued in one event-loop
 * turn into one frame, send the control lane before the data lane, and report peers coming and going.
 */
export interface TransportHandlers {
  /** An envelope arrived from another node (already decoded and structurally checked). */
  onEnvelope(env: Envelope): void;
  /** A connection to `nodeId` is established (handshake done). */
  onPeerUp(nodeId: string): void;
  /** `nodeId` is lost (for connection-based transports: not re-established within the grace period). */
  onPeerDown(nodeId: string, reason: string): void;
  /** An envelope could not be sent (too large, peer gone); an ask it carried should fail now. */
  onUndeliverable(env: Envelope, err: Error): void;
}

export interface TransportStats {
  framesSent: number;
  framesReceived: number;
  envelopesSent: number;
  envelopesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Frames that could not be decoded or broke a limit (the connection is closed, the node keeps running). */
  decodeErrors: number;
  /** Envelopes that could not be sent (peer unknown or down). */
  sendFailures: number;
  /** Peers refused at the handshake (wrong secret, wrong cluster, replay, skew). */
  authFailures: number;
  /** Other transport-specific counters. */
  [counter: string]: number;
}

export interface Transport {
  /** The node id this transport speaks for. */
  readonly nodeId: string;
  /** A short name for logs: "inproc", "ws", "redis". */
  readonly kind: string;
  start(handlers: TransportHandlers): Promise<void>;
  /** Stops sending and receiving, closes connections and timers. */
  stop(): Promise<void>;
  /** Queues an envelope for `nodeId`. Throws PeerDownError when the node cannot be reached at all. */
  send(nodeId: string, env: Envelope): void;
  /** Sends an envelope to every connected peer (used for control traffic). */
  broadcast(env: Envelope): void;
  /** Node ids currently connected. */
  peers(): string[];
  /** Where this node can be reached, for membership metadata (e.g. "ws://127.0.0.1:7000"). */
  address(): string | undefined;
  /** Learns how to reach a node (from gossip or configuration). */
  learnAddress?(nodeId: string, address: string): void;
  /** Connects to an address whose node id is not yet known (a seed); resolves to that node id. */
  dial?(address: string): Promise<string>;
  stats(): TransportStats;
}

export function emptyStats(): TransportStats {
  return {
    framesSent: 0, framesReceived: 0, envelopesSent: 0, envelopesReceived: 0, bytesSent: 0,
    bytesReceived: 0, decodeErrors: 0, sendFailures: 0, authFailures: 0,
  };
}
