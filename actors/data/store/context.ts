import { randomBytes, randomUUID } from 'node:crypto';
import { createRealClock, type Clock } from '../../../src/clock.js';
import { ConflictError, InvalidParameterError } from '../../../src/errors.js';
import { isUniqueViolation, type Dialect, type RunResult, type SqlConnection } from './sql/connection.js';

export { isUniqueViolation } from './sql/connection.js';

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

/** Tables whose rows have a public `uuid` (used to resolve request ids to internal keys). */
export type UuidTable =
  | 'role' | 'domain' | 'account' | 'app_user' | 'zone' | 'pod' | 'cluster' | 'host' | 'storage_pool'
  | 'image_store' | 'service_offering' | 'disk_offering' | 'network_offering' | 'os_type' | 'template'
  | 'vm_instance' | 'volume' | 'snapshot' | 'ssh_keypair' | 'network' | 'nic' | 'ip_range' | 'ip_address'
  | 'async_job' | 'event' | 'simulator_mock' | 'resource_tag'
  | 'user_data' | 'instance_group' | 'affinity_group' | 'snapshot_policy' | 'network_rule' | 'vm_snapshot' | 'project' | 'alert';

/**
 * What every repository gets: the connection (SQLite or PostgreSQL), the clock and id sources, and the
 * transaction helper. One context per connection.
 */
export class StoreContext {
  readonly clock: Clock;
  private readonly newUuid: () => string;
  private readonly bytes: (size: number) => Buffer;

  constructor(readonly sql: SqlConnection, options: StoreContextOptions = {}) {
    this.clock = options.clock ?? createRealClock();
    this.newUuid = options.newUuid ?? randomUUID;
    this.bytes = options.randomBytes ?? randomBytes;
  }

  /** Which SQL the connection speaks, for the few statements written per dialect. */
  get dialect(): Dialect {
    return this.sql.dialect;
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
   * Runs `fn` in one transaction; nested calls become savepoints, and a throw rolls back to where the
   * call began (see SqlConnection.tx for how each database isolates it).
   */
  tx<T>(fn: () => T): T {
    return this.sql.tx(fn);
  }

  one<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.sql.one<T>(sql, params);
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.sql.all<T>(sql, params);
  }

  /** Like `all`, faster for wide rows and long pages on SQLite. */
  rows<T>(sql: string, ...params: unknown[]): T[] {
    return this.sql.rows<T>(sql, params);
  }

  run(sql: string, ...params: unknown[]): RunResult {
    return this.sql.run(sql, params);
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

