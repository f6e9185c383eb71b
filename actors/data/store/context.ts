import { randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { createRealClock, type Clock } from '../../../src/clock.js';
import { ConflictError, InvalidParameterError } from '../../../src/errors.js';
import type { Db } from './db.js';

export type Statement = Database.Statement<unknown[]>;

/** Options shared by every part of the store. */
export interface StoreContextOptions {
  /** Time source for `created`, `completed`, heartbeats... Default: the real clock. */
  clock?: Clock;
  /** Generates public ids. Default crypto.randomUUID; tests may inject a deterministic one. */
  newUuid?: () => string;
  /** Random bytes for API keys, secret keys and MAC addresses. Default crypto.randomBytes. */
  randomBytes?: (size: number) => Buffer;
  /**
   * Prepared statements kept per connection. List queries are built from the filters a request uses,
   * so their number is bounded by the filter combinations; the cap keeps a pathological client from
   * growing it without end. Default 1000.
   */
  statementCacheSize?: number;
}

export const DEFAULT_STATEMENT_CACHE_SIZE = 1000;

/** A prepared-statement cache keyed by SQL text, least recently used evicted first. */
export class StatementCache {
  private readonly map = new Map<string, Statement>();

  constructor(private readonly db: Db, private readonly max: number) {}

  get(sql: string): Statement {
    let s = this.map.get(sql);
    if (s !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.map.delete(sql);
      this.map.set(sql, s);
      return s;
    }
    s = this.db.prepare(sql);
    this.map.set(sql, s);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return s;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Tables whose rows have a public `uuid` (used to resolve request ids to internal keys). */
export type UuidTable =
  | 'role' | 'domain' | 'account' | 'app_user' | 'zone' | 'pod' | 'cluster' | 'host' | 'storage_pool'
  | 'image_store' | 'service_offering' | 'disk_offering' | 'network_offering' | 'os_type' | 'template'
  | 'vm_instance' | 'volume' | 'snapshot' | 'ssh_keypair' | 'network' | 'nic' | 'ip_range' | 'ip_address'
  | 'async_job' | 'event' | 'simulator_mock' | 'resource_tag';

/**
 * What every repository gets: the connection, a statement cache, the clock and id sources, and the
 * transaction helper. One context per connection.
 */
export class StoreContext {
  readonly sql: StatementCache;
  readonly clock: Clock;
  private readonly newUuid: () => string;
  private readonly bytes: (size: number) => Buffer;
  private readonly runner: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(readonly db: Db, options: StoreContextOptions = {}) {
    this.sql = new StatementCache(db, options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE);
    this.clock = options.clock ?? createRealClock();
    this.newUuid = options.newUuid ?? randomUUID;
    this.bytes = options.randomBytes ?? randomBytes;
    this.runner = db.transaction((fn: () => unknown) => fn());
  }

  now(): number {
    return this.clock.now();
  }

  uuid(): string {
    return this.newUuid();
  }

  randomBytes(size: number): Buffer {
    return this.bytes(size);
  }

  /**
   * Runs `fn` in one transaction. The outermost call begins IMMEDIATE, taking the write lock up front so
   * that a read-then-write never fails half-way with SQLITE_BUSY_SNAPSHOT when another connection wrote
   * in between; nested calls become savepoints. A throw rolls everything back.
   */
  tx<T>(fn: () => T): T {
    return this.runner.immediate(fn) as T;
  }

  one<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.sql.get(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.sql.get(sql).all(...params) as T[];
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.sql.get(sql).run(...params);
  }

  /** Internal key of the live row with this public id, or undefined. */
  idOf(table: UuidTable, uuid: string | undefined): number | undefined {
    if (uuid === undefined) return undefined;
    const row = this.one<{ id: number }>(`SELECT id FROM ${table} WHERE uuid = ?`, uuid);
    return row?.id;
  }

  /** Internal key of the row, or an InvalidParameterError naming the parameter (CloudStack's 431). */
  requireId(table: UuidTable, uuid: string, param: string): number {
    const id = this.idOf(table, uuid);
    if (id === undefined) throw new InvalidParameterError(`Unable to find ${param} with id ${uuid}`);
    return id;
  }

  /** Public id of an internal key (the key must exist). */
  uuidOf(table: UuidTable, id: number): string {
    const row = this.one<{ uuid: string }>(`SELECT uuid FROM ${table} WHERE id = ?`, id);
    if (row === undefined) throw new ConflictError(`${table} ${id} vanished during the operation; retry`);
    return row.uuid;
  }
}

/** Runs `fn`, turning a UNIQUE constraint violation into an InvalidParameterError with `message`. */
export function uniquely<T>(message: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isUniqueViolation(err)) throw new InvalidParameterError(message, { cause: err });
    throw err;
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
