import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import type { Scope } from '../scoping.js';
import type { NetworkRepository } from './networks.js';

/** The zone of a deploy, as far as choosing its default network is concerned. */
export interface DeployZone {
  id: number;
  uuid: string;
  networkType: 'Basic' | 'Advanced';
  securityGroups: boolean;
}

export interface DeployOwner {
  accountId: number;
  domainId: number;
}

/**
 * The network a VM deployed without `networkids` goes on, as CloudStack chooses it
 * (VmCreationNetworkSelectionServiceImpl: getDefaultNetwork, selectBasicSecurityGroupNetworks,
 * selectAdvancedSecurityGroupNetworks). Runs inside the VM's create transaction, so a network created
 * here exists only if the VM does, and two concurrent first deploys of one account never create two.
 * Errors are CloudStack's InvalidParameterValueException texts (431), with public ids in place of its
 * internal ones.
 */
export function defaultNetworkId(ctx: StoreContext, scope: Scope, networks: NetworkRepository, owner: DeployOwner,
  zone: DeployZone): number {
  if (zone.networkType === 'Basic') return basicZoneNetwork(ctx, zone);
  if (zone.securityGroups) return securityGroupNetwork(ctx, zone);
  return advancedZoneNetwork(ctx, scope, networks, owner, zone);
}

/**
 * Advanced zone: the one offering with availability Required must exist and be Enabled (checked first,
 * as CloudStack does, even when the owner already has a network); then the owner's one isolated
 * network in the zone, or a new `<account>-network` from that offering when it has none. The new
 * network starts Allocated and is implemented by the VM's start, like any other.
 */
function advancedZoneNetwork(ctx: StoreContext, scope: Scope, networks: NetworkRepository, owner: DeployOwner,
  zone: DeployZone): number {
  const required = ctx.one<{ uuid: string; state: string }>(
    "SELECT uuid, state FROM network_offering WHERE availability = 'Required' AND removed IS NULL ORDER BY id LIMIT 1");
  if (required === undefined) {
    throw new InvalidParameterError('Unable to find network offering with availability=Required to automatically create the ' +
      'network as a part of vm creation');
  }
  if (required.state !== 'Enabled') throw new InvalidParameterError(`Required network offering id=${required.uuid} is not in Enabled`);
  const isolated = ctx.all<{ id: number }>(`SELECT id FROM network WHERE account_id = ? AND zone_id = ? AND guest_type = 'Isolated'
    AND is_system = 0 AND removed IS NULL ORDER BY id LIMIT 2`, owner.accountId, zone.id);
  if (isolated.length === 1) return isolated[0]!.id;
  const account = ctx.one<{ uuid: string; name: string }>('SELECT uuid, name FROM account WHERE id = ?', owner.accountId)!;
  if (isolated.length > 1) {
    throw new InvalidParameterError(`More than 1 default Isolated networks are found for Account ${accountText(account)}; ` +
      'please specify networkIds');
  }
  const name = `${account.name}-network`;
  const created = networks.create(scope, { name, displaytext: name, zoneid: zone.uuid, networkofferingid: required.uuid,
    accountid: account.uuid, acltype: 'Account' });
  return ctx.requireId('network', created.id, 'network');
}

/** Basic zone: the zone's one shared guest network (NetworkModelImpl.getExclusiveGuestNetwork). */
function basicZoneNetwork(ctx: StoreContext, zone: DeployZone): number {
  const shared = ctx.all<{ id: number }>(`SELECT id FROM network WHERE zone_id = ? AND guest_type = 'Shared' AND traffic_type = 'Guest'
    AND removed IS NULL ORDER BY id LIMIT 2`, zone.id);
  if (shared.length === 0) {
    throw new InvalidParameterError(`Unable to find network with trafficType Guest and guestType Shared in zone ${zone.uuid}`);
  }
  if (shared.length > 1) {
    throw new InvalidParameterError(`Found more than 1 network with trafficType Guest and guestType Shared in zone ${zone.uuid}`);
  }
  return shared[0]!.id;
}

/**
 * Advanced zone with security groups: a shared network whose offering provides the SecurityGroup
 * service. (CloudStack also skips networks without a free address; here a full network fails at start
 * with InsufficientCapacityError instead.)
 */
function securityGroupNetwork(ctx: StoreContext, zone: DeployZone): number {
  const found = ctx.one<{ id: number }>(`SELECT n.id FROM network n JOIN network_offering o ON o.id = n.network_offering_id
    WHERE n.zone_id = ? AND n.guest_type = 'Shared' AND n.removed IS NULL
    AND EXISTS (${offersSecurityGroup(ctx)}) ORDER BY n.id LIMIT 1`, zone.id);
  if (found === undefined) throw new InvalidParameterError(`No network with security enabled is found in zone id=${zone.uuid}`);
  return found.id;
}

/** Whether offering `o`'s services (a JSON array of {name, ...}) include SecurityGroup, in each dialect. */
function offersSecurityGroup(ctx: StoreContext): string {
  return ctx.dialect === 'sqlite'
    ? "SELECT 1 FROM json_each(o.services) s WHERE json_extract(s.value, '$.name') = 'SecurityGroup'"
    : "SELECT 1 FROM json_array_elements(o.services::json) s WHERE s->>'name' = 'SecurityGroup'";
}

/** How CloudStack prints an account in these messages (AccountVO.toString), without the internal id. */
function accountText(a: { uuid: string; name: string }): string {
  return `Account [${JSON.stringify({ accountName: a.name, uuid: a.uuid })}]`;
}
