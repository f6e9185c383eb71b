/**
 * WebSocket close codes used by the ws transport. 1000-1015 are the protocol's own (ws sends 1009 for
 * a frame over maxPayload by itself); 4000-4999 are reserved for applications.
 */
export const CLOSE = {
  NORMAL: 1000,
  /** RFC 6455 "message too big": a frame over maxFrameBytes (sent by ws). */
  TOO_BIG: 1009,
  /** The peer is stopping on purpose: declare it down at once, do not redial. */
  NODE_STOPPING: 4000,
  /** Tie-break: another connection between the same two nodes is kept. */
  DUPLICATE: 4001,
  /** A newer connection from the same peer replaced this one. */
  REPLACED: 4002,
  /** Handshake refused (wrong secret, cluster, replay, skew...). */
  AUTH_FAILED: 4003,
  /** The handshake did not complete within handshakeTimeoutMs. */
  HANDSHAKE_TIMEOUT: 4004,
  /** The peer answered for another node id than the one this address was learned for. */
  WRONG_NODE: 4005,
  /** No ping answered for two ping intervals (used locally: a silent socket is cut, not closed). */
  SILENT_PEER: 4008,
  /** A frame could not be decoded (CodecError): the connection is closed, the node keeps running. */
  MALFORMED_FRAME: 4400,
} as const;
