import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { SYSTEM, type Scope } from '../scoping.js';
import type { AffinityGroupRepository } from './affinity-groups.js';
import type { InstanceGroupRepository } from './instance-groups.js';
import type { NetworkRuleRepository } from './network-rules.js';
import type { UserDataRepository } from './user-data.js';
import type { VmSnapshotRepository } from './vm-snapshots.js';
import { checkUserData } from './user-data.js';
import type { CreateVmInput } from './vm-create.js';

/**
 * What a VM's creation, update and expunge do to the client resources, in the same transaction:
 * its instance group (created on first use), registered user data and affinity groups; on expunge
 * its port forwarding rules, load balancer memberships, affinity memberships and VM snapshots go.
 */
export class VmLinks {
  constructor(private readonly ctx: StoreContext, private readonly groups: InstanceGroupRepository,
    private readonly userData: UserDataRepository, private readonly affinity: AffinityGroupRepository,
    private readonly rules: NetworkRuleRepository, private readonly vmSnapshots: VmSnapshotRepository) {}

  onCreate(scope: Scope, vmUuid: string, input: CreateVmInput): void {
    const vmId = this.ctx.requireId('vm_instance', vmUuid, 'virtual machine');
    if (input.group !== undefined && input.group !== '') this.groups.assign(vmId, input.group);
    if (input.userdataid !== undefined || input.userdata !== undefined) {
      const ud: { userdata?: string; userdataid?: string } = {};
      if (input.userdataid !== undefined) ud.userdataid = input.userdataid;
      if (input.userdata !== undefined) ud.userdata = checkUserData(input.userdata);
      this.userData.setForVm(scope, vmUuid, ud);
    }
    const groups = this.affinityIds(scope, vmUuid, input);
    if (groups.length > 0) this.affinity.setForVm(scope, vmUuid, groups);
  }

  onGroup(vmId: number, name: string): void {
    this.groups.assign(vmId, name);
  }

  onExpunge(vmId: number): void {
    this.rules.purgeVm(vmId);
    this.ctx.run('DELETE FROM affinity_group_vm WHERE vm_id = ?', vmId);
    this.vmSnapshots.purgeVm(vmId);
  }

  private affinityIds(scope: Scope, vmUuid: string, input: CreateVmInput): string[] {
    if (input.affinitygroupids !== undefined && input.affinitygroupnames !== undefined) {
      throw new InvalidParameterError('affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter');
    }
    if (input.affinitygroupids !== undefined) return [...input.affinitygroupids];
    if (input.affinitygroupnames === undefined) return [];
    const owner = this.ctx.one<{ uuid: string }>('SELECT a.uuid FROM vm_instance v JOIN account a ON a.id = v.account_id WHERE v.uuid = ?', vmUuid)!;
    return input.affinitygroupnames.map((n) => this.affinity.byName(scope === SYSTEM ? SYSTEM : scope, n, owner.uuid).id);
  }
}
