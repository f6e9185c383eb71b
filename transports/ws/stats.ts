import { emptyStats, type TransportStats } from '../../src/transport.js';

/** The ws transport's counters: the common ones plus its own. */
export interface WsStats extends TransportStats {
  /**
   * Connections re-established within the grace period. The peer was not declared down for good, but
   * is reported down then up so that asks in flight on the lost connection fail now.
   */
  reconnects: number;
  /** Times a peer's socket buffer crossed the high-water mark. */
  backpressureEvents: number;
  /** Envelopes refused with BackPressureError. */
  backpressureRejects: number;
  /** Connections dropped because the peer stayed silent for two ping intervals. */
  livenessTimeouts: number;
  /** Incoming connections that completed the WebSocket upgrade but not the cluster handshake in time. */
  handshakeTimeouts: number;
  /** Incoming connections that did not complete the WebSocket upgrade (or TLS) within handshakeTimeoutMs. */
  upgradeTimeouts: number;
  /** Unauthenticated incoming connections closed to admit a newcomer, or newcomers refused because every pending one was just accepted. */
  pendingShed: number;
  /** Incoming frames over maxFrameBytes (closed with 1009; also counted in decodeErrors). */
  framesTooLarge: number;
  /** Connections closed by the tie-break or replaced by a newer one from the same peer. */
  duplicateConnections: number;
  /** Envelopes whose sender node id was not the authenticated peer's (dropped). */
  misaddressed: number;
  /** Envelopes whose delivery to the runtime threw (logged; the connection stays up). */
  handlerErrors: number;
  /** Dials whose handshake this node's peer refused (the peer counts it in its authFailures). */
  refusedByPeer: number;
  /** Handshakes completed, both directions. */
  connectionsEstablished: number;
  /** Bytes of frames held for peers right now (a gauge, not a counter). */
  heldBytes: number;
  /** Incoming connections accepted and not yet authenticated right now (a gauge). */
  pendingHandshakes: number;
}

export function emptyWsStats(): WsStats {
  return {
    ...emptyStats(), reconnects: 0, backpressureEvents: 0, backpressureRejects: 0, livenessTimeouts: 0,
    handshakeTimeouts: 0, upgradeTimeouts: 0, pendingShed: 0, framesTooLarge: 0, duplicateConnections: 0, misaddressed: 0, handlerErrors: 0, refusedByPeer: 0,
    connectionsEstablished: 0, heldBytes: 0, pendingHandshakes: 0,
  };
}

/** One connection in use, as connections() reports it. */
export interface ConnectionSummary {
  peer: string;
  /** 'out' when this node dialed it. */
  direction: 'in' | 'out';
  localPort: number;
  remotePort: number;
  /** Bytes waiting in the socket. */
  bufferedAmount: number;
  /** Bytes of frames held by this transport for the peer (congestion). */
  heldBytes: number;
}
