import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ConfigError, ConflictError, InternalError, ResourceUnavailableError, TimeoutError } from '../../../../src/errors.js';
import type { RunResult, SqlConnection, TxOptions } from './connection.js';
import { Lru } from './lru.js';
import { translateToPostgres, type TranslatedSql } from './postgres-dialect.js';
import type { WorkerConfig, WorkerError, WorkerReply, WorkerRequest } from './postgres-worker.js';
import { redactUrl } from './postgres-url.js';

export interface PostgresOptions {
  /**
   * postgresql://user[:password]@host[:port]/database[?sslmode=require|verify-full&sslrootcert=...]; the
   * query string is node-postgres's (TLS is chosen with `sslmode`).
   */
  url: string;
  /**
   * Longest a statement may run on the server (statement_timeout). Default 30 s: far above any store
   * statement (milliseconds), short enough that a stuck lock surfaces as an error instead of a hang.
   */
  statementTimeoutMs?: number;
  /** Longest a connection attempt may take. Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * How long a statement keeps retrying while the server cannot be reached (restart, fail-over) before
   * the operation fails. Default 30 s: a PostgreSQL restart or a replica promotion fits in it.
   */
  unavailableRetryMs?: number;
  /**
   * Times a transaction is run again after a serialization failure (SQLSTATE 40001) or a deadlock
   * (40P01), with exponential backoff from `retryBaseMs`. Default 20: contention on one row between a
   * few data instances resolves in a handful; more means something is wrong.
   */
  serializationRetries?: number;
  /** First backoff after a retryable failure, doubled each time up to 1 s. Default 5 ms. */
  retryBaseMs?: number;
  /** Translated statements kept. Default 1000 (as the SQLite statement cache). */
  statementCacheSize?: number;
  /** application_name shown in pg_stat_activity. Default `cloudstackd-data`. */
  applicationName?: string;
  /** Sleep used between retries; the data thread blocks on purpose (the store is synchronous). */
  sleep?: (ms: number) => void;
  /** Time source for the retry windows. */
  now?: () => number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_UNAVAILABLE_RETRY_MS = 30_000;
export const DEFAULT_SERIALIZATION_RETRIES = 20;
export const DEFAULT_RETRY_BASE_MS = 5;
const MAX_BACKOFF_MS = 1_000;
/** The advisory lock key every write transaction holds (an arbitrary constant shared by all instances). */
const WRITE_LOCK = 7312002;

/** Retryable by running the whole transaction again: serialization failure, deadlock. */
function isSerializationFailure(e: WorkerError): boolean {
  return e.code === '40001' || e.code === '40P01';
}

/** An error from the server, with PostgreSQL's SQLSTATE as `code` (as SQLite errors carry theirs). */
export class PostgresError extends Error {
  constructor(readonly error: WorkerError, readonly sql: string) {
    // The statement (never its parameters, which may hold secrets) says which store operation failed.
    super(`PostgreSQL: ${error.message}${error.detail === undefined ? '' : ` (${error.detail})`} in: ` +
      `${sql.replace(/\s+/g, ' ').slice(0, 300)}`);
    this.name = 'PostgresError';
  }

  get code(): string | undefined { return this.error.code; }
}

function blockingSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function workerUrl(): { url: URL; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = extname(here) === '.ts';
  // From source (tsx), the worker is TypeScript too and needs the same loader.
  return { url: new URL(`./postgres-worker${ts ? '.ts' : '.js'}`, import.meta.url), execArgv: ts ? ['--import', 'tsx'] : [] };
}

/**
 * The store's connection to PostgreSQL. The store is synchronous (it was written for better-sqlite3,
 * and the data actor relies on each operation finishing before the next starts), so each statement is
 * handed to a worker thread that owns a node-postgres client, and this thread waits for the answer.
 * One data instance therefore runs one statement at a time on one connection; more throughput comes
 * from more data instances over the same database, which is also what keeps the data service free of
 * a single point of failure.
 *
 * Every store operation that reads then writes (capacity, addresses, VLANs, leases) was written for
 * SQLite's single writer, so write transactions take turns across all data instances (see
 * `outermost`); reads run beside them on snapshots. A transaction the server aborts as a
 * serialization failure or a deadlock is run again, as PostgreSQL's manual (and CockroachDB and
 * YugabyteDB) require.
 */
export class PostgresConnection implements SqlConnection {
  readonly dialect = 'postgres' as const;
  readonly memory = false;
  readonly describe: string;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly translated: Lru<TranslatedSql & { name: string }>;
  private tablesWithId: Set<string> = new Set();
  private depth = 0;
  private unavailableSince: number | undefined;
  private callDeadline: number | undefined;
  private callArrived: number | undefined;
  private statementNames = 0;
  private savepoints = 0;
  private closed = false;
  private readonly callTimeoutMs: number;
  private readonly unavailableRetryMs: number;
  private readonly serializationRetries: number;
  private readonly retryBaseMs: number;
  private readonly sleep: (ms: number) => void;
  private readonly now: () => number;
  /** Statements retried after connection loss and transactions run again after conflicts (metrics, tests). */
  readonly stats = { reconnects: 0, serializationRetries: 0 };

  constructor(options: PostgresOptions) {
    this.describe = redactUrl(options.url);
    const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.callTimeoutMs = statementTimeoutMs + connectTimeoutMs + 5_000;
    this.unavailableRetryMs = options.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS;
    this.serializationRetries = options.serializationRetries ?? DEFAULT_SERIALIZATION_RETRIES;
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.sleep = options.sleep ?? blockingSleep;
    this.now = options.now ?? Date.now;
    this.translated = new Lru(options.statementCacheSize ?? 1000);
    const config: WorkerConfig = { connectionString: options.url, statementTimeoutMs, connectTimeoutMs,
      applicationName: options.applicationName ?? 'cloudstackd-data' };
    const { port1, port2 } = new MessageChannel();
    this.port = port1 as unknown as MessagePort;
    const { url, execArgv } = workerUrl();
    this.worker = new Worker(url, { workerData: { config, port: port2, flag: this.flag }, transferList: [port2], execArgv });
    this.worker.unref();
    try {
      this.call({ op: 'query', text: 'SELECT 1', params: [] }, 'SELECT 1');
    } catch (err) {
      this.close();
      throw new ConfigError(`cannot connect to PostgreSQL at ${this.describe}: ${(err as Error).message}; check --database-url ` +
        '(host, port, user, database, sslmode) and that the server accepts connections from this host', { cause: err });
    }
    this.refreshTables();
  }

  get open(): boolean { return !this.closed; }
  get inTransaction(): boolean { return this.depth > 0; }

  /** Tables with an integer `id` key: an INSERT into one returns it (lastInsertRowid). Re-read after migrations. */
  refreshTables(): void {
    const rows = this.rawAll<{ table_name: string }>(`SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'id' AND data_type IN ('bigint', 'integer')`);
    this.tablesWithId = new Set(rows.map((r) => r.table_name));
    this.translated.clear();
  }

  private translate(sql: string): TranslatedSql & { name: string } {
    return this.translated.get(sql, () => ({ ...translateToPostgres(sql, this.tablesWithId), name: `cs${this.statementNames++}` }));
  }

  /** One request to the worker, waiting for its answer. */
  private call(req: WorkerRequest, sql: string): WorkerReply & { ok: true } {
    if (this.closed) throw new InternalError('the PostgreSQL connection is closed');
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    const deadline = Date.now() + this.callTimeoutMs;
    let msg: { message: WorkerReply } | undefined;
    // The worker posts its answer, then raises the flag; the answer is taken from the port. Waking
    // without one (a spurious wake-up) waits again until the deadline.
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(this.flag, 0, 0, left);
      msg = receiveMessageOnPort(this.port as never) as { message: WorkerReply } | undefined;
      if (msg !== undefined) break;
      if (Atomics.load(this.flag, 0) === 1) Atomics.wait(this.flag, 0, 1, 1);
    }
    if (msg === undefined) {
      throw new InternalError(`PostgreSQL did not answer within ${this.callTimeoutMs} ms (statement timeout + connect timeout); ` +
        `the connection to ${this.describe} is abandoned`);
    }
    const reply = msg.message;
    if (!reply.ok) throw new PostgresError(reply.error, sql);
    return reply;
  }

  /**
   * Runs one statement. Outside a transaction, a lost connection is retried for `unavailableRetryMs`
   * (the statement did not run or, for a read, can run again); inside one, the whole transaction is.
   */
  private query(sql: string, params: readonly unknown[]): { rows: Record<string, unknown>[]; rowCount: number; t: TranslatedSql } {
    const t = this.translate(sql);
    const req: WorkerRequest = { op: 'query', text: t.text, params: params.map(toParam), name: t.name, inTransaction: this.depth > 0 };
    if (this.depth > 0) return { ...this.call(req, t.text), t };
    return this.whileUnavailable(() => ({ ...this.call(req, t.text), t }));
  }

  private whileUnavailable<T>(fn: () => T): T {
    let backoff = this.retryBaseMs;
    for (;;) {
      try {
        const r = fn();
        this.unavailableSince = undefined;
        return r;
      } catch (err) {
        if (!(err instanceof PostgresError) || !err.error.connection) throw err;
        this.beforeRetry(err);
        this.sleep(backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  /**
   * The server could not be reached: fails once the current call has waited `unavailableRetryMs` since
   * it arrived (`setCall`; without one, since the outage's first failure), or once its caller has given
   * up (`callDeadline`): a write nobody waits for any more must not land later. Counting from arrival,
   * not from this try, keeps calls queued behind a waiting one from waiting the whole time again.
   */
  private beforeRetry(err: PostgresError): void {
    const now = this.now();
    this.unavailableSince ??= now;
    if (now - (this.callArrived ?? this.unavailableSince) >= this.unavailableRetryMs) {
      throw new ResourceUnavailableError(`PostgreSQL at ${this.describe} has been unreachable for ` +
        `${this.unavailableRetryMs} ms (unavailableRetryMs, --database-unavailable-retry): ${err.error.message}; the call was not run`, { cause: err });
    }
    if (this.callDeadline !== undefined && now >= this.callDeadline) {
      throw new TimeoutError(`the call was not run: its caller's deadline passed while PostgreSQL at ${this.describe} ` +
        `was unreachable (${err.error.message})`, { cause: err });
    }
    this.stats.reconnects++;
  }

  /** When the call being run arrived and when its caller gives up (epoch ms), or undefined; see beforeRetry. */
  setCall(call: { arrived?: number | undefined; deadline?: number | undefined } | undefined): void {
    this.callArrived = call?.arrived;
    this.callDeadline = call?.deadline;
  }

  private rawAll<T>(text: string): T[] {
    return this.whileUnavailable(() => this.call({ op: 'query', text, params: [] }, text)).rows as T[];
  }

  one<T>(sql: string, params: readonly unknown[]): T | undefined {
    return this.query(sql, params).rows[0] as T | undefined;
  }

  all<T>(sql: string, params: readonly unknown[]): T[] {
    return this.query(sql, params).rows as T[];
  }

  rows<T>(sql: string, params: readonly unknown[]): T[] {
    return this.query(sql, params).rows as T[];
  }

  run(sql: string, params: readonly unknown[]): RunResult {
    const r = this.query(sql, params);
    const id = r.t.returnsId ? r.rows[0]?.['id'] : undefined;
    return { changes: r.rowCount, lastInsertRowid: typeof id === 'number' ? id : 0 };
  }

  exec(script: string): void {
    // Inside a transaction (COMMIT, savepoints) a lost session must not be replaced by a new one.
    this.call({ op: 'query', text: script, params: [], inTransaction: this.depth > 0 }, script);
  }

  tx<T>(fn: () => T, options: TxOptions = {}): T {
    if (this.depth > 0) return this.savepoint(fn);
    if (options.readOnly === true) {
      try {
        return this.outermost(fn, 'read');
      } catch (err) {
        // A call declared a read that writes after all (25006): run it again as a write.
        if (!(err instanceof PostgresError && err.code === '25006')) throw err;
      }
    }
    return this.outermost(fn, 'write');
  }

  private savepoint<T>(fn: () => T): T {
    const name = `sp${++this.savepoints}`;
    this.exec(`SAVEPOINT ${name}`);
    this.depth++;
    try {
      const r = fn();
      this.exec(`RELEASE SAVEPOINT ${name}`);
      return r;
    } catch (err) {
      // After a connection loss there is nothing to roll back to; the outermost call handles it.
      if (!(err instanceof PostgresError && err.error.connection)) {
        try { this.exec(`ROLLBACK TO SAVEPOINT ${name}`); this.exec(`RELEASE SAVEPOINT ${name}`); } catch { /* reported by the outer call */ }
      }
      throw err;
    } finally {
      this.depth--;
    }
  }

  /**
   * Writes are serialized over the whole cloud: each takes a transaction-level advisory lock
   * (`WRITE_LOCK`) as its first statement, and runs READ COMMITTED, so every statement after the lock
   * sees every write committed before it. That is SQLite's one writer at a time (what the store's
   * read-then-write operations were written for), with any data instance able to be the writer.
   * SERIALIZABLE without the lock was tried first: the busy writers of a deploy (host capacity,
   * addresses, VLANs, job rows: a few hot rows, read by sequential scans in a small database) aborted
   * each other with serialization failures faster than they committed. Reads are REPEATABLE READ READ
   * ONLY snapshots: no lock, and never a serialization failure.
   *
   * The whole transaction is run again after a serialization failure or a deadlock (up to
   * `serializationRetries` times), and after a lost connection (for `unavailableRetryMs`), as long as
   * COMMIT was not sent. A connection lost during COMMIT leaves the outcome unknown: that is reported,
   * never retried, since running the operation again could apply it twice.
   */
  private outermost<T>(fn: () => T, mode: 'read' | 'write'): T {
    let conflicts = 0;
    let backoff = this.retryBaseMs;
    for (;;) {
      let committing = false;
      try {
        if (mode === 'write') {
          // One round trip; the lock goes with the transaction (COMMIT, ROLLBACK or a lost session).
          this.whileUnavailable(() => this.exec(`BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`));
        } else {
          this.whileUnavailable(() => this.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
        }
        this.depth = 1;
        this.savepoints = 0;
        const r = fn();
        committing = true;
        this.exec('COMMIT');
        return r;
      } catch (err) {
        const pgErr = err instanceof PostgresError ? err : (err as { cause?: unknown }).cause instanceof PostgresError ?
          (err as { cause: PostgresError }).cause : undefined;
        if (pgErr?.error.connection === true && committing) {
          throw new InternalError(`the connection to PostgreSQL at ${this.describe} was lost during COMMIT: the outcome of ` +
            'this operation is unknown; check its result before retrying', { cause: err });
        }
        if (!(pgErr?.error.connection === true)) {
          try { this.exec('ROLLBACK'); } catch { /* the connection is gone: the server rolled back */ }
        }
        if (pgErr !== undefined && isSerializationFailure(pgErr.error)) {
          if (++conflicts > this.serializationRetries) {
            throw new ConflictError(`gave up after ${this.serializationRetries} retries of a transaction that kept conflicting ` +
              `with concurrent ones (serializationRetries): ${pgErr.error.message}`, { cause: err });
          }
          this.stats.serializationRetries++;
        } else if (pgErr?.error.connection === true) {
          this.beforeRetry(pgErr);
        } else {
          throw err;
        }
        this.sleep(backoff * (0.5 + Math.random()));
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      } finally {
        this.depth = 0;
      }
    }
  }

  schemaVersion(): number {
    const exists = this.rawAll<{ t: string | null }>("SELECT to_regclass('cloudstackd_schema')::text AS t")[0]?.t;
    if (exists === null || exists === undefined) return 0;
    return this.rawAll<{ version: number }>('SELECT version FROM cloudstackd_schema')[0]?.version ?? 0;
  }

  setSchemaVersion(version: number): void {
    this.exec('CREATE TABLE IF NOT EXISTS cloudstackd_schema (version BIGINT NOT NULL)');
    this.exec('DELETE FROM cloudstackd_schema');
    this.exec(`INSERT INTO cloudstackd_schema (version) VALUES (${Math.floor(version)})`);
  }

  /** Serializes migrations between data instances starting together (released at COMMIT). */
  lockForMigration(): void {
    this.exec('SELECT pg_advisory_xact_lock(7312001)');
  }

  integrityCheck(): string {
    const bad = this.rawAll<{ name: string }>(`SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT i.indisvalid`);
    return bad.length === 0 ? 'ok' : bad.map((b) => `invalid index ${b.name}`).join('; ');
  }

  close(): void {
    if (this.closed) return;
    try { this.call({ op: 'close' }, 'close'); } catch { /* terminating the worker closes the socket */ }
    this.closed = true;
    void this.worker.terminate();
  }
}

/** JS values as node-postgres sends them; SQLite's 0/1 booleans are already numbers in the store. */
function toParam(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  return v;
}

type MessagePort = import('node:worker_threads').MessagePort;
