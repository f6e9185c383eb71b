import type Database from 'better-sqlite3';
import { closeDatabase, type Db } from '../db.js';
import type { RunResult, SqlConnection, TxOptions } from './connection.js';
import { Lru } from './lru.js';

export type Statement = Database.Statement<unknown[]>;

/** A statement in raw (array) mode with a function that turns one array into a row object. */
interface RowReader {
  stmt: Statement;
  make: (values: unknown[]) => unknown;
}

/**
 * Prepared statements are cached by SQL text, least recently used evicted first. Row readers serve the
 * list pages: better-sqlite3 builds a row object property by property, which for 40-column rows costs
 * more than the query itself; reading arrays and building each object from a literal of fixed shape
 * (compiled once per statement) halves the time of a 500-row page.
 */
export class SqliteConnection implements SqlConnection {
  readonly dialect = 'sqlite' as const;
  private readonly statements: Lru<Statement>;
  private readonly readers: Lru<RowReader>;
  private readonly runner: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(readonly db: Db, statementCacheSize: number) {
    this.statements = new Lru(statementCacheSize);
    this.readers = new Lru(statementCacheSize);
    this.runner = db.transaction((fn: () => unknown) => fn());
  }

  get memory(): boolean { return this.db.memory; }
  get describe(): string { return this.db.memory ? 'memory' : this.db.name; }
  get open(): boolean { return this.db.open; }
  get inTransaction(): boolean { return this.db.inTransaction; }

  statement(sql: string): Statement {
    return this.statements.get(sql, () => this.db.prepare(sql));
  }

  one<T>(sql: string, params: readonly unknown[]): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, params: readonly unknown[]): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  rows<T>(sql: string, params: readonly unknown[]): T[] {
    const r = this.readers.get(sql, () => {
      const stmt = this.db.prepare(sql).raw(true);
      const body = stmt.columns().map((c, i) => `${JSON.stringify(c.name)}: v[${i}]`).join(', ');
      // Column names come from the store's own SQL, never from requests.
      const make = new Function('v', `return { ${body} };`) as (values: unknown[]) => unknown;
      return { stmt, make };
    });
    return (r.stmt.all(...params) as unknown[][]).map(r.make) as T[];
  }

  run(sql: string, params: readonly unknown[]): RunResult {
    const res = this.statement(sql).run(...params);
    return { changes: res.changes, lastInsertRowid: Number(res.lastInsertRowid) };
  }

  exec(script: string): void {
    this.db.exec(script);
  }

  /**
   * The outermost call begins IMMEDIATE, taking the write lock up front so that a read-then-write never
   * fails half-way with SQLITE_BUSY_SNAPSHOT when another connection wrote in between; nested calls
   * become savepoints (better-sqlite3 does this). Reads take the write lock too: the data actor runs one
   * call at a time, so it costs nothing, and a "read" that writes after all stays safe.
   */
  tx<T>(fn: () => T, _options?: TxOptions): T {
    return this.runner.immediate(fn) as T;
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  setSchemaVersion(version: number): void {
    // user_version lives in the database header, so it commits or rolls back with the DDL around it.
    this.db.pragma(`user_version = ${Math.floor(version)}`);
  }

  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  close(): void {
    closeDatabase(this.db);
  }
}
