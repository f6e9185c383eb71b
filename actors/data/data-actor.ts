import type { ActorDefinition } from '../../src/actor-types.js';
import { CloudstackdError, FencedError, InternalError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Fence } from '../../src/lease.js';
import type { ReplySink } from '../../src/pending-asks.js';
import type { ActorContext } from '../../src/actor-types.js';
import { deployHandlers, executeWork, fenceOf, type StoreWork } from './call-executor.js';
import type { DeployHandlers } from './deploy-handlers.js';
import { DataProtocol } from './protocol.js';
import type { DataStore } from './store/index.js';
import type { StoreThreads } from './store-threads.js';

export interface DataActorOptions {
  store: DataStore;
  /**
   * Group commit: calls that arrive together run in one SQLite transaction (each in its own savepoint,
   * so one call's failure undoes only that call) and are answered after that single commit. With
   * synchronous=FULL a commit is an fsync; sharing it is what lets a busy cloud write fast without
   * answering anyone before their change is durable. Most calls per commit; default 256 for a file
   * database, 1 (no grouping: answered at once) for an in-memory one, which has no fsync to share.
   */
  maxCallsPerCommit?: number;
  /**
   * PostgreSQL: the pool of store threads that runs the calls (the actor's thread only waits for them).
   * Absent: calls run on `store` in this thread, with group commit (SQLite).
   */
  threads?: StoreThreads;
}

type Work = { run: () => unknown; reply: ReplySink; what: string };

/**
 * The data component: the single writer. Each `call` runs one allowlisted store operation; `batch`
 * runs several all-or-nothing. Store errors (not found, illegal transition, capacity...) go back to
 * the caller as their own classes; anything else (an SQLite failure) is logged and answered as
 * InternalError without taking the actor down.
 */
export function dataActor(options: DataActorOptions): ActorDefinition<typeof DataProtocol, null> {
  const { store } = options;
  const maxPerCommit = Math.max(1, options.maxCallsPerCommit ?? (store.sql.memory || store.sql.dialect === 'postgres' ? 1 : 256));
  let queue: Work[] = [];
  let scheduled = false;
  let log: Logger | undefined;
  const stats = { fencedWrites: 0 };

  /** Rare and telling (a stale owner woke up): every one is logged. */
  const fenced = (f: Fence): void => {
    stats.fencedWrites++;
    log?.warn('refused a write from a stale lease holder', { lease: f.lease, owner: f.owner, epoch: f.epoch });
  };
  const ops = deployHandlers(store);
  const perform = (w: StoreWork): unknown => executeWork(store, ops, w, fenced);
  const submit = (w: StoreWork, reply: ReplySink, what: string, deadline: number | undefined): void => {
    if (options.threads !== undefined) offload(w, reply, what, deadline);
    else enqueue({ run: () => perform(w), reply, what });
  };
  /** A named operation: run like a call, under its fence when it has one. */
  const op = <Req extends object, Rep>(name: keyof DeployHandlers) => (req: Req, ctx: ActorContext<null>): Rep => {
    const reply = ctx.detachReply();
    if (reply !== undefined) submit({ kind: 'op', name, req }, reply, name, ctx.deadline);
    return null as Rep; // answered when the work is done (detachReply)
  };
  /** PostgreSQL: the call runs on a store thread; this thread answers when it is done. */
  const offload = (w: StoreWork, reply: ReplySink, what: string, deadline: number | undefined): void => {
    options.threads!.run(w, deadline).then((value) => reply.resolve(value), (err: unknown) => {
      if (err instanceof FencedError) { const f = fenceOf(w); if (f !== undefined) fenced(f); }
      reply.reject(asError(err, what));
    });
  };
  const asError = (err: unknown, what: string): unknown => {
    if (err instanceof CloudstackdError) return err;
    log?.error('data operation failed', { op: what, error: (err as Error).message });
    return new InternalError(`data operation ${what} failed: ${(err as Error).message}`, { cause: err });
  };

  const commit = (): void => {
    scheduled = false;
    const work = queue;
    queue = [];
    if (work.length === 1) {
      // Alone, the call is the whole transaction: on PostgreSQL that is what lets a serialization
      // failure run it again (a savepoint inside a group could only fail it).
      const w = work[0]!;
      let value: unknown;
      try {
        value = store.transaction(w.run);
      } catch (err) {
        w.reply.reject(asError(err, w.what));
        return;
      }
      w.reply.resolve(value);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      store.transaction(() => {
        for (const w of work) {
          try {
            outcomes.push({ ok: true, value: store.transaction(w.run) });
          } catch (err) {
            outcomes.push({ ok: false, value: asError(err, w.what) });
          }
        }
      });
    } catch (err) {
      // The commit itself failed: nothing of this group is durable, so nobody is told it succeeded.
      const e = asError(err, `commit of ${work.length} calls`);
      for (const w of work) w.reply.reject(e);
      return;
    }
    work.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.reply.resolve(o.value);
      else w.reply.reject(o.value);
    });
  };

  const enqueue = (w: Work): void => {
    queue.push(w);
    if (maxPerCommit === 1) { commit(); return; }
    if (queue.length >= maxPerCommit) { commit(); return; }
    if (!scheduled) { scheduled = true; setImmediate(commit); }
  };

  return {
    protocol: DataProtocol,
    mailbox: { capacity: 50_000, overflow: 'reject' },
    started: (ctx) => { log = ctx.log; },
    stopping: () => { if (queue.length > 0) commit(); },
    handlers: {
      call: (c, ctx) => {
        const reply = ctx.detachReply();
        if (reply === undefined) return null;
        const w: StoreWork = { kind: 'call', call: c };
        if (options.threads !== undefined) offload(w, reply, `${c.repo}.${c.method}`, ctx.deadline);
        else enqueue({ run: () => perform(w), reply, what: `${c.repo}.${c.method}` });
        return null;
      },
      batch: ({ calls, fence }, ctx) => {
        const reply = ctx.detachReply();
        if (reply === undefined) return [];
        const w: StoreWork = { kind: 'batch', calls, ...(fence === undefined ? {} : { fence }) };
        if (options.threads !== undefined) offload(w, reply, `batch of ${calls.length}`, ctx.deadline);
        else enqueue({ run: () => perform(w), reply, what: `batch of ${calls.length}` });
        return [];
      },
      startContext: op('startContext'),
      reserveHostForStart: op('reserveHostForStart'),
      beginVolumeCreate: op('beginVolumeCreate'),
      completeVolumeCreate: op('completeVolumeCreate'),
      status: () => ({ schemaVersion: store.sql.schemaVersion(), fencedWrites: stats.fencedWrites }),
    },
  };
}
