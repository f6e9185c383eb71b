import { InvalidParameterError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, getOwned, ownerFields, ownerFor, type OwnedRow, type OwnerColumns } from './common.js';

/** listInstanceGroups' `instancegroup` object. */
export interface InstanceGroup {
  id: string;
  name: string;
  created: string;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
}

interface Row extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  created: number;
}

const SPEC: ListSpec<Row, InstanceGroup> = {
  table: 'instance_group',
  columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.created`,
  joins: OWNER_JOINS,
  scope: 'owned',
  filters: { name: { eq: 'name' } },
  keyword: ['name'],
  map: (r) => compact<InstanceGroup>({ id: r.uuid, name: r.name, created: formatDate(r.created), ...ownerFields(r) }),
};

/**
 * Instance groups: a name per account that VMs carry (vm_instance.group_name, CloudStack's `group` on
 * deploy and updateVirtualMachine). Naming a group that does not exist creates it, as CloudStack's
 * addInstanceToGroup does.
 */
export class InstanceGroupRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(scope: Scope, uuid: string): InstanceGroup {
    return getOwned(this.ctx, SPEC, scope, 'instance group', uuid, '1').item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<InstanceGroup> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<InstanceGroup> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  create(scope: Scope, name: string, accountid?: string): InstanceGroup {
    checkName(name);
    return this.ctx.tx(() => {
      const owner = ownerFor(this.ctx, scope, accountid, 'instance group');
      const uuid = this.ctx.uuid();
      uniquely(`Unable to create vm group, a group with name ${name} already exists for account`, () => this.ctx.run(
        'INSERT INTO instance_group (uuid, name, account_id, domain_id, created) VALUES (?, ?, ?, ?, ?)',
        uuid, name, owner.accountId, owner.domainId, this.ctx.now()));
      return this.get(SYSTEM, uuid);
    });
  }

  /** updateInstanceGroup: renames the group and the VMs' membership with it. */
  rename(scope: Scope, uuid: string, name: string): InstanceGroup {
    checkName(name);
    return this.ctx.tx(() => {
      const g = getOwned(this.ctx, SPEC, scope, 'instance group', uuid, '1');
      uniquely(`Unable to update vm group, a group with name ${name} already exists for account`, () => this.ctx.run(
        'UPDATE instance_group SET name = ? WHERE id = ?', name, g.row._id));
      this.ctx.run('UPDATE vm_instance SET group_name = ? WHERE account_id = ? AND group_name = ? AND removed IS NULL',
        name, g.row._aid, g.item.name);
      return this.get(SYSTEM, uuid);
    });
  }

  /** deleteInstanceGroup: the VMs leave the group; they are not touched otherwise. */
  delete(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const g = getOwned(this.ctx, SPEC, scope, 'instance group', uuid, '1');
      this.ctx.run('UPDATE vm_instance SET group_name = NULL WHERE account_id = ? AND group_name = ?', g.row._aid, g.item.name);
      this.ctx.run('DELETE FROM instance_group WHERE id = ?', g.row._id);
    });
  }

  /**
   * Puts a VM in the named group of its account (creating the group when needed), or out of any
   * group with ''. Runs in the caller's transaction.
   * @internal For the store's own transactions (deploy, updateVirtualMachine).
   */
  assign(vmId: number, name: string): void {
    const vm = this.ctx.one<{ account_id: number; domain_id: number }>('SELECT account_id, domain_id FROM vm_instance WHERE id = ?', vmId);
    if (vm === undefined) return;
    if (name === '') {
      this.ctx.run('UPDATE vm_instance SET group_name = NULL WHERE id = ?', vmId);
      return;
    }
    checkName(name);
    this.ctx.run(`INSERT INTO instance_group (uuid, name, account_id, domain_id, created) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (account_id, name) DO NOTHING`, this.ctx.uuid(), name, vm.account_id, vm.domain_id, this.ctx.now());
    this.ctx.run('UPDATE vm_instance SET group_name = ? WHERE id = ?', name, vmId);
  }
}

function checkName(name: string): void {
  if (name.trim() === '') throw new InvalidParameterError('an instance group name cannot be empty');
}
