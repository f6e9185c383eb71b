/**
 * The envelope is what travels between actors. Inside a process the runtime passes message bodies by
 * reference; between nodes every envelope goes through the codec (src/codec.ts).
 */
export type EnvelopeKind = 'tell' | 'ask' | 'reply' | 'error' | 'sys';

/** Lanes: control traffic (membership, system messages) is always sent before data traffic. */
export const CONTROL_LANE = 0;
export const DATA_LANE = 1;
export type Lane = typeof CONTROL_LANE | typeof DATA_LANE;

export interface Envelope {
  kind: EnvelopeKind;
  /** Unique message id; a retried ask keeps its id so the receiver can deduplicate. */
  id: string;
  /** Target node id and actor path on that node. */
  toNode: string;
  to: string;
  /** Sending node id and actor path ('' for a caller outside any actor). */
  fromNode: string;
  from: string;
  /** Message type (a key of the target's protocol), or a system message type. */
  type: string;
  body: unknown;
  /** For replies and errors: the id of the ask being answered. */
  corr?: string;
  /** For asks: milliseconds left before the deadline at the moment of sending (clock-skew free). */
  ttl?: number;
  /** Trace context (W3C traceparent-like string), carried along nested sends. */
  trace?: string;
  /** Receiver must deduplicate this message by (fromNode, id): it may be delivered more than once. */
  dedup?: boolean;
  lane?: Lane;
}
