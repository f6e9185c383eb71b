import {
  ConflictError, InsufficientCapacityError, InvalidParameterError, NotFoundError, ResourceUnavailableError,
} from '../../../src/errors.js';
import type { StoreContext } from './context.js';
import type { ConfigRepository } from './repos/config.js';

export { AddressAllocator } from './address-allocation.js';

const MIB = 1024 * 1024;

/** Capacity a VM holds on a host: MHz (cores × speed) and bytes. */
export interface HostReservation {
  hostid: string;
  virtualmachineid: string;
  cpu: number;
  memory: number;
}

/** A host the planner may place a VM on, with what is left on it (over-provisioning applied). */
export interface HostCandidate {
  hostid: string;
  name: string;
  zoneid: string;
  podid?: string;
  clusterid?: string;
  cpuavailable: number;
  memoryavailable: number;
}

export interface HostQuery {
  zoneid: string;
  /** MHz and bytes the VM needs. */
  cpu: number;
  memory: number;
  podid?: string;
  clusterid?: string;
  hypervisor?: string;
  /** A host tag the host must carry (service offering host tags). */
  hosttag?: string;
  /** Host ids to skip (the planner's avoid set). */
  avoid?: readonly string[];
  /** firstfit: creation order; leastconsumed: least allocated CPU first. Default firstfit. */
  order?: 'firstfit' | 'leastconsumed';
  /** At most this many candidates. Default 100. */
  limit?: number;
}

export interface PoolCandidate {
  poolid: string;
  name: string;
  clusterid?: string;
  scope: string;
  available: number;
}

/** Candidate lists are bounded: a planner needs a few good hosts, not all 25,000. */
export const DEFAULT_CANDIDATE_LIMIT = 100;

interface VmSize {
  id: number;
  cpu_number: number;
  cpu_speed: number;
  memory: number;
}

/**
 * Atomic reservation of host and primary storage capacity. Each reservation is one compare-and-add
 * UPDATE whose WHERE clause re-checks the capacity (with the over-provisioning factor), inside an
 * IMMEDIATE transaction: however many callers race on one host, the sum never exceeds the limit. The
 * reservation rows make release exact and both operations idempotent (a retried step is harmless).
 */
export class Allocator {
  constructor(private readonly ctx: StoreContext, private readonly config: ConfigRepository) {}

  private factors(): { cpu: number; mem: number; storage: number } {
    return { cpu: this.config.number('cpu.overprovisioning.factor', 1),
      mem: this.config.number('mem.overprovisioning.factor', 1),
      storage: this.config.number('storage.overprovisioning.factor', 2) };
  }

  /**
   * Reserves the VM's size on a host (which must be Up and Enabled unless `requireUp` is false).
   * Reserving again on the same host is a no-op; a VM may hold two hosts only while it migrates.
   */
  reserveHost(vmUuid: string, hostUuid: string, options: { requireUp?: boolean } = {}): HostReservation {
    return this.ctx.tx(() => {
      const vm = this.vmSize(vmUuid);
      const host = this.ctx.one<{ id: number; state: string; resource_state: string }>(
        'SELECT id, state, resource_state FROM host WHERE uuid = ? AND removed IS NULL', hostUuid);
      if (host === undefined) throw new NotFoundError(`Unable to find host with id ${hostUuid}`);
      const held = this.ctx.one<{ cpu: number; memory: number }>(
        'SELECT cpu, memory FROM capacity_reservation WHERE vm_id = ? AND host_id = ?', vm.id, host.id);
      if (held !== undefined) return { hostid: hostUuid, virtualmachineid: vmUuid, ...held };
      if ((options.requireUp ?? true) && (host.state !== 'Up' || host.resource_state !== 'Enabled')) {
        throw new ResourceUnavailableError(`host ${hostUuid} is ${host.state}/${host.resource_state}, not Up/Enabled`);
      }
      const cpu = vm.cpu_number * vm.cpu_speed;
      const memory = vm.memory * MIB;
      this.addToHost(host.id, hostUuid, cpu, memory);
      this.ctx.run('INSERT INTO capacity_reservation (vm_id, host_id, cpu, memory, created) VALUES (?, ?, ?, ?, ?)',
        vm.id, host.id, cpu, memory, this.ctx.now());
      return { hostid: hostUuid, virtualmachineid: vmUuid, cpu, memory };
    });
  }

  /** Releases what the VM holds (on one host, or on every host). Returns the number of hosts released. */
  releaseHost(vmUuid: string, hostUuid?: string): number {
    return this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number }>('SELECT id FROM vm_instance WHERE uuid = ?', vmUuid);
      if (vm === undefined) throw new NotFoundError(`Unable to find virtual machine with id ${vmUuid}`);
      const hostId = hostUuid === undefined ? undefined : this.ctx.requireId('host', hostUuid, 'host');
      return this.releaseHostById(vm.id, hostId);
    });
  }

  /**
   * Release by internal keys (inside a transaction; used by VM state transitions).
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  releaseHostById(vmId: number, hostId?: number): number {
    // Bounded: one VM holds capacity on at most two hosts (source and target of a migration).
    const rows = this.ctx.all<{ host_id: number; cpu: number; memory: number }>(
      `SELECT host_id, cpu, memory FROM capacity_reservation WHERE vm_id = ?${hostId === undefined ? '' : ' AND host_id = ?'}`,
      ...(hostId === undefined ? [vmId] : [vmId, hostId]));
    for (const r of rows) {
      this.ctx.run('UPDATE host SET cpu_allocated = cpu_allocated - ?, mem_allocated = mem_allocated - ? WHERE id = ?',
        r.cpu, r.memory, r.host_id);
      this.ctx.run('DELETE FROM capacity_reservation WHERE vm_id = ? AND host_id = ?', vmId, r.host_id);
    }
    return rows.length;
  }

  /**
   * Internal: the host a VM holds capacity on (the most recent), if any.
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  reservedHostId(vmId: number): number | undefined {
    return this.ctx.one<{ host_id: number }>(
      // Two reservations of one VM (a migration) made in the same millisecond: the later insert wins. SQLite's
      // rowid grows with inserts; PostgreSQL's ctid only roughly does, but a migration's two reservations
      // are never made in the same millisecond there (the destination is reserved after the source exists).
      `SELECT host_id FROM capacity_reservation WHERE vm_id = ? ORDER BY created DESC, ${this.ctx.dialect === 'sqlite' ? 'rowid' : 'ctid'} DESC LIMIT 1`,
      vmId)?.host_id;
  }

  /**
   * Changes the size a VM holds on its hosts to its current sizing (after scaling), checking capacity
   * for any growth. Runs inside the scaling transaction.
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  resizeHeld(vmId: number): void {
    const vm = this.ctx.one<VmSize & { uuid: string }>(
      'SELECT id, uuid, cpu_number, cpu_speed, memory FROM vm_instance WHERE id = ?', vmId);
    if (vm === undefined) return;
    const cpu = vm.cpu_number * vm.cpu_speed;
    const memory = vm.memory * MIB;
    // Bounded: one VM's reservations (at most two hosts).
    const held = this.ctx.all<{ host_id: number; cpu: number; memory: number; uuid: string }>(
      `SELECT r.host_id, r.cpu, r.memory, h.uuid FROM capacity_reservation r JOIN host h ON h.id = r.host_id
       WHERE r.vm_id = ?`, vmId);
    for (const h of held) {
      this.addToHost(h.host_id, h.uuid, cpu - h.cpu, memory - h.memory);
      this.ctx.run('UPDATE capacity_reservation SET cpu = ?, memory = ? WHERE vm_id = ? AND host_id = ?',
        cpu, memory, vmId, h.host_id);
    }
  }

  private addToHost(hostId: number, hostUuid: string, cpu: number, memory: number): void {
    const f = this.factors();
    const res = this.ctx.run(`UPDATE host SET cpu_allocated = cpu_allocated + ?, mem_allocated = mem_allocated + ?
      WHERE id = ? AND cpu_allocated + ? <= cpu_cores * cpu_speed * ? AND mem_allocated + ? <= memory * ?`,
    cpu, memory, hostId, cpu, f.cpu, memory, f.mem);
    if (res.changes !== 1) {
      throw new InsufficientCapacityError(`host ${hostUuid} does not have ${cpu} MHz and ${memory} bytes free`,
        { details: { hostid: hostUuid, cpu, memory } });
    }
  }

  /** Up and Enabled hosts (in enabled clusters and pods) with room for `cpu` MHz and `memory` bytes. */
  hostsWithCapacity(q: HostQuery): HostCandidate[] {
    const f = this.factors();
    const zoneId = this.ctx.requireId('zone', q.zoneid, 'zone');
    const where = [`h.zone_id = ?`, `h.removed IS NULL`, `h.state = 'Up'`, `h.resource_state = 'Enabled'`,
      `h.type = 'Routing'`, `h.cpu_allocated + ? <= h.cpu_cores * h.cpu_speed * ?`, `h.mem_allocated + ? <= h.memory * ?`,
      `(h.cluster_id IS NULL OR c.allocation_state = 'Enabled')`, `(h.pod_id IS NULL OR p.allocation_state = 'Enabled')`];
    const args: unknown[] = [zoneId, q.cpu, f.cpu, q.memory, f.mem];
    if (q.podid !== undefined) { where.push('p.uuid = ?'); args.push(q.podid); }
    if (q.clusterid !== undefined) { where.push('c.uuid = ?'); args.push(q.clusterid); }
    if (q.hypervisor !== undefined) { where.push('h.hypervisor = ?'); args.push(q.hypervisor); }
    if (q.hosttag !== undefined) { where.push("(',' || h.host_tags || ',') LIKE ?"); args.push(`%,${q.hosttag},%`); }
    if (q.avoid !== undefined && q.avoid.length > 0) {
      where.push('h.uuid NOT IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.avoid));
    }
    const order = q.order === 'leastconsumed' ? 'h.cpu_allocated * 1.0 / MAX(1, h.cpu_cores * h.cpu_speed), h.id' : 'h.id';
    // Bounded by LIMIT (q.limit, default DEFAULT_CANDIDATE_LIMIT): the planner wants the best few, not every host.
    const rows = this.ctx.all<{ uuid: string; name: string; z: string; p: string | null; c: string | null;
      cpu_free: number; mem_free: number }>(`SELECT h.uuid, h.name, z.uuid AS z, p.uuid AS p, c.uuid AS c,
      CAST(h.cpu_cores * h.cpu_speed * ? - h.cpu_allocated AS INTEGER) AS cpu_free,
      CAST(h.memory * ? - h.mem_allocated AS INTEGER) AS mem_free
      FROM host h JOIN zone z ON z.id = h.zone_id LEFT JOIN pod p ON p.id = h.pod_id LEFT JOIN cluster c ON c.id = h.cluster_id
      WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`, f.cpu, f.mem, ...args, q.limit ?? DEFAULT_CANDIDATE_LIMIT);
    return rows.map((r) => {
      const c: HostCandidate = { hostid: r.uuid, name: r.name, zoneid: r.z, cpuavailable: r.cpu_free,
        memoryavailable: r.mem_free };
      if (r.p !== null) c.podid = r.p;
      if (r.c !== null) c.clusterid = r.c;
      return c;
    });
  }

  /**
   * Reserves a volume's size on a primary storage pool and places the volume there. Idempotent on the
   * same pool; a volume already on another pool must be released first (ConflictError otherwise).
   */
  reservePool(volumeUuid: string, poolUuid: string): void {
    this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; pool_id: number | null; size: number }>(
        'SELECT id, pool_id, size FROM volume WHERE uuid = ? AND removed IS NULL', volumeUuid);
      if (vol === undefined) throw new NotFoundError(`Unable to find volume with id ${volumeUuid}`);
      const pool = this.ctx.one<{ id: number; state: string }>(
        'SELECT id, state FROM storage_pool WHERE uuid = ? AND removed IS NULL', poolUuid);
      if (pool === undefined) throw new NotFoundError(`Unable to find storage pool with id ${poolUuid}`);
      if (vol.pool_id === pool.id) return;
      if (vol.pool_id !== null) {
        throw new ConflictError(`volume ${volumeUuid} is already on another pool; release it first`);
      }
      if (pool.state !== 'Up') throw new ResourceUnavailableError(`storage pool ${poolUuid} is ${pool.state}, not Up`);
      this.addToPool(pool.id, poolUuid, vol.size);
      this.ctx.run('UPDATE volume SET pool_id = ? WHERE id = ?', pool.id, vol.id);
    });
  }

  /** Returns a volume's bytes to its pool and unplaces it (no-op when it is on no pool). */
  releasePool(volumeUuid: string): void {
    this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number }>('SELECT id FROM volume WHERE uuid = ?', volumeUuid);
      if (vol === undefined) throw new NotFoundError(`Unable to find volume with id ${volumeUuid}`);
      this.releasePoolById(vol.id);
    });
  }

  /** @internal Takes internal keys: for the store's own transactions only, never for the data protocol. */
  releasePoolById(volumeId: number): void {
    const vol = this.ctx.one<{ pool_id: number | null; size: number }>('SELECT pool_id, size FROM volume WHERE id = ?', volumeId);
    if (vol === undefined || vol.pool_id === null) return;
    this.ctx.run('UPDATE storage_pool SET allocated_bytes = allocated_bytes - ? WHERE id = ?', vol.size, vol.pool_id);
    this.ctx.run('UPDATE volume SET pool_id = NULL WHERE id = ?', volumeId);
  }

  /**
   * Changes a placed volume's size, checking the pool for growth (inside the resize transaction).
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  resizeOnPool(volumeId: number, newSize: number): void {
    const vol = this.ctx.one<{ pool_id: number | null; size: number }>('SELECT pool_id, size FROM volume WHERE id = ?', volumeId);
    if (vol === undefined) throw new NotFoundError('volume vanished during resize');
    if (vol.pool_id !== null) {
      const pool = this.ctx.one<{ uuid: string }>('SELECT uuid FROM storage_pool WHERE id = ?', vol.pool_id)!;
      this.addToPool(vol.pool_id, pool.uuid, newSize - vol.size);
    }
    this.ctx.run('UPDATE volume SET size = ? WHERE id = ?', newSize, volumeId);
  }

  private addToPool(poolId: number, poolUuid: string, bytes: number): void {
    const res = this.ctx.run(`UPDATE storage_pool SET allocated_bytes = allocated_bytes + ?
      WHERE id = ? AND allocated_bytes + ? <= capacity_bytes * ?`, bytes, poolId, bytes, this.factors().storage);
    if (res.changes !== 1) {
      throw new InsufficientCapacityError(`storage pool ${poolUuid} does not have ${bytes} bytes free`,
        { details: { poolid: poolUuid, bytes } });
    }
  }

  /** Up pools reachable from a cluster (its own and zone-wide ones) with room for `size` bytes. */
  poolsWithCapacity(q: { zoneid: string; clusterid?: string; size: number; tags?: string; avoid?: readonly string[];
    limit?: number }): PoolCandidate[] {
    const zoneId = this.ctx.requireId('zone', q.zoneid, 'zone');
    const factor = this.factors().storage;
    const where = ['s.zone_id = ?', 's.removed IS NULL', "s.state = 'Up'", 's.allocated_bytes + ? <= s.capacity_bytes * ?'];
    const args: unknown[] = [zoneId, q.size, factor];
    if (q.clusterid !== undefined) {
      where.push("(s.scope = 'ZONE' OR c.uuid = ?)");
      args.push(q.clusterid);
    }
    if (q.tags !== undefined && q.tags !== '') {
      where.push("(',' || s.tags || ',') LIKE ?");
      args.push(`%,${q.tags},%`);
    }
    if (q.avoid !== undefined && q.avoid.length > 0) {
      where.push('s.uuid NOT IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.avoid));
    }
    if (!(q.size >= 0)) throw new InvalidParameterError('size must be a non-negative number of bytes');
    // Bounded by LIMIT: the best few pools.
    return this.ctx.all<{ uuid: string; name: string; c: string | null; scope: string; free: number }>(
      `SELECT s.uuid, s.name, c.uuid AS c, s.scope, CAST(s.capacity_bytes * ? - s.allocated_bytes AS INTEGER) AS free
       FROM storage_pool s LEFT JOIN cluster c ON c.id = s.cluster_id WHERE ${where.join(' AND ')}
       ORDER BY s.allocated_bytes * 1.0 / MAX(1, s.capacity_bytes), s.id LIMIT ?`,
      factor, ...args, q.limit ?? DEFAULT_CANDIDATE_LIMIT)
      .map((r) => {
        const p: PoolCandidate = { poolid: r.uuid, name: r.name, scope: r.scope, available: r.free };
        if (r.c !== null) p.clusterid = r.c;
        return p;
      });
  }

  private vmSize(vmUuid: string): VmSize {
    const vm = this.ctx.one<VmSize>('SELECT id, cpu_number, cpu_speed, memory FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
    if (vm === undefined) throw new NotFoundError(`Unable to find virtual machine with id ${vmUuid}`);
    return vm;
  }
}
