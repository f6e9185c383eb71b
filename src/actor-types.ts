import type { AskKeys, MessagesOf, Protocol, ReplyOf, RequestOf, TellKeys } from './protocol.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/** Where an actor lives: the node id and the actor's path on that node. */
export interface Address {
  readonly node: string;
  readonly path: string;
}

export interface AskOptions {
  /** Milliseconds before the ask rejects with TimeoutError. Default: the system's askTimeoutMs. */
  timeoutMs?: number;
  /** Reuse this message id (a retried ask keeps its id so the receiver deduplicates it). */
  id?: string;
  /**
   * Resend the same message (same id) every `intervalMs` until a reply arrives or the deadline passes.
   * The receiver deduplicates by id, so the handler runs once. Only for remote targets.
   */
  retry?: { intervalMs: number };
  /** Trace context to carry; defaults to the current message's. */
  trace?: string;
}

/** A typed handle on an actor, local or remote. */
export interface ActorRef<P extends Protocol = Protocol> extends Address {
  readonly protocol: P;
  /** Fire-and-forget. At most once, ordered per sender–receiver pair. Throws MailboxFullError locally when refused. */
  tell<K extends TellKeys<P>>(type: K, body: RequestOf<P, K>): void;
  /** Like tell, but waits for room when the target's mailbox applies back-pressure. */
  send<K extends TellKeys<P>>(type: K, body: RequestOf<P, K>): Promise<void>;
  /** Request/reply with a deadline; rejects with a typed error (TimeoutError, DeadLetterError, ...). */
  ask<K extends AskKeys<P>>(type: K, body: RequestOf<P, K>, options?: AskOptions): Promise<ReplyOf<P, K>>;
}

export type OverflowPolicy = 'reject' | 'drop-oldest' | 'backpressure';

export interface MailboxOptions {
  /** Most messages queued for the actor. Default 10,000. */
  capacity: number;
  /** What happens to a message that finds the mailbox full. Default 'reject' (sender gets MailboxFullError). */
  overflow: OverflowPolicy;
  /** For 'backpressure': most senders waiting for room before further ones are refused. Default 10,000. */
  maxWaiting: number;
  /** Messages handled per turn before yielding to I/O. Default 512. */
  throughput: number;
}

export type SupervisorDirective = 'restart' | 'stop' | 'escalate';

export interface SupervisionOptions {
  /** What the parent does when this actor fails (throws something that is not a CloudstackdError). */
  directive: SupervisorDirective;
  /** Most restarts within windowMs; one more escalates the failure to the parent. Default 5. */
  maxRestarts: number;
  /** Window for counting restarts, ms. Default 10,000. */
  windowMs: number;
  /** First restart delay, ms; doubled for each recent restart. Default 10. */
  backoffMinMs: number;
  /** Longest restart delay, ms. Default 2,000. */
  backoffMaxMs: number;
}

export interface ActorContext<S> {
  readonly self: Address;
  readonly clock: Clock;
  readonly log: Logger;
  /** The actor's private state; handlers may replace it. */
  state: S;
  /** Sender of the message being handled, when it came from an actor. */
  readonly sender: Address | undefined;
  /** Absolute deadline (clock ms) of the ask being handled, if any. */
  readonly deadline: number | undefined;
  /** A ref to an actor by address and protocol (local or remote). */
  ref<P extends Protocol>(address: Address | string, protocol: P): ActorRef<P>;
  /** Ask that inherits the current message's remaining deadline and trace. */
  ask<P extends Protocol, K extends AskKeys<P>>(ref: ActorRef<P>, type: K, body: RequestOf<P, K>, options?: AskOptions): Promise<ReplyOf<P, K>>;
  /** Tell carrying this actor as sender and the current trace. */
  tell<P extends Protocol, K extends TellKeys<P>>(ref: ActorRef<P>, type: K, body: RequestOf<P, K>): void;
  /** Spawns a child under this actor's path. */
  spawn<P extends Protocol, C>(name: string, definition: ActorDefinition<P, C>, options?: SpawnOptions): ActorRef<P>;
  /** Stops this actor (default) or one of its children. */
  stop(target?: Address): Promise<void>;
  /**
   * Takes over the reply of the ask being handled: the handler's return value is then ignored and the
   * actor moves on to its next message, answering later through the returned sink (exactly once).
   * Lets an actor batch work across messages (e.g. one commit for many writes). Undefined for tells.
   */
  detachReply(): { resolve(value: unknown): void; reject(err: unknown): void } | undefined;
  /** Delivers `onTerminated` to this actor when the target stops or its node is lost. */
  watch(target: Address): void;
  unwatch(target: Address): void;
}

export type Handler<Req, Rep, S> = (body: Req, ctx: ActorContext<S>) => Rep | Promise<Rep>;

export type Handlers<P extends Protocol, S> = {
  [K in keyof MessagesOf<P> & string]: Handler<RequestOf<P, K>, ReplyOf<P, K>, S>;
};

export interface ActorDefinition<P extends Protocol, S> {
  protocol: P;
  /** Builds the private state; runs at start and again at each restart. */
  init?: (ctx: ActorContext<S>) => S | Promise<S>;
  handlers: Handlers<P, S>;
  started?: (ctx: ActorContext<S>) => void | Promise<void>;
  stopping?: (ctx: ActorContext<S>) => void | Promise<void>;
  restarted?: (ctx: ActorContext<S>, cause: unknown) => void | Promise<void>;
  /** A watched actor stopped or its node was lost. */
  onTerminated?: (target: Address, ctx: ActorContext<S>) => void | Promise<void>;
  mailbox?: Partial<MailboxOptions>;
}

export interface SpawnOptions {
  supervision?: Partial<SupervisionOptions>;
}

export const DEFAULT_MAILBOX: MailboxOptions = { capacity: 10_000, overflow: 'reject', maxWaiting: 10_000, throughput: 512 };
export const DEFAULT_SUPERVISION: SupervisionOptions = {
  directive: 'restart', maxRestarts: 5, windowMs: 10_000, backoffMinMs: 10, backoffMaxMs: 2_000,
};
