import type { ActorDefinition } from '../../src/actor-types.js';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { CloudstackdError, InternalError, ResourceUnavailableError, TimeoutError, UnknownMessageError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Fence } from '../../src/lease.js';
import type { ReplySink } from '../../src/pending-asks.js';
import { DataProtocol, isDataMethod, type DataCall } from './protocol.js';
import type { DataStore } from './store/index.js';
import { databaseLost } from './database-wait.js';

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
   * How long a call waits for a database that cannot be reached (PostgreSQL restarting, failing over)
   * before it fails with ResourceUnavailableError, ms, counted from the call's arrival. The actor waits
   * on a timer, trying the call again, instead of the connection blocking this thread: a data process
   * blocked on its database stops answering its peers, is declared down by the cluster (its callers'
   * asks fail as lost), and would still run those calls later, after their callers had moved on.
   * Calls that arrive meanwhile wait behind the first, in order. Undefined: no waiting (SQLite, whose
   * file is never unreachable). For one call per transaction only (PostgreSQL's default).
   */
  unavailableRetryMs?: number;
}

/** First and longest pause between two tries of a call while the database is unreachable, ms. */
const FIRST_RETRY_PAUSE_MS = 50;
const MAX_RETRY_PAUSE_MS = 500;

type Work = { run: () => unknown; reply: ReplySink; what: string; arrived: number; deadline: number | undefined };

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
  let clock: Clock | undefined;
  const stats = { fencedWrites: 0 };
  const waitMs = maxPerCommit === 1 ? options.unavailableRetryMs : undefined;
  /** While the database is unreachable: the timer of the next try, the pause before it, the last error. */
  let retryTimer: TimerHandle | undefined;
  let pause = 0;
  let lastLoss = '';

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
    if (work.length === 1) {
      // Alone, the call is the whole transaction: on PostgreSQL that is what lets a serialization
      // failure run it again (a savepoint inside a group could only fail it).
      if (!runAlone(work[0]!)) { queue = work; waitForDatabase(); }
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

  /**
   * Runs one call as its own transaction and answers it; false (unanswered) when the database could
   * not be reached and the call may wait for it. A call whose caller has given up (its ask deadline
   * passed while it waited) is not run at all: a write nobody waits for must not land later.
   */
  const runAlone = (w: Work): boolean => {
    if (w.deadline !== undefined && clock !== undefined && clock.now() >= w.deadline) {
      w.reply.reject(new TimeoutError(`data operation ${w.what} was not run: its caller's deadline passed while it waited`));
      return true;
    }
    let value: unknown;
    try {
      value = store.transaction(w.run);
    } catch (err) {
      const lost = waitMs === undefined || clock === undefined ? undefined : databaseLost(err);
      if (lost === undefined) { w.reply.reject(asError(err, w.what)); return true; }
      lastLoss = lost;
      if (clock!.now() - w.arrived < waitMs!) return false;
      w.reply.reject(unreachable(w));
      return true;
    }
    w.reply.resolve(value);
    return true;
  };
  const unreachable = (w: Work): ResourceUnavailableError => new ResourceUnavailableError(`data operation ${w.what} failed: ` +
    `${store.sql.describe} has been unreachable for ${waitMs} ms (unavailableRetryMs, --database-unavailable-retry): ${lastLoss}; ` +
    'the call was not run');

  /** The database is unreachable: the queue waits, and is tried again on a timer (this thread stays free). */
  const waitForDatabase = (): void => {
    if (retryTimer !== undefined || clock === undefined) return;
    if (pause === 0) log?.warn('the database is unreachable; calls wait for it', { waitMs, error: lastLoss });
    pause = pause === 0 ? FIRST_RETRY_PAUSE_MS : Math.min(MAX_RETRY_PAUSE_MS, pause * 2);
    retryTimer = clock.setTimeout(retryQueue, pause);
  };
  /** Fails the calls that waited their full time; tries the oldest of the others; goes on while that works. */
  const retryQueue = (): void => {
    retryTimer = undefined;
    const now = clock!.now();
    const expired = queue.filter((w) => now - w.arrived >= waitMs!);
    queue = queue.filter((w) => now - w.arrived < waitMs!);
    for (const w of expired) w.reply.reject(unreachable(w));
    const next = queue.shift();
    if (next === undefined) { pause = 0; return; }
    if (!runAlone(next)) { queue.unshift(next); waitForDatabase(); return; }
    if (pause !== 0) log?.info('the database is reachable again', { waiting: queue.length });
    pause = 0;
    // One call per turn of the event loop while the backlog drains, so that the process stays responsive.
    if (queue.length > 0) retryTimer = clock!.setTimeout(retryQueue, 0);
  };

  const enqueue = (w: Work): void => {
    queue.push(w);
    if (retryTimer !== undefined) return;
    if (maxPerCommit === 1) { commit(); return; }
    if (queue.length >= maxPerCommit) { commit(); return; }
    if (!scheduled) { scheduled = true; setImmediate(commit); }
  };

  return {
    protocol: DataProtocol,
    mailbox: { capacity: 50_000, overflow: 'reject' },
    started: (ctx) => { log = ctx.log; clock = ctx.clock; },
    stopping: () => {
      if (retryTimer !== undefined) {
        retryTimer.cancel();
        retryTimer = undefined;
        for (const w of queue.splice(0)) w.reply.reject(new ResourceUnavailableError(`data operation ${w.what} was not run: the data service stopped while the database was unreachable`));
      }
      if (queue.length > 0) commit();
    },
    handlers: {
      call: (c, ctx) => {
        const reply = ctx.detachReply();
        if (reply === undefined) return null;
        enqueue({ run: () => run(c), reply, what: `${c.repo}.${c.method}`, arrived: ctx.clock.now(), deadline: ctx.deadline });
        return null;
      },
      batch: ({ calls, fence }, ctx) => {
        const reply = ctx.detachReply();
        if (reply === undefined) return [];
        enqueue({ run: () => calls.map((c) => run(fence === undefined || c.fence !== undefined ? c : { ...c, fence })), reply,
          what: `batch of ${calls.length}`, arrived: ctx.clock.now(), deadline: ctx.deadline });
        return [];
      },
      status: () => ({ schemaVersion: store.sql.schemaVersion(), fencedWrites: stats.fencedWrites }),
    },
  };
}
