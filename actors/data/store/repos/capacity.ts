import type { StoreContext } from '../context.js';
import { compact } from '../format.js';
import type { ConfigRepository } from './config.js';

/** CloudStack capacity type numbers (reference section 4, `capacity`). */
export const CAPACITY_TYPE = {
  MEMORY: 0, CPU: 1, STORAGE: 2, STORAGE_ALLOCATED: 3, PUBLIC_IP: 4, PRIVATE_IP: 5, SECONDARY_STORAGE: 6, VLAN: 7,
  DIRECT_PUBLIC_IP: 8, LOCAL_STORAGE: 9, GPU: 19, CPU_CORE: 90,
} as const;

/** listCapacity's `capacity` object. */
export interface Capacity {
  type: number;
  name: string;
  zoneid: string;
  zonename: string;
  podid?: string;
  podname?: string;
  clusterid?: string;
  clustername?: string;
  capacitytotal: number;
  capacityused: number;
  percentused: string;
}

export interface CapacityQuery {
  zoneid?: string;
  podid?: string;
  clusterid?: string;
  type?: number;
}

interface Group {
  z_uuid: string;
  z_name: string;
  p_uuid?: string | null;
  p_name?: string | null;
  c_uuid?: string | null;
  c_name?: string | null;
  total: number;
  used: number;
}

const NAMES: Record<number, string> = { 0: 'MEMORY', 1: 'CPU', 2: 'STORAGE', 3: 'STORAGE_ALLOCATED',
  4: 'VIRTUAL_NETWORK_PUBLIC_IP', 7: 'VLAN', 90: 'CPU_CORE' };

/**
 * Capacity records, computed from the authoritative allocation columns (hosts, pools, addresses,
 * VNIs) in one aggregate query per type, so they can never drift from what reservations hold.
 */
export class CapacityRepository {
  constructor(private readonly ctx: StoreContext, private readonly config: ConfigRepository) {}

  list(q: CapacityQuery = {}): Capacity[] {
    const level = q.clusterid !== undefined ? 'cluster' : q.podid !== undefined ? 'pod' : 'zone';
    const out: Capacity[] = [];
    const want = (t: number): boolean => q.type === undefined || q.type === t;
    const cpuF = this.config.number('cpu.overprovisioning.factor', 1);
    const memF = this.config.number('mem.overprovisioning.factor', 1);
    const stF = this.config.number('storage.overprovisioning.factor', 2);
    const host = this.hostGroups(level, q);
    if (want(0)) out.push(...host('h.memory * ?', 'h.mem_allocated', memF).map((g) => this.row(0, g)));
    if (want(1)) out.push(...host('h.cpu_cores * h.cpu_speed * ?', 'h.cpu_allocated', cpuF).map((g) => this.row(1, g)));
    if (want(90)) {
      out.push(...host('h.cpu_cores * ?', `(SELECT COALESCE(SUM(v.cpu_number), 0) FROM capacity_reservation r
        JOIN vm_instance v ON v.id = r.vm_id WHERE r.host_id = h.id)`, 1).map((g) => this.row(90, g)));
    }
    const pool = this.poolGroups(level, q);
    if (want(2)) out.push(...pool('s.capacity_bytes', 's.used_bytes', 1).map((g) => this.row(2, g)));
    if (want(3)) out.push(...pool('s.capacity_bytes * ?', 's.allocated_bytes', stF).map((g) => this.row(3, g)));
    if (level === 'zone') {
      if (want(4)) out.push(...this.zoneCount(`SELECT i.zone_id AS zid, count(*) AS total, count(i.account_id) AS used
        FROM ip_address i GROUP BY i.zone_id`, q).map((g) => this.row(4, g)));
      if (want(7)) out.push(...this.zoneCount(`SELECT v.zone_id AS zid, count(*) AS total, count(v.network_id) AS used
        FROM vnet v GROUP BY v.zone_id`, q).map((g) => this.row(7, g)));
    }
    return out;
  }

  private row(type: number, g: Group): Capacity {
    return compact<Capacity>({ type, name: NAMES[type] ?? String(type), zoneid: g.z_uuid, zonename: g.z_name,
      podid: g.p_uuid, podname: g.p_name, clusterid: g.c_uuid, clustername: g.c_name,
      capacitytotal: Math.floor(g.total), capacityused: Math.floor(g.used),
      percentused: g.total > 0 ? ((g.used / g.total) * 100).toFixed(2) : '0' });
  }

  private filters(q: CapacityQuery, alias: string): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    if (q.zoneid !== undefined) { parts.push('z.uuid = ?'); args.push(q.zoneid); }
    if (q.podid !== undefined) { parts.push('p.uuid = ?'); args.push(q.podid); }
    if (q.clusterid !== undefined) { parts.push('c.uuid = ?'); args.push(q.clusterid); }
    return { sql: [`${alias}.removed IS NULL`, ...parts].join(' AND '), args };
  }

  /** `by` names every table whose columns are selected (PostgreSQL requires it; the keys decide the groups). */
  private groupCols(level: string): { cols: string; by: string } {
    if (level === 'cluster') return { cols: 'p.uuid AS p_uuid, p.name AS p_name, c.uuid AS c_uuid, c.name AS c_name', by: 'c.id, z.id, p.id' };
    if (level === 'pod') return { cols: 'p.uuid AS p_uuid, p.name AS p_name', by: 'p.id, z.id' };
    return { cols: 'NULL AS p_uuid', by: 'z.id' };
  }

  private hostGroups(level: string, q: CapacityQuery) {
    const f = this.filters(q, 'h');
    const g = this.groupCols(level);
    return (total: string, used: string, factor: number): Group[] => this.ctx.all<Group>(`SELECT z.uuid AS z_uuid,
      z.name AS z_name, ${g.cols}, SUM(${total}) AS total, SUM(${used}) AS used FROM host h JOIN zone z ON z.id = h.zone_id
      LEFT JOIN pod p ON p.id = h.pod_id LEFT JOIN cluster c ON c.id = h.cluster_id
      WHERE ${f.sql} AND h.type = 'Routing' GROUP BY ${g.by} ORDER BY ${g.by}`,
    ...(total.includes('?') ? [factor] : []), ...f.args);
  }

  private poolGroups(level: string, q: CapacityQuery) {
    const f = this.filters(q, 's');
    const g = this.groupCols(level);
    return (total: string, used: string, factor: number): Group[] => this.ctx.all<Group>(`SELECT z.uuid AS z_uuid,
      z.name AS z_name, ${g.cols}, SUM(${total}) AS total, SUM(${used}) AS used FROM storage_pool s
      JOIN zone z ON z.id = s.zone_id LEFT JOIN pod p ON p.id = s.pod_id LEFT JOIN cluster c ON c.id = s.cluster_id
      WHERE ${f.sql} GROUP BY ${g.by} ORDER BY ${g.by}`, ...(total.includes('?') ? [factor] : []), ...f.args);
  }

  private zoneCount(sql: string, q: CapacityQuery): Group[] {
    return this.ctx.all<Group>(`SELECT z.uuid AS z_uuid, z.name AS z_name, x.total, x.used FROM (${sql}) x
      JOIN zone z ON z.id = x.zid WHERE z.removed IS NULL${q.zoneid === undefined ? '' : ' AND z.uuid = ?'} ORDER BY z.id`,
    ...(q.zoneid === undefined ? [] : [q.zoneid]));
  }
}
