/**
 * The trace id of the work under way, carried across async calls (AsyncLocalStorage): an API request
 * starts one, every ask made while handling it carries it in its envelope (even from code that holds no
 * actor context, such as a data client), and an actor handling a traced message runs under it, so the
 * asks it makes carry it on to other processes. Logs print it (`trace` field).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const store = new AsyncLocalStorage<string>();
/** False until some work is traced: a process that never traces (most actors' hot paths) skips the lookup. */
let tracing = false;

/** The trace id of the current work, if any. */
export function currentTrace(): string | undefined {
  return tracing ? store.getStore() : undefined;
}

/** Runs `fn` (and everything it starts) under `trace`. */
export function withTrace<T>(trace: string, fn: () => T): T {
  tracing = true;
  return store.run(trace, fn);
}
