import type { StoreContext } from '../context.js';
import { bool, compact, formatDate, parseJson } from '../format.js';
import { idList, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import type { Scope } from '../scoping.js';
import type { VmState } from '../state-machines.js';
import { OWNER_COLUMNS, OWNER_JOINS, getOwned, ownerFields, type OwnedRow, type OwnerColumns } from './common.js';
import type { Nic, NicRepository } from './nics.js';
import type { ResourceTag, TagRepository } from './tags.js';
import type { AffinityGroupRepository } from './affinity-groups.js';
import { attachClientFields } from './vm-client-fields.js';

/** listVirtualMachines' `virtualmachine` object (memory MiB, cpuspeed MHz). */
export interface VirtualMachine {
  id: string;
  name: string;
  displayname: string;
  account: string;
  userid?: string;
  username?: string;
  domainid: string;
  domain: string;
  domainpath: string;
  created: string;
  state: VmState;
  haenable: boolean;
  group?: string;
  zoneid: string;
  zonename: string;
  podid?: string;
  hostid?: string;
  hostname?: string;
  lasthostid?: string;
  templateid?: string;
  templatename?: string;
  templatedisplaytext?: string;
  passwordenabled: boolean;
  isoid?: string;
  isoname?: string;
  serviceofferingid: string;
  serviceofferingname: string;
  diskofferingid?: string;
  diskofferingname?: string;
  cpunumber: number;
  cpuspeed: number;
  memory: number;
  guestosid?: string;
  ostypeid?: string;
  rootdeviceid: number;
  rootdevicetype: string;
  hypervisor?: string;
  instancename: string;
  keypair?: string;
  isdynamicallyscalable: boolean;
  publicip?: string;
  publicipid?: string;
  details?: Record<string, string>;
  securitygroup: never[];
  affinitygroup: unknown[];
  groupid?: string;
  userdataid?: string;
  userdataname?: string;
  nic: Nic[];
  tags: ResourceTag[];
}

export interface VmRow extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  display_name: string | null;
  instance_name: string;
  state: VmState;
  ha_enabled: number;
  group_name: string | null;
  hypervisor: string | null;
  cpu_number: number;
  cpu_speed: number;
  memory: number;
  keypair: string | null;
  details: string | null;
  is_dynamically_scalable: number;
  created: number;
  user_data_id: number | null;
  u_uuid: string | null;
  u_name: string | null;
  z_uuid: string;
  z_name: string;
  p_uuid: string | null;
  h_uuid: string | null;
  h_name: string | null;
  lh_uuid: string | null;
  tp_uuid: string | null;
  tp_name: string | null;
  tp_display: string | null;
  tp_password: number | null;
  iso_uuid: string | null;
  iso_name: string | null;
  so_uuid: string;
  so_name: string;
  do_uuid: string | null;
  do_name: string | null;
  os_uuid: string | null;
}

export const VM_SPEC_BASE = {
  table: 'vm_instance',
  columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.display_name, t.instance_name, t.state, t.ha_enabled, t.group_name,
    t.hypervisor, t.cpu_number, t.cpu_speed, t.memory, t.keypair, t.details, t.is_dynamically_scalable, t.created, t.user_data_id,
    u.uuid AS u_uuid, u.username AS u_name, z.uuid AS z_uuid, z.name AS z_name, p.uuid AS p_uuid, h.uuid AS h_uuid,
    h.name AS h_name, lh.uuid AS lh_uuid, tp.uuid AS tp_uuid, tp.name AS tp_name, tp.display_text AS tp_display,
    tp.password_enabled AS tp_password, iso.uuid AS iso_uuid, iso.name AS iso_name, so.uuid AS so_uuid,
    so.name AS so_name, dof.uuid AS do_uuid, dof.name AS do_name, os.uuid AS os_uuid`,
  joins: `${OWNER_JOINS} LEFT JOIN app_user u ON u.id = t.user_id JOIN zone z ON z.id = t.zone_id
    LEFT JOIN pod p ON p.id = t.pod_id LEFT JOIN host h ON h.id = t.host_id LEFT JOIN host lh ON lh.id = t.last_host_id
    LEFT JOIN template tp ON tp.id = t.template_id LEFT JOIN template iso ON iso.id = t.iso_id
    JOIN service_offering so ON so.id = t.service_offering_id LEFT JOIN disk_offering dof ON dof.id = t.disk_offering_id
    LEFT JOIN os_type os ON os.id = t.os_type_id`,
} as const;

export function mapVm(r: VmRow): VirtualMachine {
  return compact<VirtualMachine>({
    id: r.uuid, name: r.name, displayname: r.display_name ?? r.name, ...ownerFields(r), userid: r.u_uuid,
    username: r.u_name, created: formatDate(r.created), state: r.state, haenable: bool(r.ha_enabled),
    group: r.group_name, zoneid: r.z_uuid, zonename: r.z_name, podid: r.p_uuid, hostid: r.h_uuid, hostname: r.h_name,
    lasthostid: r.lh_uuid, templateid: r.tp_uuid, templatename: r.tp_name, templatedisplaytext: r.tp_display,
    passwordenabled: bool(r.tp_password), isoid: r.iso_uuid, isoname: r.iso_name, serviceofferingid: r.so_uuid,
    serviceofferingname: r.so_name, diskofferingid: r.do_uuid, diskofferingname: r.do_name, cpunumber: r.cpu_number,
    cpuspeed: r.cpu_speed, memory: r.memory, guestosid: r.os_uuid, ostypeid: r.os_uuid, rootdeviceid: 0,
    rootdevicetype: 'ROOT', hypervisor: r.hypervisor, instancename: r.instance_name, keypair: r.keypair,
    isdynamicallyscalable: bool(r.is_dynamically_scalable),
    details: parseJson<Record<string, string>>(r.details), securitygroup: [], affinitygroup: [], nic: [], tags: [],
  });
}

const ref = (table: 'zone' | 'pod' | 'cluster' | 'host' | 'template' | 'service_offering' | 'app_user', column: string) =>
  ({ ref: table, column }) as const;

/** Static NAT addresses of a page of VMs (one query; most VMs have none). */
function attachPublicIps(ctx: StoreContext, ids: readonly number[], items: VirtualMachine[]): void {
  // Bounded by the page or scan chunk (ids): one static NAT address per VM at most.
  const rows = ctx.all<{ vm_id: number; address: string; uuid: string }>(`SELECT vm_id, address, uuid FROM ip_address
    WHERE vm_id IN (SELECT value FROM json_each(?)) AND static_nat = 1 ORDER BY id`, idList(ids));
  if (rows.length === 0) return;
  const index = new Map(ids.map((id, i) => [id, i]));
  for (const r of rows) {
    const item = items[index.get(r.vm_id) ?? -1];
    if (item !== undefined && item.publicip === undefined) {
      item.publicip = r.address;
      item.publicipid = r.uuid;
    }
  }
}

/** The read side of virtual machines: get and list with NICs and tags attached in batch. */
export class VmRepository {
  readonly spec: ListSpec<VmRow, VirtualMachine>;

  constructor(private readonly ctx: StoreContext, nics: NicRepository, tags: TagRepository, affinity?: AffinityGroupRepository) {
    this.spec = {
      ...VM_SPEC_BASE,
      scope: 'owned',
      where: 't.removed IS NULL',
      filters: {
        zoneid: ref('zone', 'zone_id'), podid: ref('pod', 'pod_id'), clusterid: ref('cluster', 'cluster_id'),
        hostid: ref('host', 'host_id'), templateid: ref('template', 'template_id'), isoid: ref('template', 'iso_id'),
        serviceofferingid: ref('service_offering', 'service_offering_id'), userid: ref('app_user', 'user_id'),
        name: { eq: 'name' }, displayname: { eq: 'display_name' }, state: { eq: 'state' },
        haenable: { bool: 'ha_enabled' }, keypair: { eq: 'keypair' }, groupname: { eq: 'group_name' },
        hypervisor: { eq: 'hypervisor' },
        networkid: { custom: (v, c) => {
          const id = c.idOf('network', String(v));
          return id === undefined ? null
            : { sql: 't.id IN (SELECT vm_id FROM nic WHERE network_id = ? AND removed IS NULL)', args: [id] };
        } },
      },
      keyword: ['name', 'display_name'],
      search: 'vm_search',
      map: mapVm,
      attach: (_ctx, rows, items) => {
        const ids = rows.map((r) => r._id);
        const byVm = nics.byVms(new Map(rows.map((r) => [r._id, r.uuid])));
        rows.forEach((r, i) => { items[i]!.nic = byVm.get(r._id) ?? []; });
        tags.attach('UserVm', ids, items);
        attachPublicIps(this.ctx, ids, items);
        if (affinity !== undefined) {
          const linked = rows.filter((r) => r.group_name !== null || r.user_data_id !== null).map((r) => r._id);
          attachClientFields(this.ctx, affinity, ids, items, linked);
        }
      },
    };
  }

  get(scope: Scope, uuid: string): VirtualMachine {
    return getOwned(this.ctx, this.spec, scope, 'virtual machine', uuid).item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<VirtualMachine> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<VirtualMachine> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }
}
