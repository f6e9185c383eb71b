import { nanoid } from 'nanoid';

/**
 * Message ids: a random per-process prefix plus a counter. Unique across processes and restarts of the
 * same node (the prefix changes), and far cheaper than a random id per message on the hot path.
 */
export function createIdGenerator(): () => string {
  const prefix = nanoid(10) + '.';
  let n = 0;
  return () => prefix + (n++).toString(36);
}

/** A random id for things that are not messages (nodes, epochs, nonces). */
export function randomId(size = 21): string {
  return nanoid(size);
}
