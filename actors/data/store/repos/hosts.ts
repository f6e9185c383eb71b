import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { bool, compact, formatDate, formatOptionalDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM } from '../scoping.js';
import {
  HOST_MACHINE, RESOURCE_STATE_MACHINE, applyTransition, type HostState, type ResourceState,
} from '../state-machines.js';
import { getGlobal, updateColumns } from './common.js';
import type { AlertRepository } from './alerts.js';
import type { EventRepository } from './events.js';

/** listHosts' `host` object. Memory figures are bytes, CPU figures MHz. */
export interface Host {
  id: string;
  name: string;
  state: HostState;
  resourcestate: ResourceState;
  type: string;
  ipaddress?: string;
  zoneid: string;
  zonename: string;
  podid?: string;
  podname?: string;
  clusterid?: string;
  clustername?: string;
  clustertype?: string;
  hypervisor?: string;
  hypervisorversion?: string;
  version?: string;
  cpunumber: number;
  cpuspeed: number;
  cpusockets: number;
  cpuallocated: string;
  cpuallocatedvalue: number;
  cpuallocatedpercentage: string;
  cpuwithoverprovisioning: string;
  cpuused?: string;
  memorytotal: number;
  memoryallocated: number;
  memoryallocatedpercentage: string;
  memorywithoverprovisioning: string;
  memoryused?: number;
  hosttags?: string;
  capabilities?: string;
  lastpinged?: string;
  managementserverid?: string;
  disconnected?: string;
  created: string;
  hahost: boolean;
  islocalstorageactive: boolean;
}

export interface CreateHostInput {
  zoneid: string;
  podid?: string;
  clusterid?: string;
  name: string;
  url?: string;
  hypervisor?: string;
  type?: string;
  ipaddress?: string;
  cpunumber: number;
  /** MHz per core. */
  cpuspeed: number;
  /** Bytes. */
  memory: number;
  cpusockets?: number;
  hosttags?: string;
  version?: string;
  hypervisorversion?: string;
  capabilities?: string;
  /** Initial status; default Connecting (the agent is connecting as it is added). */
  state?: HostState;
  /** Initial resource state; default Enabled. */
  resourcestate?: ResourceState;
}

export interface UpdateHostInput {
  name?: string;
  hosttags?: string;
  ipaddress?: string;
  cpunumber?: number;
  cpuspeed?: number;
  memory?: number;
  version?: string;
  hypervisorversion?: string;
  capabilities?: string;
  managementserverid?: string;
  /** Actual use reported by the agent: CPU percent and memory bytes. */
  cpuused?: number;
  memoryused?: number;
}

interface HostRow {
  _id: number;
  uuid: string;
  name: string;
  type: string;
  state: HostState;
  resource_state: ResourceState;
  ip_address: string | null;
  hypervisor: string | null;
  hypervisor_version: string | null;
  version: string | null;
  cpu_cores: number;
  cpu_speed: number;
  cpu_sockets: number;
  memory: number;
  cpu_allocated: number;
  mem_allocated: number;
  cpu_used: number | null;
  mem_used: number | null;
  host_tags: string | null;
  capabilities: string | null;
  last_pinged: number | null;
  mgmt_server_id: string | null;
  disconnected: number | null;
  ha_host: number;
  local_storage_active: number;
  created: number;
  z_uuid: string;
  z_name: string;
  p_uuid: string | null;
  p_name: string | null;
  c_uuid: string | null;
  c_name: string | null;
  c_type: string | null;
  cpu_factor: number;
  mem_factor: number;
}

function percent(part: number, whole: number): string {
  return whole <= 0 ? '0%' : `${((part / whole) * 100).toFixed(2)}%`;
}

function mapHost(r: HostRow): Host {
  const cpuTotal = r.cpu_cores * r.cpu_speed;
  return compact<Host>({
    id: r.uuid, name: r.name, state: r.state, resourcestate: r.resource_state, type: r.type, ipaddress: r.ip_address,
    zoneid: r.z_uuid, zonename: r.z_name, podid: r.p_uuid, podname: r.p_name, clusterid: r.c_uuid,
    clustername: r.c_name, clustertype: r.c_type, hypervisor: r.hypervisor, hypervisorversion: r.hypervisor_version,
    version: r.version, cpunumber: r.cpu_cores, cpuspeed: r.cpu_speed, cpusockets: r.cpu_sockets,
    cpuallocated: percent(r.cpu_allocated, cpuTotal), cpuallocatedvalue: r.cpu_allocated,
    cpuallocatedpercentage: percent(r.cpu_allocated, cpuTotal),
    cpuwithoverprovisioning: String(cpuTotal * r.cpu_factor),
    cpuused: r.cpu_used === null ? undefined : `${r.cpu_used.toFixed(2)}%`,
    memorytotal: r.memory, memoryallocated: r.mem_allocated,
    memoryallocatedpercentage: percent(r.mem_allocated, r.memory),
    memorywithoverprovisioning: String(Math.floor(r.memory * r.mem_factor)), memoryused: r.mem_used,
    hosttags: r.host_tags, capabilities: r.capabilities, lastpinged: formatOptionalDate(r.last_pinged),
    managementserverid: r.mgmt_server_id, disconnected: formatOptionalDate(r.disconnected),
    created: formatDate(r.created), hahost: bool(r.ha_host), islocalstorageactive: bool(r.local_storage_active),
  });
}

/**
 * Over-provisioning factors, read once per statement: as a one-row subquery joined to every host.
 * (As scalar subqueries in the select list SQLite evaluated them again for every row: half the cost
 * of reading 5,000 hosts.)
 */
const FACTOR_JOIN = `CROSS JOIN (SELECT
  COALESCE((SELECT CAST(value AS REAL) FROM configuration WHERE name = 'cpu.overprovisioning.factor'), 1) AS cpu_factor,
  COALESCE((SELECT CAST(value AS REAL) FROM configuration WHERE name = 'mem.overprovisioning.factor'), 1) AS mem_factor) f`;

const SPEC: ListSpec<HostRow, Host> = {
  table: 'host',
  columns: `t.id AS _id, t.uuid, t.name, t.type, t.state, t.resource_state, t.ip_address, t.hypervisor,
    t.hypervisor_version, t.version, t.cpu_cores, t.cpu_speed, t.cpu_sockets, t.memory, t.cpu_allocated,
    t.mem_allocated, t.cpu_used, t.mem_used, t.host_tags, t.capabilities, t.last_pinged, t.mgmt_server_id,
    t.disconnected, t.ha_host, t.local_storage_active, t.created, z.uuid AS z_uuid, z.name AS z_name,
    p.uuid AS p_uuid, p.name AS p_name, c.uuid AS c_uuid, c.name AS c_name, c.cluster_type AS c_type,
    f.cpu_factor, f.mem_factor`,
  joins: `${FACTOR_JOIN} JOIN zone z ON z.id = t.zone_id LEFT JOIN pod p ON p.id = t.pod_id LEFT JOIN cluster c ON c.id = t.cluster_id`,
  scope: 'none',
  where: 't.removed IS NULL',
  filters: {
    zoneid: { ref: 'zone', column: 'zone_id' }, podid: { ref: 'pod', column: 'pod_id' },
    clusterid: { ref: 'cluster', column: 'cluster_id' }, name: { eq: 'name' }, state: { eq: 'state' },
    type: { eq: 'type' }, resourcestate: { eq: 'resource_state' }, hypervisor: { eq: 'hypervisor' },
    hosttags: { custom: (v) => ({ sql: "(',' || t.host_tags || ',') LIKE ?", args: [`%,${String(v)},%`] }) },
  },
  keyword: ['name'],
  map: mapHost,
};

const HOST_EVENTS: Partial<Record<string, string>> = { Up: 'HOST.UP', Down: 'HOST.DOWN', Alert: 'HOST.ALERT',
  Disconnected: 'HOST.DISCONNECTED', Removed: 'HOST.REMOVE' };

export class HostRepository {
  constructor(private readonly ctx: StoreContext, private readonly events: EventRepository,
    private readonly systemOwner: () => { accountId: number; domainId: number }, private readonly alerts: AlertRepository) {}

  get(uuid: string): Host {
    return getGlobal(this.ctx, SPEC, 'host', uuid).item;
  }

  list(params: ListParams = {}): ListResult<Host> {
    return listResources(this.ctx, SPEC, SYSTEM, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(params: ListParams, window: ScanWindow = {}): ScanChunk<Host> {
    return scanResources(this.ctx, SPEC, SYSTEM, params, window);
  }

  /** addHost (one row; the API wraps it in a one-element list). */
  create(input: CreateHostInput): Host {
    if (!(input.cpunumber >= 0 && input.cpuspeed >= 0 && input.memory >= 0)) {
      throw new InvalidParameterError('host cpunumber, cpuspeed and memory must be non-negative numbers');
    }
    return this.ctx.tx(() => {
      const { zoneId, podId, clusterId } = this.ctx.placement(input);
      const uuid = this.ctx.uuid();
      this.ctx.run(`INSERT INTO host (uuid, name, type, zone_id, pod_id, cluster_id, state, resource_state, ip_address,
        url, hypervisor, hypervisor_version, version, cpu_cores, cpu_speed, cpu_sockets, memory, host_tags,
        capabilities, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.type ?? 'Routing', zoneId, podId, clusterId, input.state ?? 'Connecting',
      input.resourcestate ?? 'Enabled', input.ipaddress ?? null, input.url ?? null, input.hypervisor ?? null,
      input.hypervisorversion ?? null, input.version ?? null, input.cpunumber, input.cpuspeed, input.cpusockets ?? 1,
      input.memory, input.hosttags ?? null, input.capabilities ?? null, this.ctx.now());
      this.events.record({ type: 'HOST.ADD', description: `added host ${input.name}`, ...this.systemOwner(),
        resourceType: 'Host', resourceUuid: uuid });
      return this.get(uuid);
    });
  }

  update(uuid: string, patch: UpdateHostInput): Host {
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('host', uuid, 'host');
      const cols = updateColumns({
        name: patch.name, host_tags: patch.hosttags, ip_address: patch.ipaddress, cpu_cores: patch.cpunumber,
        cpu_speed: patch.cpuspeed, memory: patch.memory, version: patch.version,
        hypervisor_version: patch.hypervisorversion, capabilities: patch.capabilities,
        mgmt_server_id: patch.managementserverid, cpu_used: patch.cpuused, mem_used: patch.memoryused,
      });
      if (cols.sql !== '') this.ctx.run(`UPDATE host SET ${cols.sql} WHERE id = ?`, ...cols.args, id);
      return this.get(uuid);
    });
  }

  /**
   * Applies a Status event (AgentConnected, Ready, Ping, PingTimeout, HostDown, Remove...). Leaving Up
   * records `disconnected`; reaching Removed marks the row removed. A host event is written when the
   * status actually changes.
   */
  transition(uuid: string, event: string, options: { expect?: HostState } = {}): Host {
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('host', uuid, 'host');
      const now = this.ctx.now();
      const cur = this.ctx.one<{ state: string }>('SELECT state FROM host WHERE id = ?', id)!.state;
      const set: Record<string, unknown> = {};
      if (cur === 'Up' && event !== 'Ping') set.disconnected = now;
      if (event === 'Ping') set.last_pinged = now;
      if (event === 'Remove') set.removed = now;
      const { from, to } = applyTransition(this.ctx, { machine: HOST_MACHINE, table: 'host', column: 'state', id, uuid,
        event, expect: options.expect, set });
      const type = HOST_EVENTS[to];
      if (from !== to && type !== undefined) {
        this.events.record({ type, description: `host ${uuid} ${from} -> ${to} (${event})`, ...this.systemOwner(),
          resourceType: 'Host', resourceUuid: uuid, level: to === 'Up' ? 'INFO' : 'WARN' });
      }
      // CloudStack's ALERT_TYPE_HOST: a host that stops answering needs an administrator's attention.
      if (from !== to && (to === 'Down' || to === 'Alert')) {
        const name = this.ctx.one<{ name: string }>('SELECT name FROM host WHERE id = ?', id)!.name;
        this.alerts.recordHost(id, `Host is ${to === 'Down' ? 'down' : 'in alert state'}, name: ${name} (id: ${uuid}), after ${event} (was ${from})`);
      }
      return getGlobal(this.ctx, SPEC, 'host', uuid, '1').item;
    });
  }

  /** Applies a ResourceState event (Enable, Disable, AdminAskMaintenance, InternalEnterMaintenance...). */
  resourceTransition(uuid: string, event: string, options: { expect?: ResourceState } = {}): Host {
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('host', uuid, 'host');
      const { from, to } = applyTransition(this.ctx, { machine: RESOURCE_STATE_MACHINE, table: 'host',
        column: 'resource_state', id, uuid, event, expect: options.expect });
      if (from !== to) {
        this.events.record({ type: to === 'Maintenance' || to === 'PrepareForMaintenance' ? 'MAINT.PREPARE' : 'HOST.UPDATE',
          description: `host ${uuid} resource state ${from} -> ${to}`, ...this.systemOwner(), resourceType: 'Host',
          resourceUuid: uuid });
      }
      return this.get(uuid);
    });
  }

  /** Records a heartbeat without a status change (the fabric monitor decides transitions). */
  recordPing(uuid: string): void {
    const res = this.ctx.run('UPDATE host SET last_pinged = ? WHERE uuid = ? AND removed IS NULL', this.ctx.now(), uuid);
    if (res.changes === 0) this.get(uuid);
  }
}
