/**
 * The public entry of cloudstackd's runtime: actors, protocols, schemas, errors, clocks, the
 * transport interface and node assembly. Internals (cells, mailboxes, wheels) are not exported.
 */
export { ActorSystem, type ActorSystemOptions } from './actor-system.js';
export type {
  ActorContext, ActorDefinition, ActorRef, Address, AskOptions, Handlers, MailboxOptions, OverflowPolicy,
  SpawnOptions, SupervisionOptions, SupervisorDirective,
} from './actor-types.js';
export { DEFAULT_MAILBOX, DEFAULT_SUPERVISION } from './actor-types.js';
export { Node, startNode, type NodeOptions } from './node.js';
export { defineProtocol, ask, tell, isCompatible, type Protocol, type AskKeys, type TellKeys, type RequestOf, type ReplyOf } from './protocol.js';
export { t, validate, type Schema, type Infer } from './schema.js';
export * from './errors.js';
export { createRealClock, SimulatedClock, type Clock, type TimerHandle } from './clock.js';
export { createRandom, createSeededRandom, shuffle, type Random } from './random.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export { encodeFrame, decodeFrame, roundTrip, DEFAULT_CODEC_LIMITS, type CodecLimits } from './codec.js';
export type { Envelope, EnvelopeKind } from './envelope.js';
export { CONTROL_LANE, DATA_LANE } from './envelope.js';
export type { Transport, TransportHandlers, TransportStats } from './transport.js';
