import { ask, defineProtocol, tell } from '../../src/protocol.js';
import { t } from '../../src/schema.js';

/**
 * The echo diagnostic component: answers pings so an operator (or a test) can check that a node is
 * reachable over its transport, and records what it is told so ordering and delivery can be verified.
 */
export const EchoProtocol = defineProtocol('echo', '1.0', {
  /** Returns the body unchanged. */
  echo: ask(t.object({ text: t.string(), seq: t.optional(t.number()) }), t.object({ text: t.string(), seq: t.optional(t.number()) })),
  /** Answers 'done' after `ms` milliseconds (bounded by maxSlowMs). */
  slow: ask(t.object({ ms: t.number({ min: 0 }) }), t.string()),
  /** Records a sequence number (for delivery-order checks). */
  record: tell(t.object({ seq: t.number(), from: t.string() })),
  /** Number of echo and record messages handled since start. */
  count: ask(t.object({}), t.number()),
  /** Fails the actor (for supervision checks): the caller gets HandlerError and the actor restarts. */
  crash: ask(t.object({}), t.string()),
  crashTell: tell(t.object({})),
  /** Records an id and returns it (for exactly-once checks with retried asks). */
  work: ask(t.object({ id: t.string() }), t.string()),
});

export const ECHO_PATH = '/echo';
