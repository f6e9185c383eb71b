import { InvalidParameterError, ResourceInUseError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { bool, compact, formatDate, parseJson } from '../format.js';
import { cidrOf, numToIp, parseCidr } from '../ipv4.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, resolveCaller, type Scope } from '../scoping.js';
import { NETWORK_MACHINE, applyTransition, type NetworkState } from '../state-machines.js';
import { OWNER_COLUMNS, OWNER_JOINS, actingUser, getOwned, ownerFor, ownerFields, updateColumns, type OwnedRow, type OwnerColumns } from './common.js';
import type { EventRepository } from './events.js';
import type { NetworkService } from './offerings.js';
import type { ResourceTag, TagRepository } from './tags.js';

export type GuestType = 'Isolated' | 'Shared' | 'L2';

/** listNetworks' `network` object. */
export interface Network {
  id: string;
  name: string;
  displaytext?: string;
  broadcastdomaintype: string;
  traffictype: string;
  gateway?: string;
  netmask?: string;
  cidr?: string;
  zoneid: string;
  zonename: string;
  networkofferingid: string;
  networkofferingname: string;
  networkofferingdisplaytext?: string;
  networkofferingavailability: string;
  issystem: boolean;
  state: NetworkState;
  related: string;
  broadcasturi?: string;
  dns1?: string;
  dns2?: string;
  type: GuestType;
  vlan?: string;
  acltype: 'Account' | 'Domain';
  subdomainaccess?: boolean;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  service: NetworkService[];
  networkdomain?: string;
  restartrequired: boolean;
  specifyipranges: boolean;
  canusefordeploy: boolean;
  ispersistent: boolean;
  created: string;
  tags: ResourceTag[];
}

export interface CreateNetworkInput {
  name: string;
  displaytext?: string;
  zoneid: string;
  networkofferingid: string;
  /** Owner; default the caller's account (SYSTEM must name one). */
  accountid?: string;
  gateway?: string;
  netmask?: string;
  /** Guest range of a shared network. */
  startip?: string;
  endip?: string;
  /** Explicit VLAN/VNI (offerings with specifyvlan); recorded, not taken from the zone pool. */
  vlan?: string;
  acltype?: 'Account' | 'Domain';
  networkdomain?: string;
  dns1?: string;
  dns2?: string;
  issystem?: boolean;
}

export interface UpdateNetworkInput {
  name?: string;
  displaytext?: string;
  networkdomain?: string;
  restartrequired?: boolean;
  dns1?: string;
  dns2?: string;
}

interface NetworkRow extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  display_text: string | null;
  broadcast_domain_type: string;
  traffic_type: string;
  gateway: string | null;
  netmask: string | null;
  cidr: string | null;
  state: NetworkState;
  broadcast_uri: string | null;
  dns1: string | null;
  dns2: string | null;
  guest_type: GuestType;
  vlan: string | null;
  acl_type: 'Account' | 'Domain';
  subdomain_access: number | null;
  network_domain: string | null;
  is_system: number;
  restart_required: number;
  specify_ip_ranges: number;
  is_persistent: number;
  created: number;
  z_uuid: string;
  z_name: string;
  no_uuid: string;
  no_name: string;
  no_display: string | null;
  no_availability: string;
  no_services: string;
}

/** Default guest CIDR of an isolated network when the zone has none. */
export const DEFAULT_GUEST_CIDR = '10.1.1.0/24';

export class NetworkRepository {
  private readonly spec: ListSpec<NetworkRow, Network>;

  constructor(private readonly ctx: StoreContext, private readonly events: EventRepository, tags: TagRepository) {
    this.spec = {
      table: 'network',
      columns: `${OWNER_COLUMNS}, t.*, z.uuid AS z_uuid, z.name AS z_name, no.uuid AS no_uuid, no.name AS no_name,
        no.display_text AS no_display, no.availability AS no_availability, no.services AS no_services`,
      joins: `${OWNER_JOINS} JOIN zone z ON z.id = t.zone_id JOIN network_offering no ON no.id = t.network_offering_id`,
      scope: 'owned',
      where: 't.removed IS NULL',
      filters: {
        zoneid: { ref: 'zone', column: 'zone_id' }, networkofferingid: { ref: 'network_offering', column: 'network_offering_id' },
        name: { eq: 'name' }, state: { eq: 'state' }, type: { eq: 'guest_type' }, traffictype: { eq: 'traffic_type' },
        acltype: { eq: 'acl_type' }, issystem: { bool: 'is_system' }, vlan: { eq: 'vlan' },
      },
      keyword: ['name', 'display_text'],
      map: (r) => compact<Network>({
        id: r.uuid, name: r.name, displaytext: r.display_text, broadcastdomaintype: r.broadcast_domain_type,
        traffictype: r.traffic_type, gateway: r.gateway, netmask: r.netmask, cidr: r.cidr, zoneid: r.z_uuid,
        zonename: r.z_name, networkofferingid: r.no_uuid, networkofferingname: r.no_name,
        networkofferingdisplaytext: r.no_display, networkofferingavailability: r.no_availability,
        issystem: bool(r.is_system), state: r.state, related: r.uuid, broadcasturi: r.broadcast_uri, dns1: r.dns1,
        dns2: r.dns2, type: r.guest_type, vlan: r.vlan, acltype: r.acl_type,
        subdomainaccess: r.subdomain_access === null ? undefined : bool(r.subdomain_access), ...ownerFields(r),
        service: parseJson<NetworkService[]>(r.no_services) ?? [], networkdomain: r.network_domain,
        restartrequired: bool(r.restart_required), specifyipranges: bool(r.specify_ip_ranges),
        canusefordeploy: r.state !== 'Destroy' && r.state !== 'Shutdown', ispersistent: bool(r.is_persistent),
        created: formatDate(r.created), tags: [],
      }),
      attach: (_ctx, rows, items) => tags.attach('Network', rows.map((r) => r._id), items),
    };
  }

  get(scope: Scope, uuid: string): Network {
    return getOwned(this.ctx, this.spec, scope, 'network', uuid).item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Network> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Network> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  /** createNetwork: Isolated and L2 networks start Allocated, Shared ones Setup (with their guest range). */
  create(scope: Scope, input: CreateNetworkInput): Network {
    return this.ctx.tx(() => {
      const owner = ownerFor(this.ctx, scope, input.accountid, 'network');
      const zone = this.ctx.one<{ id: number; guest_cidr: string | null; dns1: string | null; dns2: string | null }>(
        'SELECT id, guest_cidr, dns1, dns2 FROM zone WHERE uuid = ? AND removed IS NULL', input.zoneid);
      if (zone === undefined) throw new InvalidParameterError(`Unable to find zone with id ${input.zoneid}`);
      const off = this.ctx.one<{ id: number; guest_ip_type: GuestType; state: string; specify_ip_ranges: number;
        is_persistent: number; traffic_type: string }>(`SELECT id, guest_ip_type, state, specify_ip_ranges, is_persistent,
        traffic_type FROM network_offering WHERE uuid = ? AND removed IS NULL`, input.networkofferingid);
      if (off === undefined) throw new InvalidParameterError(`Unable to find network offering with id ${input.networkofferingid}`);
      if (off.state !== 'Enabled') throw new InvalidParameterError(`network offering ${input.networkofferingid} is disabled`);
      const addr = this.addressing(input, off.guest_ip_type, zone.guest_cidr);
      const uuid = this.ctx.uuid();
      const res = this.ctx.run(`INSERT INTO network (uuid, name, display_text, zone_id, network_offering_id, account_id,
        domain_id, acl_type, traffic_type, guest_type, broadcast_domain_type, broadcast_uri, vlan, gateway, cidr, netmask,
        dns1, dns2, network_domain, state, is_system, specify_ip_ranges, is_persistent, created)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.displaytext ?? input.name, zone.id, off.id, owner.accountId, owner.domainId,
      input.acltype ?? (off.guest_ip_type === 'Shared' ? 'Domain' : 'Account'), off.traffic_type, off.guest_ip_type,
      off.guest_ip_type === 'L2' && input.vlan === undefined ? 'Native' : 'Vlan',
      input.vlan === undefined ? null : `vlan://${input.vlan}`, input.vlan ?? null, addr.gateway, addr.cidr, addr.netmask,
      input.dns1 ?? zone.dns1, input.dns2 ?? zone.dns2, input.networkdomain ?? null,
      off.guest_ip_type === 'Shared' ? 'Setup' : 'Allocated', input.issystem === true ? 1 : 0, off.specify_ip_ranges,
      off.is_persistent, this.ctx.now());
      if (off.guest_ip_type === 'Shared' && input.startip !== undefined) {
        this.ctx.run(`INSERT INTO ip_range (uuid, zone_id, network_id, vlan, gateway, netmask, start_ip, end_ip,
          for_virtual_network, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`, this.ctx.uuid(), zone.id,
        Number(res.lastInsertRowid), input.vlan ?? 'untagged', addr.gateway, addr.netmask, input.startip,
        input.endip ?? input.startip, this.ctx.now());
      }
      this.events.record({ type: 'NETWORK.CREATE', description: `created network ${input.name}`, ...owner,
        userId: actingUser(this.ctx, scope), resourceType: 'Network', resourceUuid: uuid });
      return this.get(SYSTEM, uuid);
    });
  }

  update(scope: Scope, uuid: string, patch: UpdateNetworkInput): Network {
    return this.ctx.tx(() => {
      this.get(scope, uuid);
      const cols = updateColumns({ name: patch.name, display_text: patch.displaytext, network_domain: patch.networkdomain,
        restart_required: patch.restartrequired === undefined ? undefined : patch.restartrequired ? 1 : 0,
        dns1: patch.dns1, dns2: patch.dns2 });
      if (cols.sql !== '') this.ctx.run(`UPDATE network SET ${cols.sql} WHERE uuid = ?`, ...cols.args, uuid);
      return this.get(SYSTEM, uuid);
    });
  }

  /**
   * Applies a Network.State event (ImplementNetwork, OperationSucceeded, OperationFailed, DestroyNetwork).
   * Reaching Destroy requires that no NIC is left on the network; it returns the VLAN/VNI and any public
   * addresses still associated, and removes the network, all in the same transaction.
   */
  transition(scope: Scope, uuid: string, event: string, options: { expect?: NetworkState } = {}): Network {
    return this.ctx.tx(() => {
      const net = this.ctx.one<{ id: number; account_id: number; domain_id: number; name: string }>(
        'SELECT id, account_id, domain_id, name FROM network WHERE uuid = ? AND removed IS NULL', uuid);
      assertVisible(this.ctx, scope, 'network', uuid, net);
      const { to } = applyTransition(this.ctx, { machine: NETWORK_MACHINE, table: 'network', column: 'state', id: net!.id,
        uuid, event, expect: options.expect });
      if (to === 'Destroy') this.destroy(scope, uuid, net!);
      return getOwned(this.ctx, this.spec, SYSTEM, 'network', uuid, '1').item;
    });
  }

  private destroy(scope: Scope, uuid: string, net: { id: number; account_id: number; domain_id: number; name: string }): void {
    const nics = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM nic WHERE network_id = ? AND removed IS NULL', net.id)!.n;
    if (nics > 0) throw new ResourceInUseError(`network ${uuid} still has ${nics} nic(s): remove its VMs first`);
    this.ctx.run('UPDATE vnet SET network_id = NULL, account_id = NULL, taken = NULL WHERE network_id = ?', net.id);
    this.ctx.run(`UPDATE ip_address SET state = 'Free', account_id = NULL, domain_id = NULL, network_id = NULL,
      vm_id = NULL, vm_ip = NULL, source_nat = 0, static_nat = 0, is_system = 0, allocated = NULL, purpose = NULL
      WHERE network_id = ?`, net.id);
    this.ctx.run('UPDATE ip_range SET removed = ? WHERE network_id = ? AND removed IS NULL', this.ctx.now(), net.id);
    this.ctx.run('UPDATE network SET removed = ? WHERE id = ?', this.ctx.now(), net.id);
    this.events.record({ type: 'NETWORK.DELETE', description: `deleted network ${net.name}`, accountId: net.account_id,
      domainId: net.domain_id, userId: actingUser(this.ctx, scope), resourceType: 'Network', resourceUuid: uuid });
  }

  private addressing(input: CreateNetworkInput, type: GuestType, zoneCidr: string | null):
    { gateway: string | null; netmask: string | null; cidr: string | null } {
    if (input.gateway !== undefined && input.netmask !== undefined) {
      return { gateway: input.gateway, netmask: input.netmask, cidr: cidrOf(input.gateway, input.netmask) };
    }
    if (input.gateway !== undefined || input.netmask !== undefined) {
      throw new InvalidParameterError('gateway and netmask must be given together');
    }
    if (type === 'Shared') throw new InvalidParameterError('a shared network needs gateway and netmask');
    if (type === 'L2') return { gateway: null, netmask: null, cidr: null };
    const c = parseCidr(zoneCidr ?? DEFAULT_GUEST_CIDR);
    return { gateway: numToIp(c.first), netmask: c.netmask, cidr: `${numToIp(c.network)}/${c.prefix}` };
  }


}
