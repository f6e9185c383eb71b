/**
 * The trace id of the work under way, carried across async calls (AsyncLocalStorage): an API request
 * starts one, every ask made while handling it carries it in its envelope (even from code that holds no
 * actor context, such as a data client), and an actor handling a traced message runs under it, so the
 * asks it makes carry it on to other processes. Logs print it (`trace` field).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const store = new AsyncLocalStorage<string>();

/** The trace id of the current work, if any. */
export function currentTrace(): string | undefined {
  return store.getStore();
}

/** Runs `fn` (and everything it starts) under `trace`. */
export function withTrace<T>(trace: string, fn: () => T): T {
  return store.run(trace, fn);
}
