import { InvalidParameterError, NotFoundError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { bool, compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, resolveCaller, type Scope } from '../scoping.js';
import { boolInt, getGlobal, optBoolInt, updateColumns } from './common.js';

export type AllocationState = 'Enabled' | 'Disabled';

/** listZones' `zone` object. */
export interface Zone {
  id: string;
  name: string;
  description?: string;
  dns1?: string;
  dns2?: string;
  internaldns1?: string;
  internaldns2?: string;
  ip6dns1?: string;
  ip6dns2?: string;
  guestcidraddress?: string;
  networktype: 'Basic' | 'Advanced';
  securitygroupsenabled: boolean;
  allocationstate: AllocationState;
  zonetoken?: string;
  dhcpprovider?: string;
  localstorageenabled: boolean;
  domain?: string;
  domainid?: string;
  networkdomain?: string;
  type: 'Core' | 'Edge';
  tags: never[];
  created: string;
}

export interface CreateZoneInput {
  name: string;
  networktype: 'Basic' | 'Advanced';
  dns1?: string;
  dns2?: string;
  internaldns1?: string;
  internaldns2?: string;
  ip6dns1?: string;
  ip6dns2?: string;
  description?: string;
  guestcidraddress?: string;
  domainid?: string;
  networkdomain?: string;
  localstorageenabled?: boolean;
  securitygroupenabled?: boolean;
  /** Default Disabled, as CloudStack: enable with update once the zone is set up. */
  allocationstate?: AllocationState;
}

export type UpdateZoneInput = Partial<Omit<CreateZoneInput, 'networktype' | 'domainid' | 'securitygroupenabled'>>;

interface ZoneRow {
  _id: number;
  uuid: string;
  name: string;
  description: string | null;
  dns1: string | null;
  dns2: string | null;
  internaldns1: string | null;
  internaldns2: string | null;
  ip6dns1: string | null;
  ip6dns2: string | null;
  guest_cidr: string | null;
  network_type: 'Basic' | 'Advanced';
  security_groups_enabled: number;
  allocation_state: AllocationState;
  zone_token: string | null;
  dhcp_provider: string | null;
  local_storage_enabled: number;
  network_domain: string | null;
  type: 'Core' | 'Edge';
  created: number;
  d_uuid: string | null;
  d_name: string | null;
}

const ZONE_SPEC: ListSpec<ZoneRow, Zone> = {
  table: 'zone',
  columns: 't.id AS _id, t.*, d.uuid AS d_uuid, d.name AS d_name',
  joins: 'LEFT JOIN domain d ON d.id = t.domain_id',
  // Users and domain admins see enabled zones only; admins and components see all.
  scope: (ctx, scope) => (scope === SYSTEM || resolveCaller(ctx, scope).role === 'admin')
    ? { sql: '', args: [] } : { sql: "t.allocation_state = 'Enabled'", args: [] },
  where: 't.removed IS NULL',
  filters: { name: { eq: 'name' }, networktype: { eq: 'network_type' }, allocationstate: { eq: 'allocation_state' },
    domainid: { ref: 'domain', column: 'domain_id' } },
  keyword: ['name'],
  map: (r) => compact<Zone>({
    id: r.uuid, name: r.name, description: r.description, dns1: r.dns1, dns2: r.dns2, internaldns1: r.internaldns1,
    internaldns2: r.internaldns2, ip6dns1: r.ip6dns1, ip6dns2: r.ip6dns2, guestcidraddress: r.guest_cidr,
    networktype: r.network_type, securitygroupsenabled: bool(r.security_groups_enabled),
    allocationstate: r.allocation_state, zonetoken: r.zone_token, dhcpprovider: r.dhcp_provider,
    localstorageenabled: bool(r.local_storage_enabled), domain: r.d_name, domainid: r.d_uuid,
    networkdomain: r.network_domain, type: r.type, tags: [], created: formatDate(r.created),
  }),
};

/** listPods' `pod` object. */
export interface Pod {
  id: string;
  name: string;
  zoneid: string;
  zonename: string;
  gateway?: string;
  netmask?: string;
  startip?: string;
  endip?: string;
  allocationstate: AllocationState;
}

export interface CreatePodInput {
  zoneid: string;
  name: string;
  gateway?: string;
  netmask?: string;
  startip?: string;
  endip?: string;
  allocationstate?: AllocationState;
}

interface PodRow {
  uuid: string;
  name: string;
  gateway: string | null;
  netmask: string | null;
  start_ip: string | null;
  end_ip: string | null;
  allocation_state: AllocationState;
  z_uuid: string;
  z_name: string;
}

const POD_SPEC: ListSpec<PodRow, Pod> = {
  table: 'pod',
  columns: 't.uuid, t.name, t.gateway, t.netmask, t.start_ip, t.end_ip, t.allocation_state, z.uuid AS z_uuid, z.name AS z_name',
  joins: 'JOIN zone z ON z.id = t.zone_id',
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { zoneid: { ref: 'zone', column: 'zone_id' }, name: { eq: 'name' }, allocationstate: { eq: 'allocation_state' } },
  keyword: ['name'],
  map: (r) => compact<Pod>({
    id: r.uuid, name: r.name, zoneid: r.z_uuid, zonename: r.z_name, gateway: r.gateway, netmask: r.netmask,
    startip: r.start_ip, endip: r.end_ip, allocationstate: r.allocation_state,
  }),
};

/** listClusters' `cluster` object. */
export interface Cluster {
  id: string;
  name: string;
  podid: string;
  podname: string;
  zoneid: string;
  zonename: string;
  hypervisortype: string;
  clustertype: 'CloudManaged' | 'ExternalManaged';
  allocationstate: AllocationState;
  managedstate: string;
}

export interface CreateClusterInput {
  zoneid: string;
  podid: string;
  clustername: string;
  hypervisor: string;
  clustertype?: 'CloudManaged' | 'ExternalManaged';
  allocationstate?: AllocationState;
}

interface ClusterRow {
  uuid: string;
  name: string;
  hypervisor: string;
  cluster_type: 'CloudManaged' | 'ExternalManaged';
  allocation_state: AllocationState;
  managed_state: string;
  p_uuid: string;
  p_name: string;
  z_uuid: string;
  z_name: string;
}

const CLUSTER_SPEC: ListSpec<ClusterRow, Cluster> = {
  table: 'cluster',
  columns: `t.uuid, t.name, t.hypervisor, t.cluster_type, t.allocation_state, t.managed_state, p.uuid AS p_uuid,
    p.name AS p_name, z.uuid AS z_uuid, z.name AS z_name`,
  joins: 'JOIN pod p ON p.id = t.pod_id JOIN zone z ON z.id = t.zone_id',
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { zoneid: { ref: 'zone', column: 'zone_id' }, podid: { ref: 'pod', column: 'pod_id' },
    name: { eq: 'name' }, hypervisor: { eq: 'hypervisor' }, clustertype: { eq: 'cluster_type' },
    allocationstate: { eq: 'allocation_state' } },
  keyword: ['name'],
  map: (r) => ({
    id: r.uuid, name: r.name, podid: r.p_uuid, podname: r.p_name, zoneid: r.z_uuid, zonename: r.z_name,
    hypervisortype: r.hypervisor, clustertype: r.cluster_type, allocationstate: r.allocation_state,
    managedstate: r.managed_state,
  }),
};

function checkAllocationState(s: string | undefined): void {
  if (s !== undefined && s !== 'Enabled' && s !== 'Disabled') {
    throw new InvalidParameterError(`allocationstate must be Enabled or Disabled, got ${s}`);
  }
}

/** Zones, pods and clusters: the physical hierarchy above the hosts. */
export class ZoneRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(scope: Scope, uuid: string): Zone {
    const z = getGlobal(this.ctx, ZONE_SPEC, 'zone', uuid);
    if (z.item.allocationstate !== 'Enabled' && scope !== SYSTEM && resolveCaller(this.ctx, scope).role !== 'admin') {
      throw new NotFoundError(`Unable to find zone with id ${uuid}`);
    }
    return z.item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Zone> {
    return listResources(this.ctx, ZONE_SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Zone> {
    return scanResources(this.ctx, ZONE_SPEC, scope, params, window);
  }

  create(input: CreateZoneInput): Zone {
    checkAllocationState(input.allocationstate);
    if (input.networktype !== 'Basic' && input.networktype !== 'Advanced') {
      throw new InvalidParameterError(`networktype must be Basic or Advanced, got ${String(input.networktype)}`);
    }
    return this.ctx.tx(() => {
      const uuid = this.ctx.uuid();
      const domainId = this.ctx.optionalId('domain', input.domainid, 'domain');
      uniquely(`A zone with name ${input.name} already exists`, () => this.ctx.run(`INSERT INTO zone (uuid, name,
        description, dns1, dns2, internaldns1, internaldns2, ip6dns1, ip6dns2, guest_cidr, network_type,
        security_groups_enabled, allocation_state, local_storage_enabled, domain_id, zone_token, network_domain,
        created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.description ?? null, input.dns1 ?? null, input.dns2 ?? null, input.internaldns1 ?? null,
      input.internaldns2 ?? null, input.ip6dns1 ?? null, input.ip6dns2 ?? null, input.guestcidraddress ?? null,
      input.networktype, boolInt(input.securitygroupenabled), input.allocationstate ?? 'Disabled',
      boolInt(input.localstorageenabled), domainId, this.ctx.uuid(), input.networkdomain ?? null, this.ctx.now()));
      return this.get(SYSTEM, uuid);
    });
  }

  update(uuid: string, patch: UpdateZoneInput): Zone {
    checkAllocationState(patch.allocationstate);
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('zone', uuid, 'zone');
      const cols = updateColumns({
        name: patch.name, description: patch.description, dns1: patch.dns1, dns2: patch.dns2,
        internaldns1: patch.internaldns1, internaldns2: patch.internaldns2, ip6dns1: patch.ip6dns1,
        ip6dns2: patch.ip6dns2, guest_cidr: patch.guestcidraddress, network_domain: patch.networkdomain,
        allocation_state: patch.allocationstate, local_storage_enabled: optBoolInt(patch.localstorageenabled),
      });
      if (cols.sql !== '') {
        uniquely(`A zone with name ${patch.name} already exists`, () =>
          this.ctx.run(`UPDATE zone SET ${cols.sql} WHERE id = ?`, ...cols.args, id));
      }
      return this.get(SYSTEM, uuid);
    });
  }

  getPod(uuid: string): Pod {
    return getGlobal(this.ctx, POD_SPEC, 'pod', uuid).item;
  }

  listPods(params: ListParams = {}): ListResult<Pod> {
    return listResources(this.ctx, POD_SPEC, SYSTEM, params);
  }

  /** Every match of `listPods`, chunk by chunk (see pagination.ts). */
  scanPods(params: ListParams, window: ScanWindow = {}): ScanChunk<Pod> {
    return scanResources(this.ctx, POD_SPEC, SYSTEM, params, window);
  }

  createPod(input: CreatePodInput): Pod {
    checkAllocationState(input.allocationstate);
    return this.ctx.tx(() => {
      const zoneId = this.ctx.requireId('zone', input.zoneid, 'zone');
      const uuid = this.ctx.uuid();
      uniquely(`A pod with name ${input.name} already exists in zone ${input.zoneid}`, () =>
        this.ctx.run(`INSERT INTO pod (uuid, zone_id, name, gateway, netmask, start_ip, end_ip, allocation_state,
          created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid, zoneId, input.name, input.gateway ?? null,
        input.netmask ?? null, input.startip ?? null, input.endip ?? null, input.allocationstate ?? 'Enabled',
        this.ctx.now()));
      return this.getPod(uuid);
    });
  }

  updatePod(uuid: string, patch: { name?: string; allocationstate?: AllocationState }): Pod {
    checkAllocationState(patch.allocationstate);
    return this.ctx.tx(() => {
      const cols = updateColumns({ name: patch.name, allocation_state: patch.allocationstate });
      if (cols.sql !== '') this.ctx.run(`UPDATE pod SET ${cols.sql} WHERE uuid = ?`, ...cols.args, uuid);
      return this.getPod(uuid);
    });
  }

  getCluster(uuid: string): Cluster {
    return getGlobal(this.ctx, CLUSTER_SPEC, 'cluster', uuid).item;
  }

  listClusters(params: ListParams = {}): ListResult<Cluster> {
    return listResources(this.ctx, CLUSTER_SPEC, SYSTEM, params);
  }

  /** Every match of `listClusters`, chunk by chunk (see pagination.ts). */
  scanClusters(params: ListParams, window: ScanWindow = {}): ScanChunk<Cluster> {
    return scanResources(this.ctx, CLUSTER_SPEC, SYSTEM, params, window);
  }

  createCluster(input: CreateClusterInput): Cluster {
    checkAllocationState(input.allocationstate);
    return this.ctx.tx(() => {
      const pod = this.ctx.one<{ id: number; zone_id: number }>(
        'SELECT id, zone_id FROM pod WHERE uuid = ? AND removed IS NULL', input.podid);
      const zoneId = this.ctx.requireId('zone', input.zoneid, 'zone');
      if (pod === undefined || pod.zone_id !== zoneId) {
        throw new InvalidParameterError(`Unable to find pod with id ${input.podid} in zone ${input.zoneid}`);
      }
      const uuid = this.ctx.uuid();
      this.ctx.run(`INSERT INTO cluster (uuid, zone_id, pod_id, name, hypervisor, cluster_type, allocation_state,
        created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, uuid, zoneId, pod.id, input.clustername, input.hypervisor,
      input.clustertype ?? 'CloudManaged', input.allocationstate ?? 'Enabled', this.ctx.now());
      return this.getCluster(uuid);
    });
  }

  updateCluster(uuid: string, patch: { name?: string; allocationstate?: AllocationState; managedstate?: string }): Cluster {
    checkAllocationState(patch.allocationstate);
    return this.ctx.tx(() => {
      const cols = updateColumns({ name: patch.name, allocation_state: patch.allocationstate,
        managed_state: patch.managedstate });
      if (cols.sql !== '') this.ctx.run(`UPDATE cluster SET ${cols.sql} WHERE uuid = ?`, ...cols.args, uuid);
      return this.getCluster(uuid);
    });
  }
}
