import { ConfigError } from '../../../src/errors.js';
import type { Db } from './db.js';
import { MIGRATIONS } from './migrations/index.js';

/** One schema step. `version` numbers are 1, 2, 3... without gaps; `sql` runs as one script. */
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

/** The schema version this build creates and understands. */
export function latestSchemaVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to date. Each migration runs in its own IMMEDIATE transaction together with the
 * bump of `user_version` (stored in the database header, so it commits or rolls back with the DDL): a
 * crash mid-migration leaves the previous version intact, never half a schema. A database written by a
 * newer build is refused rather than guessed at. Returns the versions applied.
 */
export function runMigrations(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkSequence(migrations);
  const latest = latestSchemaVersion(migrations);
  const current = schemaVersion(db);
  if (current > latest) {
    throw new ConfigError(`the database schema is version ${current} but this cloudstackd only knows up to ` +
      `version ${latest}: it was written by a newer release. Run that release (or newer) on this data ` +
      'directory, or start with an empty data directory.');
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    const step = db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated while we waited for it.
      if (schemaVersion(db) >= m.version) return false;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
      return true;
    });
    try {
      if (step.immediate()) applied.push(m.version);
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
