import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../../../src/errors.js';

/** The better-sqlite3 connection type used throughout the store. */
export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /**
   * Directory holding the database file (the node's `--data-dir`). Created with mode 0700 when missing.
   * Required unless `memory` is true.
   */
  dataDir?: string;
  /** File name inside `dataDir`. Default `cloudstackd.db`. */
  fileName?: string;
  /** An in-memory database (tests and throwaway labs); `dataDir` is ignored. Default false. */
  memory?: boolean;
  /**
   * Milliseconds a connection waits for another connection's write lock before failing with SQLITE_BUSY.
   * Default 5000: long enough to ride out a large batch commit, short enough that a stuck writer surfaces.
   */
  busyTimeoutMs?: number;
  /**
   * Pages of page cache per connection (negative = KiB, SQLite convention). Default -65536 (64 MiB), which
   * keeps the indexes of a 100k-VM database hot.
   */
  cacheSize?: number;
}

export const DEFAULT_DB_FILE = 'cloudstackd.db';
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
export const DEFAULT_CACHE_SIZE = -65536;

/** The path of the database file for a data directory. */
export function databasePath(dataDir: string, fileName: string = DEFAULT_DB_FILE): string {
  return join(dataDir, fileName);
}

/**
 * Opens (creating if needed) the database with the settings every connection must share:
 * WAL (readers never block the writer), foreign keys on, a busy timeout, and synchronous=FULL so that a
 * commit acknowledged to a caller survives a power loss as well as a process crash. The file is created
 * with mode 0600 because it holds API secret keys; SQLite gives the -wal and -shm files the same mode.
 */
export function openDatabase(options: OpenDatabaseOptions = {}): Db {
  const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let db: Db;
  if (options.memory === true) {
    db = new Database(':memory:');
  } else {
    if (options.dataDir === undefined) {
      throw new ConfigError('openDatabase needs a dataDir (or memory: true for a throwaway database)');
    }
    const file = databasePath(options.dataDir, options.fileName ?? DEFAULT_DB_FILE);
    try {
      mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    } catch (err) {
      throw new ConfigError(`cannot create the database file ${file}: ${(err as Error).message}; ` +
        'check that the data directory exists and is writable', { cause: err });
    }
    db = new Database(file, { timeout: busy });
  }
  applyPragmas(db, busy, options.cacheSize ?? DEFAULT_CACHE_SIZE);
  return db;
}

function applyPragmas(db: Db, busyTimeoutMs: number, cacheSize: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${Math.floor(cacheSize)}`);
  db.pragma('temp_store = MEMORY');
}

/**
 * Closes the connection. A PASSIVE checkpoint first folds the WAL back into the main file so that a
 * cleanly stopped node leaves a compact database behind; it never waits for other connections.
 */
export function closeDatabase(db: Db): void {
  if (!db.open) return;
  try {
    if (!db.memory) db.pragma('wal_checkpoint(PASSIVE)');
  } finally {
    db.close();
  }
}
