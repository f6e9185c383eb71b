import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, fromWire, InternalError, StoppedError, type WireError } from '../../src/errors.js';
import type { StoreWork } from './call-executor.js';
import type { PostgresOptions } from './store/sql/postgres-connection.js';

export type { StoreWork };
export type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; known: boolean; error: WireError };

export interface StoreThreadsOptions {
  postgres: PostgresOptions;
  /**
   * Threads, each with its own store and PostgreSQL connection: the data instance's connection pool.
   * Default 4: the store's own work per call is small next to the server round trips, so a few
   * connections keep a data instance busy; more instances (not more threads) spread the CPU.
   */
  poolSize?: number;
  /**
   * Calls waiting for a free connection, over all threads, before a call is refused (the caller retries
   * elsewhere or reports back-pressure). Default 10,000 (the data actor's mailbox holds 50,000).
   */
  maxQueued?: number;
}

export const DEFAULT_POOL_SIZE = 4;
export const DEFAULT_MAX_QUEUED = 10_000;

interface Member {
  worker: Worker;
  busy: number;
}

function workerUrl(): { url: URL; execArgv: string[] } {
  const ts = extname(fileURLToPath(import.meta.url)) === '.ts';
  return { url: new URL(`./store-thread-worker${ts ? '.ts' : '.js'}`, import.meta.url), execArgv: ts ? ['--import', 'tsx'] : [] };
}

/**
 * The data service's connection pool on PostgreSQL. The store is synchronous, so a call on the data
 * actor's own thread would stop that thread (and every component beside it) for each round trip to
 * the server; instead each call goes to the least busy of `poolSize` threads, each with its own store
 * and connection, and the actor's thread only waits for the answer. Calls on different threads run
 * concurrently; the database's SERIALIZABLE transactions keep them correct, as between data instances.
 */
export class StoreThreads {
  private readonly members: Member[] = [];
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; member: Member }>();
  private nextId = 1;
  private closed = false;
  private readonly maxQueued: number;

  private constructor(options: StoreThreadsOptions) {
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  /** Starts the threads and waits until each has opened its store. */
  static async start(options: StoreThreadsOptions): Promise<StoreThreads> {
    const size = options.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new ConfigError(`the data pool size must be 1..64, got ${size}`);
    const pool = new StoreThreads(options);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn(options.postgres)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private spawn(postgres: PostgresOptions): Promise<void> {
    const { url, execArgv } = workerUrl();
    // Only plain data crosses to the thread (no injected functions).
    const plain: PostgresOptions = { ...postgres };
    delete plain.sleep;
    delete plain.now;
    const worker = new Worker(url, { workerData: { postgres: plain }, execArgv });
    const member: Member = { worker, busy: 0 };
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; error?: WireError }) => {
        if (!m.ready) { reject(m.error === undefined ? new InternalError('a store thread failed to start') : fromWire(m.error)); return; }
        this.members.push(member);
        worker.on('message', (r: StoreReply) => this.settle(member, r));
        resolve();
      });
      worker.once('error', (err) => { reject(err); this.lost(member, err); });
      worker.once('exit', (code) => this.lost(member, new InternalError(`a data store thread exited (code ${code})`)));
    });
  }

  private settle(member: Member, r: StoreReply): void {
    const p = this.pending.get(r.id);
    if (p === undefined) return;
    this.pending.delete(r.id);
    member.busy--;
    if (r.ok) p.resolve(r.value);
    else p.reject(fromWire(r.error));
  }

  /** A thread died: its calls' outcomes are unknown, and they are reported so. */
  private lost(member: Member, err: unknown): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    for (const [id, p] of this.pending) {
      if (p.member !== member) continue;
      this.pending.delete(id);
      p.reject(new InternalError(`the data store thread running this call stopped: ${(err as Error).message ?? String(err)}`));
    }
  }

  /**
   * Runs the work on the least busy thread. `deadline` (epoch ms): when its caller gives up; work still
   * queued then is not run, and a call waiting for an unreachable server stops waiting.
   */
  run(work: StoreWork, deadline?: number): Promise<unknown> {
    const arrived = Date.now();
    if (this.closed) return Promise.reject(new StoppedError('the data service is stopping'));
    if (this.members.length === 0) return Promise.reject(new InternalError('no data store thread is running'));
    if (this.pending.size >= this.maxQueued) {
      return Promise.reject(new InternalError(`more than ${this.maxQueued} data calls are waiting for a connection (maxQueued)`));
    }
    let member = this.members[0]!;
    for (const m of this.members) if (m.busy < member.busy) member = m;
    const id = this.nextId++;
    member.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, member });
      member.worker.postMessage({ id, work, deadline, arrived });
    });
  }

  /** Lets calls in flight finish, then stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    const until = Date.now() + 10_000;
    while (this.pending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.members.splice(0).map(async (m) => {
      m.worker.postMessage({ close: true });
      await new Promise<void>((r) => { const t = setTimeout(() => { void m.worker.terminate().then(() => r()); }, 2_000); m.worker.once('exit', () => { clearTimeout(t); r(); }); });
    }));
  }
}
