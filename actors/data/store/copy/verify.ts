/**
 * Proof that a copy is faithful: per table, the row count on both sides and a checksum of the rows
 * computed the same way on both sides (checksum.ts). Used right after a copy, inside the same SQLite
 * snapshot, and on its own by verifyCopy (e.g. before switching a lab over, or after a failed check).
 */
import type { Db } from '../db.js';
import { PostgresConnection, type PostgresOptions } from '../sql/postgres-connection.js';
import { copyOrder, readTargetCatalog, type TableInfo } from './catalog.js';
import { TableChecksum } from './checksum.js';
import type { CopyProgress, TableReport } from './copy-database.js';
import { checkSourceMatches, openSource, sourceCount, sourceRows } from './source.js';
import { forEachTargetRow, targetCount } from './target.js';

/** Rows read back per query when verifying: bounded memory on a big table. */
export const DEFAULT_VERIFY_PAGE_ROWS = 5_000;

/** Counts and checksums one table on both sides; `ok` when counts, rows read and checksums all agree. */
export function verifyTable(db: Db, pg: PostgresConnection, table: TableInfo, pageRows: number, progress: (p: CopyProgress) => void): TableReport {
  progress({ phase: 'verify', table: table.name });
  const source = new TableChecksum(table.columns);
  for (const r of sourceRows(db, table)) source.add(r);
  const target = new TableChecksum(table.columns);
  forEachTargetRow(pg, table, pageRows, (r) => target.add(r));
  const sourceRowsCounted = sourceCount(db, table.name);
  const targetRowsCounted = targetCount(pg, table.name);
  return {
    table: table.name, sourceRows: sourceRowsCounted, targetRows: targetRowsCounted,
    sourceChecksum: source.hex(), targetChecksum: target.hex(),
    ok: sourceRowsCounted === targetRowsCounted && source.rows === sourceRowsCounted && target.rows === targetRowsCounted &&
      source.hex() === target.hex(),
  };
}


export interface VerifyCopyOptions {
  /** The lab's data directory (holding cloudstackd.db). */
  from: string;
  /** The PostgreSQL database the lab was copied into. */
  to: string;
  /** Rows read back per query. Default 5,000. */
  verifyPageRows?: number;
  postgres?: Omit<PostgresOptions, 'url'>;
}

/** Compares a SQLite database with its copy in PostgreSQL, table by table; changes neither. */
export function verifyCopy(options: VerifyCopyOptions): TableReport[] {
  const db = openSource(options.from, 5_000);
  let pg: PostgresConnection | undefined;
  try {
    pg = new PostgresConnection({ ...options.postgres, url: options.to, applicationName: 'cloudstackd-db-verify' });
    db.exec('BEGIN');
    const catalog = readTargetCatalog(pg);
    checkSourceMatches(db, catalog);
    const conn = pg;
    const reports = copyOrder(catalog).map((t: TableInfo) => verifyTable(db, conn, t, options.verifyPageRows ?? DEFAULT_VERIFY_PAGE_ROWS, () => undefined));
    db.exec('COMMIT');
    return reports;
  } finally {
    pg?.close();
    db.close();
  }
}
