import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { bool, compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, getOwned, ownerFields, type OwnedRow, type OwnerColumns } from './common.js';
import type { ResourceTag, TagRepository } from './tags.js';

export type VmSnapshotState = 'Allocated' | 'Creating' | 'Ready' | 'Reverting' | 'Expunging' | 'Error';

/** Most VM snapshots one VM may have: CloudStack's `vmsnapshot.max` default. */
export const MAX_VM_SNAPSHOTS = 10;

/** listVMSnapshot's `vmSnapshot` object. */
export interface VmSnapshot {
  id: string;
  name: string;
  displayname: string;
  description?: string;
  state: VmSnapshotState;
  type: 'Disk' | 'DiskAndMemory';
  current: boolean;
  parent?: string;
  parentName?: string;
  virtualmachineid: string;
  virtualmachinename: string;
  zoneid: string;
  hypervisor?: string;
  created: string;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  tags: ResourceTag[];
}

interface Row extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  display_name: string | null;
  description: string | null;
  state: VmSnapshotState;
  type: 'Disk' | 'DiskAndMemory';
  current: number;
  p_uuid: string | null;
  p_name: string | null;
  vm_uuid: string;
  vm_name: string;
  z_uuid: string;
  hypervisor: string | null;
  created: number;
}

/** The VM snapshot state machine (VMSnapshot.State): event → from → to. */
const MOVES: Readonly<Record<string, Readonly<Record<string, VmSnapshotState>>>> = {
  CreateRequested: { Allocated: 'Creating' },
  OperationSucceeded: { Creating: 'Ready', Reverting: 'Ready', Expunging: 'Expunging' },
  OperationFailed: { Creating: 'Error', Reverting: 'Ready', Expunging: 'Ready' },
  RevertRequested: { Ready: 'Reverting' },
  ExpungeRequested: { Ready: 'Expunging', Error: 'Expunging', Allocated: 'Expunging' },
};

export interface CreateVmSnapshotInput {
  virtualmachineid: string;
  name?: string;
  description?: string;
  snapshotmemory?: boolean;
}

/**
 * VM snapshots: records with CloudStack's states (Allocated → Creating → Ready; Ready → Reverting →
 * Ready; → Expunging → removed) forming a tree per VM, the latest taken or reverted to being current.
 */
export class VmSnapshotRepository {
  readonly spec: ListSpec<Row, VmSnapshot>;

  constructor(private readonly ctx: StoreContext, tags: TagRepository) {
    this.spec = {
      table: 'vm_snapshot',
      columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.display_name, t.description, t.state, t.type, t.current, p.uuid AS p_uuid,
        p.name AS p_name, v.uuid AS vm_uuid, v.name AS vm_name, z.uuid AS z_uuid, v.hypervisor, t.created`,
      joins: `${OWNER_JOINS} JOIN vm_instance v ON v.id = t.vm_id JOIN zone z ON z.id = v.zone_id LEFT JOIN vm_snapshot p ON p.id = t.parent_id`,
      scope: 'owned',
      where: 't.removed IS NULL',
      filters: { virtualmachineid: { ref: 'vm_instance', column: 'vm_id' }, vmsnapshotid: { eq: 'uuid', exact: true }, name: { eq: 'name' },
        state: { eq: 'state' } },
      keyword: ['name', 'display_name'],
      map: (r) => compact<VmSnapshot>({ id: r.uuid, name: r.name, displayname: r.display_name ?? r.name, description: r.description,
        state: r.state, type: r.type, current: bool(r.current), parent: r.p_uuid, parentName: r.p_name, virtualmachineid: r.vm_uuid,
        virtualmachinename: r.vm_name, zoneid: r.z_uuid, hypervisor: r.hypervisor, created: formatDate(r.created), ...ownerFields(r), tags: [] }),
      attach: (_c, rows, items) => tags.attach('VMSnapshot', rows.map((r) => r._id), items),
    };
  }

  get(scope: Scope, uuid: string): VmSnapshot {
    return getOwned(this.ctx, this.spec, scope, 'vm snapshot', uuid).item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<VmSnapshot> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<VmSnapshot> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  /** createVMSnapshot's create phase: checks the VM and the limit, records the snapshot Allocated. */
  create(scope: Scope, input: CreateVmSnapshotInput): VmSnapshot {
    return this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; state: string; instance_name: string; name: string }>(
        'SELECT id, account_id, domain_id, state, instance_name, name FROM vm_instance WHERE uuid = ? AND removed IS NULL', input.virtualmachineid);
      assertVisible(this.ctx, scope, 'virtual machine', input.virtualmachineid, vm);
      const memory = input.snapshotmemory === true;
      if (vm!.state !== 'Running' && vm!.state !== 'Stopped') {
        throw new InvalidParameterError(`Creating VM snapshot failed due to VM ${vm!.name} is ${vm!.state}: it must be Running or Stopped`);
      }
      if (memory && vm!.state !== 'Running') throw new InvalidParameterError('Can not snapshot memory when VM is not in Running state');
      const count = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM vm_snapshot WHERE vm_id = ? AND removed IS NULL', vm!.id)!.n;
      if (count >= MAX_VM_SNAPSHOTS) {
        throw new InvalidParameterError(`Creating vm snapshot failed due to a VM can just have : ${MAX_VM_SNAPSHOTS} VM snapshots. Too many snapshots`);
      }
      const busy = this.ctx.one<{ n: number }>(`SELECT count(*) AS n FROM vm_snapshot WHERE vm_id = ? AND removed IS NULL
        AND state IN ('Allocated', 'Creating', 'Reverting', 'Expunging')`, vm!.id)!.n;
      if (busy > 0) throw new InvalidParameterError(`There is other active vm snapshot tasks on the instance ${vm!.name}, please try again later`);
      const stamp = new Date(this.ctx.now()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
      const name = input.name ?? `${vm!.instance_name}_VS_${stamp}`;
      const uuid = this.ctx.uuid();
      if (this.ctx.one('SELECT 1 FROM vm_snapshot WHERE vm_id = ? AND name = ? AND removed IS NULL', vm!.id, name) !== undefined) {
        throw new InvalidParameterError(`Creating VM snapshot failed due to VM ${vm!.name} already has a VM snapshot with name ${name}`);
      }
      this.ctx.run(`INSERT INTO vm_snapshot (uuid, name, display_name, description, vm_id, account_id, domain_id, type, state, created)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Allocated', ?)`, uuid, name, input.name ?? name, input.description ?? null, vm!.id,
      vm!.account_id, vm!.domain_id, memory ? 'DiskAndMemory' : 'Disk', this.ctx.now());
      return this.get(SYSTEM, uuid);
    });
  }

  /** Applies a state event; `Ready` after creating or reverting makes the snapshot the VM's current one. */
  transition(uuid: string, event: string): VmSnapshot {
    return this.ctx.tx(() => {
      const s = this.ctx.one<{ id: number; vm_id: number; state: VmSnapshotState }>('SELECT id, vm_id, state FROM vm_snapshot WHERE uuid = ? AND removed IS NULL', uuid);
      if (s === undefined) throw new InvalidParameterError(`Unable to find vm snapshot with id ${uuid}`);
      const to = MOVES[event]?.[s.state];
      if (to === undefined) throw new InvalidParameterError(`vm snapshot ${uuid} is ${s.state}: cannot ${event}`);
      this.ctx.run('UPDATE vm_snapshot SET state = ? WHERE id = ?', to, s.id);
      if (to === 'Ready' && (s.state === 'Creating' || s.state === 'Reverting')) {
        if (s.state === 'Creating') {
          const current = this.ctx.one<{ id: number }>('SELECT id FROM vm_snapshot WHERE vm_id = ? AND current = 1 AND removed IS NULL', s.vm_id);
          this.ctx.run('UPDATE vm_snapshot SET parent_id = ? WHERE id = ?', current?.id ?? null, s.id);
        }
        this.ctx.run('UPDATE vm_snapshot SET current = CASE WHEN id = ? THEN 1 ELSE 0 END WHERE vm_id = ? AND removed IS NULL', s.id, s.vm_id);
      }
      return this.get(SYSTEM, uuid);
    });
  }

  /** The end of deleteVMSnapshot: its children hang from its parent, the parent becomes current if it was. */
  remove(uuid: string): void {
    this.ctx.tx(() => {
      const s = this.ctx.one<{ id: number; parent_id: number | null; current: number }>(
        'SELECT id, parent_id, current FROM vm_snapshot WHERE uuid = ? AND removed IS NULL', uuid);
      if (s === undefined) return;
      this.ctx.run('UPDATE vm_snapshot SET parent_id = ? WHERE parent_id = ?', s.parent_id, s.id);
      if (s.current === 1 && s.parent_id !== null) this.ctx.run('UPDATE vm_snapshot SET current = 1 WHERE id = ?', s.parent_id);
      this.ctx.run('UPDATE vm_snapshot SET removed = ?, current = 0 WHERE id = ?', this.ctx.now(), s.id);
      this.ctx.run("DELETE FROM resource_tag WHERE resource_type = 'VMSnapshot' AND resource_id = ?", s.id);
    });
  }

  /** The VM is expunged: its snapshots go. @internal store transactions only. */
  purgeVm(vmId: number): void {
    this.ctx.run('UPDATE vm_snapshot SET removed = ?, current = 0 WHERE vm_id = ? AND removed IS NULL', this.ctx.now(), vmId);
  }
}
