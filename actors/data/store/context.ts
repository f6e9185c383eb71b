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

/** A statement in raw (array) mode with a function that turns one array into a row object. */
export interface RowReader {
  stmt: Statement;
  make: (values: unknown[]) => unknown;
}

/** A small LRU map (Map keeps insertion order; a hit is re-inserted as most recent). */
class Lru<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string, create: () => V): V {
    let v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
      return v;
    }
    v = create();
    this.map.set(key, v);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return v;
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * A prepared-statement cache keyed by SQL text, least recently used evicted first. Row readers serve the
 * list pages: better-sqlite3 builds a row object property by property, which for 40-column rows costs
 * more than the query itself; reading arrays and building each object from a literal of fixed shape
 * (compiled once per statement) halves the time of a 500-row page.
 */
export class StatementCache {
  private readonly statements: Lru<Statement>;
  private readonly readers: Lru<RowReader>;

  constructor(private readonly db: Db, max: number) {
    this.statements = new Lru(max);
    this.readers = new Lru(max);
  }

  get(sql: string): Statement {
    return this.statements.get(sql, () => this.db.prepare(sql));
  }

  reader(sql: string): RowReader {
    return this.readers.get(sql, () => {
      const stmt = this.db.prepare(sql).raw(true);
      const body = stmt.columns().map((c, i) => `${JSON.stringify(c.name)}: v[${i}]`).join(', ');
      // Column names come from the store's own SQL, never from requests.
      const make = new Function('v', `return { ${body} };`) as (values: unknown[]) => unknown;
      return { stmt, make };
    });
  }

  get size(): number {
    return this.statements.size + this.readers.size;
  }
}

/** Tables whose rows have a public `uuid` (used to resolve request ids to internal keys). */
export type UuidTable =
  | 'role' | 'domain' | 'account' | 'app_user' | 'zone' | 'pod' | 'cluster' | 'host' | 'storage_pool'
  | 'image_store' | 'service_offering' | 'disk_offering' | 'network_offering' | 'os_type' | 'template'
  | 'vm_instance' | 'volume' | 'snapshot' | 'ssh_keypair' | 'network' | 'nic' | 'ip_range' | 'ip_address'
  | 'async_job' | 'event' | 'simulator_mock' | 'resource_tag'
  | 'user_data' | 'instance_group' | 'affinity_group' | 'snapshot_policy' | 'network_rule' | 'vm_snapshot' | 'project' | 'alert';

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

  /** Like `all`, faster for wide rows and long pages (see StatementCache). */
  rows<T>(sql: string, ...params: unknown[]): T[] {
    const r = this.sql.reader(sql);
    return (r.stmt.all(...params) as unknown[][]).map(r.make) as T[];
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

  /** Internal key of an optional reference: null when absent, InvalidParameterError when unknown. */
  optionalId(table: UuidTable, uuid: string | undefined, param: string): number | null {
    return uuid === undefined ? null : this.requireId(table, uuid, param);
  }

  /** The zone, pod and cluster a resource is placed in (pod and cluster optional). */
  placement(input: { zoneid: string; podid?: string | undefined; clusterid?: string | undefined }): { zoneId: number; podId: number | null; clusterId: number | null } {
    return {
      zoneId: this.requireId('zone', input.zoneid, 'zone'),
      podId: this.optionalId('pod', input.podid, 'pod'),
      clusterId: this.optionalId('cluster', input.clusterid, 'cluster'),
    };
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
