import type { ActorDefinition } from '../../src/actor-types.js';
import { CloudstackdError, InternalError, UnknownMessageError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Fence } from '../../src/lease.js';
import type { ReplySink } from '../../src/pending-asks.js';
import type { ActorContext } from '../../src/actor-types.js';
import { deployHandlers } from './deploy-handlers.js';
import { DataProtocol, isDataMethod, type DataCall } from './protocol.js';
import { schemaVersion, type DataStore } from './store/index.js';

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
  const maxPerCommit = Math.max(1, options.maxCallsPerCommit ?? (store.db.memory ? 1 : 256));
  let queue: Work[] = [];
  let scheduled = false;
  let log: Logger | undefined;
  const stats = { fencedWrites: 0 };

  const run = (c: DataCall): unknown => {
    if (!isDataMethod(c.repo, c.method)) throw new UnknownMessageError(`the data service has no operation ${c.repo}.${c.method}`);
    if (c.fence !== undefined) fenced(c.fence);
    const repo = (store as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[c.repo]!;
    const result = repo[c.method]!.apply(repo, c.args);
    return result === undefined ? null : result;
  };
  /** Checked inside the call's own transaction, so a write is never made after its lease moved on. */
  const fenced = (f: Fence): void => {
    try {
      store.leases.checkFence(f);
    } catch (err) {
      stats.fencedWrites++;
      // Rare and telling (a stale owner woke up): every one is logged.
      log?.warn('refused a write from a stale lease holder', { lease: f.lease, owner: f.owner, epoch: f.epoch });
      throw err;
    }
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

  const ops = deployHandlers(store);
  /** A named operation: queued for the group commit like a call, under its fence when it has one. */
  const op = <Req extends object, Rep>(name: string, run: (req: Req) => Rep) => (req: Req, ctx: ActorContext<null>): Rep => {
    const reply = ctx.detachReply();
    const fence = (req as { fence?: Fence }).fence;
    if (reply !== undefined) enqueue({ run: () => { if (fence !== undefined) fenced(fence); return run(req); }, reply, what: name });
    return null as Rep; // answered by the commit (detachReply)
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
        enqueue({ run: () => run(c), reply, what: `${c.repo}.${c.method}` });
        return null;
      },
      batch: ({ calls, fence }, ctx) => {
        const reply = ctx.detachReply();
        if (reply === undefined) return [];
        enqueue({ run: () => calls.map((c) => run(fence === undefined || c.fence !== undefined ? c : { ...c, fence })), reply,
          what: `batch of ${calls.length}` });
        return [];
      },
      startContext: op('startContext', ops.startContext),
      reserveHostForStart: op('reserveHostForStart', ops.reserveHostForStart),
      beginVolumeCreate: op('beginVolumeCreate', ops.beginVolumeCreate),
      completeVolumeCreate: op('completeVolumeCreate', ops.completeVolumeCreate),
      status: () => ({ schemaVersion: schemaVersion(store.db), fencedWrites: stats.fencedWrites }),
    },
  };
}
