/**
 * `cloudstackd db migrate`: copies a lab's SQLite database into an empty PostgreSQL database, then
 * proves the copy by counting and checksumming every table on both sides.
 *
 * The copy, schema included, is one PostgreSQL transaction (all or nothing: a failure or an interrupted
 * run leaves the target empty, and the command can simply be run again), read from one SQLite
 * read transaction (a consistent snapshot even if something still writes the file — though the lab
 * should be stopped, or its later changes are not copied). Rows go straight into the tables the
 * migrations created, never through the DataStore, whose bootstrap would add the system rows a second
 * time. Tables are copied parents first so the foreign keys are checked as rows arrive.
 */
import { latestSchemaVersion, schemaVersion } from '../migrations.js';
import { PostgresConnection, type PostgresOptions } from '../sql/postgres-connection.js';

import { ConfigError, InternalError } from '../../../../src/errors.js';
import type { Db } from '../db.js';
import { copyOrder, orderSelfReferences, readTargetCatalog, type TableInfo } from './catalog.js';
import { checkSourceMatches, openSource, sourceCount, sourceRows } from './source.js';
import { checkTargetEmpty, createSchema, resetSequences, TableWriter } from './target.js';
import { DEFAULT_VERIFY_PAGE_ROWS, verifyTable } from './verify.js';

export { DEFAULT_VERIFY_PAGE_ROWS, verifyCopy, type VerifyCopyOptions } from './verify.js';

export interface CopyDatabaseOptions {
  /** The lab's data directory (holding cloudstackd.db). */
  from: string;
  /** postgresql://user[:password]@host[:port]/database of an empty database. Never printed with its password. */
  to: string;
  /**
   * Rows per INSERT statement. Default 500: a few hundred rows amortise the round trip to the server
   * (and to its worker thread) while a statement stays far below PostgreSQL's 65,535 parameters and
   * its statement timeout. Lowered automatically for wide tables.
   */
  batchRows?: number;
  /** A progress report every this many rows of a table, besides one per table. Default 10,000. */
  progressEveryRows?: number;
  /** Rows read back per query when verifying. Default 5,000: bounded memory on a big table. */
  verifyPageRows?: number;
  /** Receives progress (the CLI prints it to stderr). */
  onProgress?: (p: CopyProgress) => void;
  /** Connection settings other than the URL (timeouts). */
  postgres?: Omit<PostgresOptions, 'url'>;
  /** How long opening the SQLite file waits for another process's lock, ms. Default 5,000. */
  busyTimeoutMs?: number;
}

export const DEFAULT_BATCH_ROWS = 500;
export const DEFAULT_PROGRESS_EVERY_ROWS = 10_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

export type CopyProgress =
  | { phase: 'schema'; applied: number[] }
  | { phase: 'copy'; table: string; copied: number; total: number }
  | { phase: 'sequences'; count: number }
  | { phase: 'committed'; rows: number }
  | { phase: 'verify'; table: string };

export interface TableReport {
  table: string;
  sourceRows: number;
  targetRows: number;
  /** 64 hex digits each; see checksum.ts. */
  sourceChecksum: string;
  targetChecksum: string;
  ok: boolean;
}

export interface CopyReport {
  /** The SQLite file copied. */
  source: string;
  /** The target URL without its password. */
  target: string;
  schemaVersion: number;
  /** Per table, in copy order. */
  tables: TableReport[];
  /** SQLite-only tables not copied (FTS5 search tables; PostgreSQL indexes the copied rows itself). */
  skipped: string[];
  rows: number;
  /** Every table has the same count and checksum on both sides. */
  ok: boolean;
}

/**
 * Verifying failed to run (not: found a difference) after the copy was committed: the target holds the
 * copy, unproven. Any other error from copyDatabase means the target was left as it was.
 */
export class UnverifiedCopyError extends InternalError {
  readonly committed = true;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer (got ${String(v)})`);
  return n;
}

/** The source must be exactly this release's schema: the target gets this release's, and they must match. */
function checkSourceVersion(db: Db, file: string): number {
  const version = schemaVersion(db);
  const latest = latestSchemaVersion();
  if (version < latest) {
    throw new ConfigError(`${file} is at schema version ${version} but this cloudstackd writes version ${latest}: start this ` +
      'cloudstackd once on that data directory (it upgrades the SQLite database), stop it, then run db migrate again');
  }
  if (version > latest) {
    throw new ConfigError(`${file} is at schema version ${version}, newer than this cloudstackd knows (${latest}): ` +
      'run db migrate of the release that wrote it');
  }
  return version;
}

export function copyDatabase(options: CopyDatabaseOptions): CopyReport {
  const batchRows = positive('batchRows', options.batchRows, DEFAULT_BATCH_ROWS);
  const every = positive('progressEveryRows', options.progressEveryRows, DEFAULT_PROGRESS_EVERY_ROWS);
  const pageRows = positive('verifyPageRows', options.verifyPageRows, DEFAULT_VERIFY_PAGE_ROWS);
  const progress = options.onProgress ?? ((): void => undefined);
  const db = openSource(options.from, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  let pg: PostgresConnection | undefined;
  try {
    const version = checkSourceVersion(db, db.name);
    pg = new PostgresConnection({ ...options.postgres, url: options.to, applicationName: 'cloudstackd-db-migrate' });
    const target = pg.describe;
    // One snapshot of the source for the copy and the verification alike.
    db.exec('BEGIN');
    checkTargetEmpty(pg, target);
    const conn = pg;
    let skipped: string[] = [];
    let order: TableInfo[] = [];
    // Schema and rows in one transaction: a failure anywhere leaves the target as empty as it was.
    const rows = conn.tx(() => {
      const created = createSchema(conn, () => {
        const catalog = readTargetCatalog(conn);
        skipped = checkSourceMatches(db, catalog);
        return copyOrder(catalog);
      });
      order = created.tables;
      progress({ phase: 'schema', applied: created.applied });
      let copied = 0;
      for (const t of order) copied += copyTable(db, conn, t, batchRows, every, progress);
      progress({ phase: 'sequences', count: resetSequences(conn, order) });
      return copied;
    });
    progress({ phase: 'committed', rows });
    let tables: TableReport[];
    try {
      tables = order.map((t) => verifyTable(db, conn, t, pageRows, progress));
    } catch (err) {
      throw new UnverifiedCopyError(`the copy was committed to ${target}, but verifying it failed: ${(err as Error).message}. ` +
        'Do not run cloudstackd on it unverified: drop and recreate that database and run db migrate again', { cause: err });
    }
    db.exec('COMMIT');
    return { source: db.name, target, schemaVersion: version, tables, skipped, rows, ok: tables.every((t) => t.ok) };
  } finally {
    pg?.close();
    db.close();
  }
}

function copyTable(db: Db, pg: PostgresConnection, table: TableInfo, batchRows: number, every: number,
  progress: (p: CopyProgress) => void): number {
  const total = sourceCount(db, table.name);
  progress({ phase: 'copy', table: table.name, copied: 0, total });
  if (total === 0) return 0;
  const writer = new TableWriter(pg, table, batchRows);
  const selfReferencing = table.foreignKeys.some((f) => f.parent === table.name);
  // A table whose rows refer to each other is read whole and ordered parents first (small tables:
  // domains, VM snapshots, rules); every other table streams.
  const rows = selfReferencing ? orderSelfReferences(table, [...sourceRows(db, table)]) : sourceRows(db, table);
  let reported = 0;
  for (const r of rows) {
    writer.add(r);
    if (writer.written - reported >= every) {
      reported = writer.written;
      progress({ phase: 'copy', table: table.name, copied: reported, total });
    }
  }
  writer.flush();
  if (writer.written !== reported) progress({ phase: 'copy', table: table.name, copied: writer.written, total });
  return writer.written;
}
