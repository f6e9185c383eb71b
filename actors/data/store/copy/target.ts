/**
 * The PostgreSQL side of a copy: checking that the target is empty, creating the schema, the
 * batched INSERTs, moving the identity sequences past the copied keys, and reading rows back for the
 * checksum.
 */
import { ConfigError } from '../../../../src/errors.js';
import { runMigrations } from '../migrations.js';
import type { SqlConnection } from '../sql/connection.js';
import { quoteIdent, targetRelations, type TableInfo } from './catalog.js';

/** PostgreSQL's limit on parameters in one statement (the wire protocol counts them in 16 bits). */
export const MAX_STATEMENT_PARAMETERS = 65_535;

export function targetCount(pg: SqlConnection, table: string): number {
  return Number(pg.one<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(table)}`, [])!.n);
}

/**
 * Refuses a target that holds anything: a table or view in its current schema (cloudstackd's or any
 * other). The copy must never mix the lab's rows with rows already there, nor overwrite them. A copy
 * that failed leaves nothing behind (the schema is created in the copy's own transaction), so a retry
 * finds the target empty again.
 */
export function checkTargetEmpty(pg: SqlConnection, describe: string): void {
  const relations = targetRelations(pg);
  if (relations.length === 0) return;
  const version = pg.schemaVersion();
  const shown = `${relations.slice(0, 5).join(', ')}${relations.length > 5 ? ', ...' : ''}`;
  throw new ConfigError(`the target database ${describe} is not empty: it has ${relations.length} table(s) (${shown})` +
    `${version === 0 ? '' : ` and cloudstackd schema version ${version}`}. db migrate only copies into an empty database, so that ` +
    'nothing there is overwritten or mixed with the lab\'s rows: give the URL of a new database (CREATE DATABASE name OWNER user), ' +
    'or drop and recreate this one if what it holds is not needed');
}

/**
 * Creates the schema (inside the caller's transaction: the migrations' own transactions become
 * savepoints) and empties the tables the migrations themselves filled (lease_epoch's first row): the
 * source holds those tables too, with the lab's current values. Returns the versions applied.
 */
export function createSchema(pg: SqlConnection, order: () => TableInfo[]): { applied: number[]; tables: TableInfo[] } {
  const applied = runMigrations(pg);
  const tables = order();
  for (const t of [...tables].reverse()) {
    if (targetCount(pg, t.name) > 0) pg.run(`DELETE FROM ${quoteIdent(t.name)}`, []);
  }
  return { applied, tables };
}

/** Inserts rows (arrays in the table's column order) with multi-row INSERTs of at most `batchRows` rows. */
export class TableWriter {
  private readonly perStatement: number;
  private readonly head: string;
  private readonly tuple: string;
  private fullText: string | undefined;
  private batch: unknown[][] = [];
  written = 0;

  constructor(private readonly pg: SqlConnection, table: TableInfo, batchRows: number) {
    const n = table.columns.length;
    this.perStatement = Math.max(1, Math.min(batchRows, Math.floor(MAX_STATEMENT_PARAMETERS / n)));
    this.head = `INSERT INTO ${quoteIdent(table.name)} (${table.columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES `;
    this.tuple = `(${Array.from({ length: n }, () => '?').join(', ')})`;
  }

  add(row: unknown[]): void {
    this.batch.push(row);
    if (this.batch.length >= this.perStatement) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const full = this.batch.length === this.perStatement;
    const text = full ? (this.fullText ??= this.statement(this.perStatement)) : this.statement(this.batch.length);
    this.pg.run(text, this.batch.flat());
    this.written += this.batch.length;
    this.batch = [];
  }

  private statement(rows: number): string {
    return this.head + Array.from({ length: rows }, () => this.tuple).join(', ');
  }
}

/**
 * Moves each identity sequence past the largest copied key: rows were inserted with their own ids, which
 * an identity column accepts (BY DEFAULT) without advancing its sequence. max+1 is what SQLite would have
 * given next (no table uses AUTOINCREMENT). Returns how many sequences were set.
 */
export function resetSequences(pg: SqlConnection, tables: readonly TableInfo[]): number {
  let n = 0;
  for (const t of tables) {
    for (const c of t.columns.filter((col) => col.identity)) {
      pg.one(`SELECT setval(pg_get_serial_sequence('${quoteIdent(t.name)}', '${c.name}'), ` +
        `COALESCE((SELECT max(${quoteIdent(c.name)}) FROM ${quoteIdent(t.name)}), 0) + 1, false) AS v`, []);
      n++;
    }
  }
  return n;
}

/**
 * Every row of `table` as arrays in column order, page by page in primary key order (keyset paging, so
 * each page is an index range scan); integers are read as text so that none is rounded on the way.
 */
export function forEachTargetRow(pg: SqlConnection, table: TableInfo, pageRows: number, fn: (row: unknown[]) => void): void {
  const select = table.columns.map((c) => (c.type === 'bigint' || c.type === 'integer' || c.type === 'smallint' ?
    `${quoteIdent(c.name)}::text AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
  const from = `SELECT ${select} FROM ${quoteIdent(table.name)}`;
  const toArray = (r: Record<string, unknown>): unknown[] => table.columns.map((c) => r[c.name]);
  if (table.primaryKey.length === 0) {
    for (const r of pg.all<Record<string, unknown>>(from, [])) fn(toArray(r));
    return;
  }
  // Qualified: a bare name in ORDER BY would mean the ::text output column, and sort ids as text.
  const key = table.primaryKey.map((k) => `${quoteIdent(table.name)}.${quoteIdent(k)}`);
  const order = ` ORDER BY ${key.join(', ')} LIMIT ${Math.max(1, Math.floor(pageRows))}`;
  const after = ` WHERE (${key.join(', ')}) > (${key.map(() => '?').join(', ')})`;
  let last: unknown[] | undefined;
  for (;;) {
    const page = last === undefined ? pg.all<Record<string, unknown>>(from + order, []) : pg.all<Record<string, unknown>>(from + after + order, last);
    for (const r of page) fn(toArray(r));
    if (page.length < pageRows) return;
    const end = page[page.length - 1]!;
    last = table.primaryKey.map((k) => end[k]);
  }
}
