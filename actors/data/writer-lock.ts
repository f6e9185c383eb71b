import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../../src/errors.js';

export const WRITER_LOCK_FILE = 'cloudstackd.db.writer';

/** A held lock; `release()` gives it back (the OS also drops it when the process dies). */
export interface WriterLock {
  release(): void;
}

/**
 * Makes this process the one writer of the SQLite database in `dataDir`. A tiny lock database beside it
 * is opened in exclusive locking mode inside an open EXCLUSIVE transaction: the OS file lock SQLite
 * takes then keeps any other process (or connection) from doing the same until this process releases
 * it or dies — so a second data instance on the same files is refused at once, and a crashed one never
 * leaves a stale lock behind.
 */
export function acquireWriterLock(dataDir: string): WriterLock {
  const file = join(dataDir, WRITER_LOCK_FILE);
  let db: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new ConfigError(`cannot open ${file}: ${(err as Error).message}; check that the data directory is writable`, { cause: err });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS writer (pid INTEGER)');
    db.exec('BEGIN EXCLUSIVE');
    db.prepare('DELETE FROM writer').run();
    db.prepare('INSERT INTO writer (pid) VALUES (?)').run(process.pid);
  } catch (err) {
    db.close();
    const busy = (err as { code?: string }).code?.startsWith('SQLITE_BUSY') === true;
    throw new ConfigError(busy
      ? `another data instance already writes the database in ${dataDir}: SQLite allows one writer. Stop that process, or give ` +
        'this one another --data-dir (a server database, where data instances can be many, comes with PostgreSQL)'
      : `cannot lock ${file}: ${(err as Error).message}`, { cause: err });
  }
  return {
    release: () => {
      if (!db.open) return;
      try { db.exec('ROLLBACK'); } catch { /* closing releases it anyway */ }
      db.close();
    },
  };
}
