/**
 * The SQLite side of a copy: the store's database file opened read-only, checked against the target's
 * schema, and read as arrays of exact values (integers as BigInt, so no key or timestamp is rounded).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ConfigError } from '../../../../src/errors.js';
import { databasePath, type Db } from '../db.js';
import { quoteIdent, type TableInfo } from './catalog.js';

/** Opens `<dataDir>/cloudstackd.db` read-only; a missing file is an error, never a new empty database. */
export function openSource(dataDir: string, busyTimeoutMs: number): Db {
  const file = databasePath(dataDir);
  if (!existsSync(file)) {
    throw new ConfigError(`no SQLite database at ${file}: --from names the data directory of a lab (the one holding cloudstackd.db)`);
  }
  try {
    return new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  } catch (err) {
    throw new ConfigError(`cannot open ${file} read-only: ${(err as Error).message}`, { cause: err });
  }
}

interface TableListRow { name: string; type: string; schema: string }

/**
 * Tables of the source that the target does not have and that are not expected to be copied:
 * SQLite's own (sqlite_*) and the FTS5 search tables and their shadow tables (PostgreSQL searches
 * with trigram indexes instead, built from the copied rows).
 */
function sqliteOnly(t: TableListRow): boolean {
  return t.name.startsWith('sqlite_') || t.type === 'virtual' || t.type === 'shadow';
}

/**
 * Checks that the source has exactly the target's tables and columns (by name), apart from the tables
 * only SQLite has. Returns the search tables skipped, for the report (not SQLite's own catalog).
 */
export function checkSourceMatches(db: Db, target: ReadonlyMap<string, TableInfo>): string[] {
  const list = (db.prepare('PRAGMA table_list').all() as TableListRow[]).filter((t) => t.schema === 'main');
  const skipped: string[] = [];
  const problems: string[] = [];
  const present = new Set<string>();
  for (const t of list) {
    if (sqliteOnly(t)) {
      if (!t.name.startsWith('sqlite_')) skipped.push(t.name);
      continue;
    }
    if (t.type !== 'table') continue;
    present.add(t.name);
    const info = target.get(t.name);
    if (info === undefined) { problems.push(`table ${t.name} is in SQLite but not in PostgreSQL`); continue; }
    const cols = new Set((db.prepare(`PRAGMA table_info(${quoteIdent(t.name)})`).all() as { name: string }[]).map((c) => c.name));
    for (const c of info.columns) if (!cols.has(c.name)) problems.push(`column ${t.name}.${c.name} is in PostgreSQL but not in SQLite`);
    const expected = new Set(info.columns.map((c) => c.name));
    for (const c of cols) if (!expected.has(c)) problems.push(`column ${t.name}.${c} is in SQLite but not in PostgreSQL`);
  }
  for (const name of target.keys()) if (!present.has(name)) problems.push(`table ${name} is in PostgreSQL but not in SQLite`);
  if (problems.length > 0) {
    throw new ConfigError(`the two schemas differ, so the rows cannot be copied name for name: ${problems.slice(0, 10).join('; ')}` +
      `${problems.length > 10 ? ` (and ${problems.length - 10} more)` : ''}. Both databases must be at the same schema version of ` +
      'the same cloudstackd release');
  }
  return skipped.sort();
}

/** Rows of `table` as arrays in the target's column order, exact integers, in primary key order. */
export function sourceRows(db: Db, table: TableInfo): IterableIterator<unknown[]> {
  const cols = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map(quoteIdent).join(', ')}` : '';
  return db.prepare(`SELECT ${cols} FROM ${quoteIdent(table.name)}${order}`).raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
}

export function sourceCount(db: Db, table: string): number {
  return Number((db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(table)}`).get() as { n: number }).n);
}
