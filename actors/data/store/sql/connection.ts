/**
 * What the store needs from a database: statements with `?` placeholders, run synchronously, and
 * nestable transactions. Two implementations: SQLite (better-sqlite3, in process) and PostgreSQL (a
 * server, reached from a worker thread; see postgres-connection.ts). The repositories are written once
 * against this interface; where the dialects differ, they ask `dialect`.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** Key of the row an INSERT created (tables with an integer `id`); 0 otherwise. */
  lastInsertRowid: number;
}

export interface TxOptions {
  readOnly?: boolean;
}

export interface SqlConnection {
  readonly dialect: Dialect;
  /** An in-memory SQLite database: no fsync, so group commit has nothing to share. */
  readonly memory: boolean;
  /** Where the data lives, for logs: a file path, `memory`, or a PostgreSQL URL without its password. */
  readonly describe: string;
  one<T>(sql: string, params: readonly unknown[]): T | undefined;
  all<T>(sql: string, params: readonly unknown[]): T[];
  /** Like `all`; SQLite builds wide rows faster this way (see SqliteConnection). */
  rows<T>(sql: string, params: readonly unknown[]): T[];
  run(sql: string, params: readonly unknown[]): RunResult;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): void;
  /**
   * Runs `fn` in one transaction; nested calls become savepoints, and a throw rolls back to where the
   * call began. On PostgreSQL the outermost call is run again when the server reports a serialization
   * failure or a deadlock, so `fn` must only change the database. `readOnly` (outermost only) says the
   * transaction only reads: on PostgreSQL it then takes a snapshot and no write lock.
   */
  tx<T>(fn: () => T, options?: TxOptions): T;
  /** True inside `tx`. */
  readonly inTransaction: boolean;
  /** The schema version recorded in the database (0 for an empty one). */
  schemaVersion(): number;
  /** Records the schema version; only inside `tx`. */
  setSchemaVersion(version: number): void;
  /** Keeps other processes from migrating at the same time, until this transaction ends (PostgreSQL). */
  lockForMigration?(): void;
  /** 'ok' or what the database's own check found. */
  integrityCheck(): string;
  close(): void;
  readonly open: boolean;
}

/** A UNIQUE or PRIMARY KEY violation, in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
