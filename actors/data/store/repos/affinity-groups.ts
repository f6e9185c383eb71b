import { InvalidParameterError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact } from '../format.js';
import { groupBy, idList, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, getOwned, ownerFields, ownerFor, type OwnedRow, type OwnerColumns } from './common.js';

/** The affinity group types the host planner honours (listAffinityGroupTypes). */
export const AFFINITY_TYPES = ['host anti-affinity', 'host affinity'] as const;
export type AffinityType = (typeof AFFINITY_TYPES)[number];

/** listAffinityGroups' `affinitygroup` object (also a VM's `affinitygroup[]` entry). */
export interface AffinityGroup {
  id: string;
  name: string;
  description?: string;
  type: AffinityType;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  virtualmachineIds: string[];
}

/** What the planner must respect for one VM. */
export interface AffinityConstraints {
  /** Hosts running a VM that shares a host anti-affinity group with this one. */
  avoidHosts: string[];
  /** The host every other VM of a host affinity group runs on, if any runs. */
  requiredHost?: string;
  /** Two members of host affinity groups run on different hosts: nowhere satisfies both. */
  conflict?: string;
}

interface Row extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  description: string | null;
  type: AffinityType;
}

const VM_STATES_ON_HOST = "('Starting', 'Running', 'Migrating', 'Stopping')";

function attachMembers(ctx: StoreContext, rows: readonly Row[], items: AffinityGroup[]): void {
  const ids = rows.map((r) => r._id);
  const members = ctx.all<{ group_id: number; uuid: string }>(`SELECT m.group_id, v.uuid FROM affinity_group_vm m
    JOIN vm_instance v ON v.id = m.vm_id WHERE v.removed IS NULL AND m.group_id IN (SELECT value FROM json_each(?)) ORDER BY v.id`,
  idList(ids));
  const byGroup = groupBy(members, (m) => m.group_id);
  rows.forEach((r, i) => { items[i]!.virtualmachineIds = (byGroup.get(r._id) ?? []).map((m) => m.uuid); });
}

const SPEC: ListSpec<Row, AffinityGroup> = {
  table: 'affinity_group',
  columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.description, t.type`,
  joins: OWNER_JOINS,
  scope: 'owned',
  filters: {
    name: { eq: 'name' }, type: { eq: 'type' },
    virtualmachineid: { custom: (v, ctx) => {
      const id = ctx.idOf('vm_instance', String(v));
      return id === undefined ? null : { sql: 't.id IN (SELECT group_id FROM affinity_group_vm WHERE vm_id = ?)', args: [id] };
    } },
  },
  keyword: ['name'],
  map: (r) => compact<AffinityGroup>({ id: r.uuid, name: r.name, description: r.description, type: r.type, ...ownerFields(r),
    virtualmachineIds: [] }),
  attach: attachMembers,
};

export interface CreateAffinityGroupInput {
  name: string;
  type: string;
  description?: string;
  accountid?: string;
}

/**
 * Affinity groups (host affinity and host anti-affinity) and their VMs. The planner asks
 * `constraints(vm)` before each placement: anti-affinity avoids the hosts of the group's other running
 * VMs; affinity pins the VM to the host they run on.
 */
export class AffinityGroupRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(scope: Scope, uuid: string): AffinityGroup {
    return getOwned(this.ctx, SPEC, scope, 'affinity group', uuid, '1').item;
  }

  /** A group by name in the caller's account (or `accountid`'s). */
  byName(scope: Scope, name: string, accountid?: string): AffinityGroup {
    const owner = ownerFor(this.ctx, scope, accountid, 'affinity group');
    const row = this.ctx.one<{ uuid: string }>('SELECT uuid FROM affinity_group WHERE account_id = ? AND name = ?', owner.accountId, name);
    if (row === undefined) throw new InvalidParameterError(`Unable to find affinity group by name ${name}`);
    return this.get(scope, row.uuid);
  }

  list(scope: Scope, params: ListParams = {}): ListResult<AffinityGroup> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<AffinityGroup> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  create(scope: Scope, input: CreateAffinityGroupInput): AffinityGroup {
    if (!(AFFINITY_TYPES as readonly string[]).includes(input.type)) {
      throw new InvalidParameterError(`Unable to create affinity group, invalid affinity group type ${input.type}; use one of ` +
        AFFINITY_TYPES.join(', '));
    }
    if (input.name.trim() === '') throw new InvalidParameterError('an affinity group name cannot be empty');
    return this.ctx.tx(() => {
      const owner = ownerFor(this.ctx, scope, input.accountid, 'affinity group');
      const uuid = this.ctx.uuid();
      uniquely(`Unable to create affinity group, a group with name ${input.name} already exists.`, () => this.ctx.run(
        `INSERT INTO affinity_group (uuid, name, description, type, account_id, domain_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        uuid, input.name, input.description ?? null, input.type, owner.accountId, owner.domainId, this.ctx.now()));
      return this.get(SYSTEM, uuid);
    });
  }

  /** deleteAffinityGroup: its VMs leave it. */
  delete(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const g = getOwned(this.ctx, SPEC, scope, 'affinity group', uuid, '1');
      this.ctx.run('DELETE FROM affinity_group_vm WHERE group_id = ?', g.row._id);
      this.ctx.run('DELETE FROM affinity_group WHERE id = ?', g.row._id);
    });
  }

  /**
   * Replaces a VM's groups (deploy, updateVMAffinityGroup). The groups must belong to the VM's
   * account. Runs in the caller's transaction when there is one.
   */
  setForVm(scope: Scope, vmUuid: string, groupUuids: readonly string[]): void {
    this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number }>(
        'SELECT id, account_id, domain_id FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
      const ids: number[] = [];
      for (const uuid of new Set(groupUuids)) {
        const g = getOwned(this.ctx, SPEC, scope, 'affinity group', uuid, '1');
        if (g.row._aid !== vm!.account_id) {
          throw new InvalidParameterError(`affinity group ${g.item.name} belongs to another account than the instance`);
        }
        ids.push(g.row._id);
      }
      this.ctx.run('DELETE FROM affinity_group_vm WHERE vm_id = ?', vm!.id);
      for (const id of ids) this.ctx.run('INSERT INTO affinity_group_vm (group_id, vm_id) VALUES (?, ?)', id, vm!.id);
    });
  }

  /** What the planner must respect when placing `vmUuid`. */
  constraints(vmUuid: string): AffinityConstraints {
    const vm = this.ctx.one<{ id: number }>('SELECT id FROM vm_instance WHERE uuid = ?', vmUuid);
    if (vm === undefined) return { avoidHosts: [] };
    const peers = this.ctx.all<{ type: AffinityType; host: string; gname: string }>(`SELECT g.type, h.uuid AS host, g.name AS gname
      FROM affinity_group_vm mine JOIN affinity_group g ON g.id = mine.group_id
      JOIN affinity_group_vm other ON other.group_id = g.id AND other.vm_id <> mine.vm_id
      JOIN vm_instance v ON v.id = other.vm_id AND v.removed IS NULL
      JOIN host h ON (h.id = v.host_id AND v.state IN ${VM_STATES_ON_HOST})
        OR h.id IN (SELECT host_id FROM capacity_reservation cr WHERE cr.vm_id = v.id)
      WHERE mine.vm_id = ?`, vm.id);
    // A peer counts on the host it runs on and on any host it holds capacity on (a start in progress).
    const out: AffinityConstraints = { avoidHosts: [] };
    for (const p of peers) {
      if (p.type === 'host anti-affinity') {
        if (!out.avoidHosts.includes(p.host)) out.avoidHosts.push(p.host);
      } else if (out.requiredHost === undefined) {
        out.requiredHost = p.host;
      } else if (out.requiredHost !== p.host) {
        out.conflict = `members of host affinity group ${p.gname} already run on different hosts`;
      }
    }
    return out;
  }

  /** A page of VMs' groups, for their `affinitygroup[]`. @internal store-only (internal keys). */
  forVms(vmIds: readonly number[]): Map<number, AffinityGroup[]> {
    const rows = this.ctx.rows<Row & { vm_id: number }>(`SELECT m.vm_id, ${SPEC.columns} FROM affinity_group_vm m
      JOIN affinity_group t ON t.id = m.group_id ${OWNER_JOINS} WHERE m.vm_id IN (SELECT value FROM json_each(?)) ORDER BY t.id`,
    idList(vmIds));
    const out = new Map<number, AffinityGroup[]>();
    for (const r of rows) {
      const { virtualmachineIds: _ids, ...g } = SPEC.map(r);
      const list = out.get(r.vm_id) ?? [];
      list.push(g as AffinityGroup);
      out.set(r.vm_id, list);
    }
    return out;
  }
}
