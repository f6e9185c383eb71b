/**
 * The cloud's consistency invariants, as queries that return the violations (empty = consistent).
 * Run them after every failure scenario, once the jobs have finished:
 * - no VM stuck in a transitional state (Starting, Stopping, Migrating, Expunging);
 * - no Running VM without a NIC, nor with a NIC that has no address on a network that hands them out
 *   (every network but L2): such a VM is unreachable, and CloudStack never makes one;
 * - no volume pointing at a VM that is gone (detached volumes are fine), none stuck mid-operation;
 * - no allocated IP without an owner: public addresses have an account (and live VM/network links),
 *   guest addresses belong to live NICs of VMs that are not in Error, never twice in one network;
 * - no host whose allocated capacity differs from the sum of its running VMs' sizes, or exceeds its
 *   capacity after over-provisioning.
 * Two forms: `apiInvariantViolations` through the HTTP API as root admin (works against any lab, in
 * one process or many), and `storeInvariantViolations` straight on the SQLite database (sees what the
 * API does not: removed NICs, capacity reservation rows).
 */
import type { Database } from 'better-sqlite3';
import type { CsApi, Json } from './cs-api.js';
import type { SqlConnection } from '../../actors/data/store/sql/connection.js';

const MIB = 1024 * 1024;
const TRANSITIONAL_VM = new Set(['Starting', 'Stopping', 'Migrating', 'Expunging']);
const TRANSITIONAL_VOLUME = new Set(['Creating', 'Resizing', 'Snapshotting', 'Attaching', 'Copying', 'Migrating', 'Destroying',
  'Expunging', 'RevertSnapshotting']);

interface Vm { id: string; name: string; state: string; hostid?: string; cpunumber: number; cpuspeed: number; memory: number;
  nic: { networkid: string; ipaddress?: string; type?: string }[] }
interface Volume { id: string; name: string; state: string; virtualmachineid?: string }
interface Ip { id: string; ipaddress: string; state: string; account?: string; virtualmachineid?: string; associatednetworkid?: string }
interface Host { id: string; name: string; cpuallocatedvalue: number; memoryallocated: number; cpunumber: number; cpuspeed: number;
  memorytotal: number }

/** Through the API (root admin keys): what any CloudStack client could check. */
export async function apiInvariantViolations(api: CsApi): Promise<string[]> {
  const all = { listall: true };
  const [vms, volumes, ips, hosts, networks] = await Promise.all([
    api.listAll<Vm>('listVirtualMachines', 'virtualmachine', all),
    api.listAll<Volume>('listVolumes', 'volume', all),
    api.listAll<Ip>('listPublicIpAddresses', 'publicipaddress', { ...all, allocatedonly: true }),
    api.listAll<Host>('listHosts', 'host', { type: 'Routing' }),
    api.listAll<Json>('listNetworks', 'network', all),
  ]);
  const out: string[] = [];
  const vmById = new Map(vms.map((v) => [v.id, v]));
  for (const vm of vms) if (TRANSITIONAL_VM.has(vm.state)) out.push(`VM ${vm.name} is stuck in ${vm.state}`);
  for (const v of volumes) {
    if (v.virtualmachineid !== undefined && !vmById.has(v.virtualmachineid)) out.push(`volume ${v.name} belongs to VM ${v.virtualmachineid}, which is gone`);
    if (TRANSITIONAL_VOLUME.has(v.state)) out.push(`volume ${v.name} is stuck in ${v.state}`);
  }
  const networkIds = new Set(networks.map((n) => String(n['id'])));
  for (const ip of ips) {
    if (ip.account === undefined) out.push(`public ip ${ip.ipaddress} is ${ip.state} but has no owner`);
    if (ip.virtualmachineid !== undefined && !vmById.has(ip.virtualmachineid)) out.push(`public ip ${ip.ipaddress} points at a VM that is gone`);
    if (ip.associatednetworkid !== undefined && !networkIds.has(ip.associatednetworkid)) out.push(`public ip ${ip.ipaddress} is on a network that is gone`);
  }
  out.push(...nicViolations(vms));
  out.push(...guestAddressViolations(vms));
  out.push(...hostViolations(hosts, vms));
  return out;
}

/** Running VMs without a NIC, or with a NIC left without its address (L2 networks have none to give). */
function nicViolations(vms: readonly Vm[]): string[] {
  const out: string[] = [];
  for (const vm of vms) {
    if (vm.state !== 'Running') continue;
    if (vm.nic.length === 0) out.push(`VM ${vm.name} is Running without a NIC`);
    for (const nic of vm.nic) {
      if (nic.ipaddress === undefined && nic.type !== 'L2') out.push(`VM ${vm.name} is Running but its NIC on network ${nic.networkid} has no address`);
    }
  }
  return out;
}

function guestAddressViolations(vms: Vm[]): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (const vm of vms) {
    for (const nic of vm.nic) {
      if (nic.ipaddress === undefined) continue;
      if (vm.state === 'Error') out.push(`VM ${vm.name} is in Error but still holds guest address ${nic.ipaddress}`);
      const k = `${nic.networkid}/${nic.ipaddress}`;
      const other = seen.get(k);
      if (other !== undefined) out.push(`guest address ${nic.ipaddress} is held by both ${other} and ${vm.name}`);
      seen.set(k, vm.name);
    }
  }
  return out;
}

function hostViolations(hosts: Host[], vms: Vm[]): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const running = vms.filter((v) => v.hostid === h.id && v.state === 'Running');
    const cpu = running.reduce((s, v) => s + v.cpunumber * v.cpuspeed, 0);
    const mem = running.reduce((s, v) => s + v.memory * MIB, 0);
    if (h.cpuallocatedvalue !== cpu || h.memoryallocated !== mem) {
      out.push(`host ${h.name} has ${h.cpuallocatedvalue} MHz / ${h.memoryallocated} bytes allocated but its ${running.length} running VMs ` +
        `use ${cpu} MHz / ${mem} bytes`);
    }
  }
  return out;
}

/** Rows of a statement on either store backend (the raw SQLite handle, or the store's connection). */
function query<T>(db: Database | SqlConnection, sql: string, ...params: unknown[]): T[] {
  return ('dialect' in db ? db.all(sql, params) : db.prepare(sql).all(...params)) as T[];
}

/** Straight on the database: the same invariants plus what only the store knows. */
export function storeInvariantViolations(db: Database | SqlConnection): string[] {
  const out: string[] = [];
  const rows = <T>(sql: string): T[] => query<T>(db, sql);
  for (const r of rows<{ uuid: string; state: string }>(`SELECT uuid, state FROM vm_instance WHERE removed IS NULL
    AND state IN ('Starting', 'Stopping', 'Migrating', 'Expunging')`)) out.push(`VM ${r.uuid} is stuck in ${r.state}`);
  out.push(...storeNicViolations(db));
  for (const r of rows<{ uuid: string }>(`SELECT v.uuid FROM volume v LEFT JOIN vm_instance m ON m.id = v.vm_id
    WHERE v.removed IS NULL AND v.vm_id IS NOT NULL AND (m.id IS NULL OR m.removed IS NOT NULL)`)) out.push(`volume ${r.uuid} belongs to a VM that is gone`);
  for (const r of rows<{ uuid: string; ip: string }>(`SELECT n.uuid, n.ip_address AS ip FROM nic n JOIN vm_instance m ON m.id = n.vm_id
    WHERE n.ip_num IS NOT NULL AND (n.removed IS NOT NULL OR m.removed IS NOT NULL OR m.state = 'Error')`)) {
    out.push(`guest address ${r.ip} is held by nic ${r.uuid} of a VM that is gone or in Error`);
  }
  for (const r of rows<{ address: string }>(`SELECT a.address FROM ip_address a LEFT JOIN network n ON n.id = a.network_id
    LEFT JOIN vm_instance m ON m.id = a.vm_id WHERE a.state <> 'Free' AND (a.account_id IS NULL
    OR (a.network_id IS NOT NULL AND n.removed IS NOT NULL) OR (a.vm_id IS NOT NULL AND m.removed IS NOT NULL))`)) {
    out.push(`public ip ${r.address} is allocated without a live owner`);
  }
  out.push(...storeCapacityViolations(db));
  return out;
}

/** The NIC invariant on the database: every Running VM has a live NIC, each with its address (but on L2 networks). */
export function storeNicViolations(db: Database | SqlConnection): string[] {
  const out: string[] = [];
  for (const r of query(db, `SELECT v.uuid FROM vm_instance v WHERE v.removed IS NULL AND v.state = 'Running'
    AND NOT EXISTS (SELECT 1 FROM nic n WHERE n.vm_id = v.id AND n.removed IS NULL)`) as { uuid: string }[]) {
    out.push(`VM ${r.uuid} is Running without a NIC`);
  }
  for (const r of query(db, `SELECT v.uuid AS vm, n.uuid AS nic FROM nic n JOIN vm_instance v ON v.id = n.vm_id
    JOIN network nw ON nw.id = n.network_id WHERE v.removed IS NULL AND n.removed IS NULL AND v.state = 'Running'
    AND nw.guest_type <> 'L2' AND n.ip_address IS NULL`) as { vm: string; nic: string }[]) {
    out.push(`VM ${r.vm} is Running but its nic ${r.nic} has no address`);
  }
  return out;
}

function storeCapacityViolations(db: Database | SqlConnection): string[] {
  const out: string[] = [];
  const factor = (name: string): number => Number((query<{ value: string }>(db, 'SELECT value FROM configuration WHERE name = ?', name)[0])?.value ?? 1);
  const cpuF = factor('cpu.overprovisioning.factor');
  const memF = factor('mem.overprovisioning.factor');
  const hosts = query(db, `SELECT h.uuid, h.name, h.cpu_allocated AS ca, h.mem_allocated AS ma, h.cpu_cores * h.cpu_speed AS cpu,
    h.memory AS mem,
    (SELECT COALESCE(SUM(v.cpu_number * v.cpu_speed), 0) FROM vm_instance v WHERE v.host_id = h.id AND v.removed IS NULL AND v.state = 'Running') AS vcpu,
    (SELECT COALESCE(SUM(v.memory), 0) FROM vm_instance v WHERE v.host_id = h.id AND v.removed IS NULL AND v.state = 'Running') AS vmem,
    (SELECT COALESCE(SUM(r.cpu), 0) FROM capacity_reservation r WHERE r.host_id = h.id) AS rcpu
    FROM host h WHERE h.removed IS NULL AND h.type = 'Routing'`) as { name: string; ca: number; ma: number; cpu: number; mem: number;
    vcpu: number; vmem: number; rcpu: number }[];
  for (const h of hosts) {
    if (h.ca !== h.vcpu || h.ma !== h.vmem * MIB) out.push(`host ${h.name}: ${h.ca} MHz / ${h.ma} bytes allocated, running VMs use ${h.vcpu} MHz / ${h.vmem * MIB} bytes`);
    if (h.ca !== h.rcpu) out.push(`host ${h.name}: ${h.ca} MHz allocated but its reservations add up to ${h.rcpu} MHz`);
    if (h.ca > h.cpu * cpuF || h.ma > h.mem * memF) out.push(`host ${h.name} is over capacity: ${h.ca} of ${h.cpu * cpuF} MHz, ${h.ma} of ${h.mem * memF} bytes`);
  }
  for (const r of query(db, `SELECT v.uuid, v.state FROM capacity_reservation r JOIN vm_instance v ON v.id = r.vm_id
    WHERE v.removed IS NOT NULL OR v.state NOT IN ('Starting', 'Running', 'Stopping', 'Migrating')`) as { uuid: string; state: string }[]) {
    out.push(`VM ${r.uuid} holds host capacity while ${r.state}`);
  }
  return out;
}

/** Jobs that have not finished (every job must end succeeded or failed). */
export function pendingJobs(db: Database | SqlConnection): string[] {
  return (query(db, 'SELECT uuid FROM async_job WHERE status = 0') as { uuid: string }[]).map((r) => r.uuid);
}
