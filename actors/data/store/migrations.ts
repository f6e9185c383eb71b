import { ConfigError } from '../../../src/errors.js';
import type { Db } from './db.js';
import { MIGRATIONS } from './migrations/index.js';
import type { SqlConnection } from './sql/connection.js';
import { SqliteConnection } from './sql/sqlite-connection.js';

/**
 * One schema step. `version` numbers are 1, 2, 3... without gaps, the same for both databases; `sql`
 * (SQLite) and `postgres` (PostgreSQL) each run as one script and reach the same tables and columns.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * The same step for the PostgreSQL backend, hand-written DDL run as one transaction. It must reach the
   * same schema as `sql` (table, column and index names, column order, defaults, NOT NULL, keys, CHECKs),
   * because the repositories' SQL runs on both: INTEGER becomes BIGINT (epoch-millisecond timestamps
   * exceed 32 bits), `id INTEGER PRIMARY KEY` an identity column, REAL DOUBLE PRECISION, FTS5 search
   * tables pg_trgm indexes, COLLATE NOCASE indexes lower() indexes. test/actors/data/postgres-schema.test.ts
   * compares the two schemas.
   */
  postgres: string;
}

function connection(db: Db | SqlConnection): SqlConnection {
  return 'dialect' in db ? db : new SqliteConnection(db, 16);
}

/** The schema version this build creates and understands. */
export function latestSchemaVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}

export function schemaVersion(db: Db | SqlConnection): number {
  return connection(db).schemaVersion();
}

/**
 * Brings the schema up to date. Each migration runs in its own transaction together with the bump of
 * the recorded version (SQLite's `user_version` header field; PostgreSQL's DDL is transactional too, and
 * an advisory lock keeps data instances starting together from migrating twice): a crash
 * mid-migration leaves the previous version intact, never half a schema. A database written by a
 * newer build is refused rather than guessed at. Returns the versions applied.
 */
export function runMigrations(db: Db | SqlConnection, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const conn = connection(db);
  checkSequence(migrations);
  const latest = latestSchemaVersion(migrations);
  const current = conn.schemaVersion();
  if (current > latest) {
    throw new ConfigError(`the database schema is version ${current} but this cloudstackd only knows up to ` +
      `version ${latest}: it was written by a newer release. Run that release (or newer) on this data ` +
      'directory, or start with an empty data directory.');
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    const script = conn.dialect === 'postgres' ? m.postgres : m.sql;
    try {
      const ran = conn.tx(() => {
        conn.lockForMigration?.();
        // Re-read inside the write lock: another process may have migrated while we waited for it.
        if (conn.schemaVersion() >= m.version) return false;
        conn.exec(script);
        conn.setSchemaVersion(m.version);
        return true;
      });
      if (ran) applied.push(m.version);
    } catch (err) {
      throw new ConfigError(`schema migration ${m.version} (${m.name}) failed and was rolled back: ` +
        `${(err as Error).message}`, { cause: err });
    }
  }
  return applied;
}

function checkSequence(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new ConfigError(`migration list is not numbered 1..n: found version ${m.version} at position ${i + 1}`);
    }
  });
}
