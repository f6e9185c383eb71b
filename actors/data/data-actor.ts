import type { ActorDefinition } from '../../src/actor-types.js';
import { CloudstackdError, InternalError, UnknownMessageError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { DataProtocol, isDataMethod, type DataCall } from './protocol.js';
import { schemaVersion, type DataStore } from './store/index.js';

export interface DataActorOptions {
  store: DataStore;
}

/**
 * The data component: the single writer. Each `call` runs one allowlisted store operation in one
 * transaction; `batch` runs several in one. Store errors (not found, illegal transition, capacity...)
 * go back to the caller as their own classes; anything else (an SQLite failure) is logged and
 * answered as InternalError without taking the actor down.
 */
export function dataActor(options: DataActorOptions): ActorDefinition<typeof DataProtocol, null> {
  const { store } = options;
  const run = (c: DataCall): unknown => {
    if (!isDataMethod(c.repo, c.method)) {
      throw new UnknownMessageError(`the data service has no operation ${c.repo}.${c.method}`);
    }
    const repo = (store as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[c.repo]!;
    const result = repo[c.method]!.apply(repo, c.args);
    return result === undefined ? null : result;
  };
  const guarded = <T>(log: Logger, what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CloudstackdError) throw err;
      log.error('data operation failed', { op: what, error: (err as Error).message });
      throw new InternalError(`data operation ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    protocol: DataProtocol,
    // A data actor that keeps failing must not be restarted in a tight loop over a broken database.
    mailbox: { capacity: 50_000, overflow: 'reject' },
    handlers: {
      call: (c, ctx) => guarded(ctx.log, `${c.repo}.${c.method}`, () => store.transaction(() => run(c))),
      batch: ({ calls }, ctx) => guarded(ctx.log, `batch of ${calls.length}`, () => store.transaction(() => calls.map(run))),
      status: () => ({ schemaVersion: schemaVersion(store.db) }),
    },
  };
}
