import {
  ConflictError, InsufficientCapacityError, InvalidParameterError, NotFoundError,
} from '../../../src/errors.js';
import { isUniqueViolation, type StoreContext } from './context.js';
import { ipToNum, numToIp, parseCidr } from './ipv4.js';
import { SYSTEM, assertVisible, resolveCaller, type Scope } from './scoping.js';
import { IP_MACHINE, applyTransition } from './state-machines.js';
import { accountOwner } from './repos/common.js';
import type { EventRepository } from './repos/events.js';
import type { IpAddressRepository, PublicIpAddress } from './repos/ip-addresses.js';
import type { Nic, NicRepository } from './repos/nics.js';

export interface AllocatePublicIpInput {
  zoneid: string;
  /** Associate with this network; its owner owns the address unless `accountid` says otherwise. */
  networkid?: string;
  /** Owner (admins and components allocating on behalf of an account). */
  accountid?: string;
  /** A specific address instead of the lowest free one. */
  ipaddress?: string;
  /** Restrict to one public range. */
  vlanid?: string;
  /** The network's source NAT address. */
  sourcenat?: boolean;
  /** Held by the system (virtual router...). */
  issystem?: boolean;
}

/** VNI ranges are materialised one row per id; this bounds one request (VXLAN ranges can be huge). */
export const MAX_VNET_RANGE = 100_000;

/**
 * Atomic allocation of addresses and VLAN/VNI ids. Public addresses and VNIs are pre-created rows taken
 * by one UPDATE ... WHERE id = (first free) AND state = 'Free' inside an IMMEDIATE transaction; guest
 * addresses are guarded by a unique index on (network, address). Either way one address or VNI can never
 * be handed out twice, whatever the number of concurrent callers or connections.
 */
export class AddressAllocator {
  constructor(private readonly ctx: StoreContext, private readonly events: EventRepository,
    private readonly ips: IpAddressRepository, private readonly nics: NicRepository) {}

  /** associateIpAddress' allocation: the lowest free public address of the zone (or the requested one). */
  allocatePublicIp(scope: Scope, input: AllocatePublicIpInput): PublicIpAddress {
    return this.ctx.tx(() => {
      const zoneId = this.ctx.requireId('zone', input.zoneid, 'zone');
      const net = input.networkid === undefined ? undefined : this.ctx.one<{ id: number; account_id: number;
        domain_id: number; zone_id: number }>('SELECT id, account_id, domain_id, zone_id FROM network WHERE uuid = ? AND removed IS NULL',
      input.networkid);
      if (input.networkid !== undefined) assertVisible(this.ctx, scope, 'network', input.networkid, net);
      if (net !== undefined && net.zone_id !== zoneId) throw new InvalidParameterError('the network is in another zone');
      const owner = this.owner(scope, input.accountid, net);
      const conds = ['a.zone_id = ?', "a.state = 'Free'", 'r.removed IS NULL', 'r.for_virtual_network = 1',
        '(r.account_id IS NULL OR r.account_id = ?)'];
      const args: unknown[] = [zoneId, owner.accountId];
      if (input.ipaddress !== undefined) { conds.push('a.address_num = ?'); args.push(ipToNum(input.ipaddress)); }
      if (input.vlanid !== undefined) { conds.push('r.uuid = ?'); args.push(input.vlanid); }
      const to = IP_MACHINE.transitions.Free!.AllocationSucceeded!;
      const got = this.ctx.one<{ uuid: string; address: string }>(`UPDATE ip_address SET state = ?, account_id = ?,
        domain_id = ?, network_id = ?, source_nat = ?, is_system = ?, allocated = ?
        WHERE id = (SELECT a.id FROM ip_address a JOIN ip_range r ON r.id = a.range_id WHERE ${conds.join(' AND ')}
        ORDER BY a.address_num LIMIT 1) AND state = 'Free' RETURNING uuid, address`,
      to, owner.accountId, owner.domainId, net?.id ?? null, input.sourcenat === true ? 1 : 0,
      input.issystem === true ? 1 : 0, this.ctx.now(), ...args);
      if (got === undefined) {
        if (input.ipaddress !== undefined) {
          throw new InvalidParameterError(`ip address ${input.ipaddress} is not free in zone ${input.zoneid}`);
        }
        throw new InsufficientCapacityError(`Insufficient address capacity: no free public ip address in zone ${input.zoneid}`);
      }
      this.events.record({ type: 'NET.IPASSIGN', description: `assigned public ip ${got.address}`, ...owner,
        userId: this.userId(scope), resourceType: 'PublicIpAddress', resourceUuid: got.uuid });
      return this.ips.get(SYSTEM, got.uuid);
    });
  }

  /** disassociateIpAddress' release: back to Free, unowned. A source NAT address only by components. */
  releasePublicIp(scope: Scope, uuid: string): PublicIpAddress {
    return this.ctx.tx(() => {
      const ip = this.ctx.one<{ id: number; account_id: number | null; domain_id: number | null; source_nat: number;
        address: string; state: string }>('SELECT id, account_id, domain_id, source_nat, address, state FROM ip_address WHERE uuid = ?', uuid);
      assertVisible(this.ctx, scope, 'ip address', uuid, ip);
      if (ip!.source_nat === 1 && scope !== SYSTEM) {
        throw new InvalidParameterError(`ip address ${uuid} is the source NAT address of its network and is released with it`);
      }
      applyTransition(this.ctx, { machine: IP_MACHINE, table: 'ip_address', column: 'state', id: ip!.id, uuid,
        event: 'ReleaseRequested' });
      applyTransition(this.ctx, { machine: IP_MACHINE, table: 'ip_address', column: 'state', id: ip!.id, uuid,
        event: 'ReleaseSucceeded', set: { account_id: null, domain_id: null, network_id: null, vm_id: null, vm_ip: null,
          source_nat: 0, static_nat: 0, is_system: 0, allocated: null, purpose: null } });
      if (ip!.account_id !== null && ip!.domain_id !== null) {
        this.events.record({ type: 'NET.IPRELEASE', description: `released public ip ${ip!.address}`,
          accountId: ip!.account_id, domainId: ip!.domain_id, userId: this.userId(scope), resourceType: 'PublicIpAddress',
          resourceUuid: uuid });
      }
      return this.ips.get(SYSTEM, uuid);
    });
  }

  /** Static NAT of a public address to a VM (vmUuid undefined disables it). */
  setStaticNat(scope: Scope, ipUuid: string, vmUuid: string | undefined, vmIp?: string): PublicIpAddress {
    return this.ctx.tx(() => {
      const ip = this.ctx.one<{ id: number; account_id: number | null; domain_id: number | null; state: string }>(
        'SELECT id, account_id, domain_id, state FROM ip_address WHERE uuid = ?', ipUuid);
      assertVisible(this.ctx, scope, 'ip address', ipUuid, ip);
      if (ip!.state !== 'Allocated') throw new InvalidParameterError(`ip address ${ipUuid} is ${ip!.state}, not Allocated`);
      let vmId: number | null = null;
      if (vmUuid !== undefined) {
        const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number }>(
          'SELECT id, account_id, domain_id FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
        assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
        vmId = vm!.id;
      }
      this.ctx.run('UPDATE ip_address SET vm_id = ?, vm_ip = ?, static_nat = ? WHERE id = ?', vmId,
        vmId === null ? null : vmIp ?? null, vmId === null ? 0 : 1, ip!.id);
      return this.ips.get(SYSTEM, ipUuid);
    });
  }

  /**
   * Reserves a guest address for a NIC on its network: the requested one or the lowest free one of the
   * network's guest ranges (shared networks) or CIDR, never the gateway. Idempotent: a NIC that already
   * has an address keeps it.
   */
  reserveNicIp(nicUuid: string, requested?: string): Nic {
    return this.ctx.tx(() => {
      const nic = this.ctx.one<{ id: number; network_id: number; ip_num: number | null }>(
        'SELECT id, network_id, ip_num FROM nic WHERE uuid = ? AND removed IS NULL', nicUuid);
      if (nic === undefined) throw new NotFoundError(`Unable to find nic with id ${nicUuid}`);
      if (nic.ip_num !== null) return this.nics.get(SYSTEM, nicUuid);
      const net = this.ctx.one<{ cidr: string | null; gateway: string | null; netmask: string | null; uuid: string }>(
        'SELECT cidr, gateway, netmask, uuid FROM network WHERE id = ?', nic.network_id)!;
      if (net.cidr === null) {
        this.ctx.run("UPDATE nic SET state = 'Reserved' WHERE id = ?", nic.id);
        return this.nics.get(SYSTEM, nicUuid);
      }
      const address = this.pickGuestAddress(nic.network_id, net, requested);
      const cidr = parseCidr(net.cidr);
      try {
        this.ctx.run(`UPDATE nic SET ip_address = ?, ip_num = ?, netmask = ?, gateway = ?, state = 'Reserved'
          WHERE id = ? AND ip_num IS NULL`, numToIp(address), address, net.netmask ?? cidr.netmask, net.gateway, nic.id);
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`address ${numToIp(address)} was just taken; retry`, { cause: err });
        throw err;
      }
      return this.nics.get(SYSTEM, nicUuid);
    });
  }

  /** Returns a NIC's guest address to its network (no-op when it has none). */
  releaseNicIp(nicUuid: string): Nic {
    return this.ctx.tx(() => {
      const res = this.ctx.run(`UPDATE nic SET ip_address = NULL, ip_num = NULL, state = 'Allocated'
        WHERE uuid = ? AND removed IS NULL`, nicUuid);
      if (res.changes === 0) throw new NotFoundError(`Unable to find nic with id ${nicUuid}`);
      return this.nics.get(SYSTEM, nicUuid);
    });
  }

  private pickGuestAddress(networkId: number, net: { cidr: string | null; gateway: string | null; uuid: string },
    requested: string | undefined): number {
    const cidr = parseCidr(net.cidr!);
    // Bounded: a network's ranges and NICs are at most the addresses of its CIDR.
    const ranges = this.ctx.all<{ start_ip: string; end_ip: string }>(
      'SELECT start_ip, end_ip FROM ip_range WHERE network_id = ? AND removed IS NULL ORDER BY id', networkId)
      .map((r) => [ipToNum(r.start_ip), ipToNum(r.end_ip)] as const);
    const spans = ranges.length > 0 ? ranges : [[cidr.first, cidr.last] as const];
    const used = new Set(this.ctx.all<{ ip_num: number }>(
      'SELECT ip_num FROM nic WHERE network_id = ? AND ip_num IS NOT NULL AND removed IS NULL', networkId).map((r) => r.ip_num));
    if (net.gateway !== null) used.add(ipToNum(net.gateway));
    if (requested !== undefined) {
      const n = ipToNum(requested);
      if (!spans.some(([a, b]) => n >= a && n <= b)) {
        throw new InvalidParameterError(`ip address ${requested} is outside the ranges of network ${net.uuid}`);
      }
      if (used.has(n)) throw new InvalidParameterError(`ip address ${requested} is already used in network ${net.uuid}`);
      return n;
    }
    for (const [a, b] of spans) {
      for (let n = a; n <= b; n++) if (!used.has(n)) return n;
    }
    throw new InsufficientCapacityError(`Insufficient address capacity: network ${net.uuid} has no free address`);
  }

  /** Adds VNIs [start, end] to a zone's pool (ids already present are kept). Returns how many were added. */
  addVnetRange(zoneUuid: string, start: number, end: number): number {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
      throw new InvalidParameterError(`invalid vnet range ${start}-${end}`);
    }
    if (end - start + 1 > MAX_VNET_RANGE) throw new InvalidParameterError(`a vnet range holds at most ${MAX_VNET_RANGE} ids`);
    return this.ctx.tx(() => {
      const zoneId = this.ctx.requireId('zone', zoneUuid, 'zone');
      const insert = 'INSERT INTO vnet (zone_id, vnet) VALUES (?, ?) ON CONFLICT DO NOTHING';
      let added = 0;
      for (let v = start; v <= end; v++) added += this.ctx.run(insert, zoneId, v).changes;
      return added;
    });
  }

  /**
   * Gives a network a VLAN/VNI from its zone's pool (the lowest free one, or `vnet` when given) and
   * records it on the network and its NICs. Idempotent: a network keeps the id it already holds.
   */
  allocateVnet(networkUuid: string, vnet?: number): number {
    return this.ctx.tx(() => {
      const net = this.ctx.one<{ id: number; zone_id: number; account_id: number }>(
        'SELECT id, zone_id, account_id FROM network WHERE uuid = ? AND removed IS NULL', networkUuid);
      if (net === undefined) throw new NotFoundError(`Unable to find network with id ${networkUuid}`);
      const held = this.ctx.one<{ vnet: number }>('SELECT vnet FROM vnet WHERE network_id = ?', net.id);
      if (held !== undefined) return held.vnet;
      const got = this.ctx.one<{ vnet: number }>(`UPDATE vnet SET network_id = ?, account_id = ?, taken = ?
        WHERE id = (SELECT id FROM vnet WHERE zone_id = ? AND network_id IS NULL${vnet === undefined ? '' : ' AND vnet = ?'}
        ORDER BY vnet LIMIT 1) AND network_id IS NULL RETURNING vnet`,
      net.id, net.account_id, this.ctx.now(), net.zone_id, ...(vnet === undefined ? [] : [vnet]));
      if (got === undefined) {
        throw new InsufficientCapacityError(vnet === undefined ? 'Insufficient capacity: no free VLAN/VNI in the zone'
          : `VLAN/VNI ${vnet} is not free in the zone`);
      }
      this.setBroadcast(net.id, got.vnet);
      return got.vnet;
    });
  }

  /** Returns a network's VLAN/VNI to the pool (no-op when it holds none). */
  releaseVnet(networkUuid: string): void {
    this.ctx.tx(() => {
      const id = this.ctx.requireId('network', networkUuid, 'network');
      const res = this.ctx.run('UPDATE vnet SET network_id = NULL, account_id = NULL, taken = NULL WHERE network_id = ?', id);
      if (res.changes > 0) this.setBroadcast(id, null);
    });
  }

  /** Ids in a zone's pool and how many are taken. */
  vnetUsage(zoneUuid: string): { total: number; allocated: number } {
    const zoneId = this.ctx.requireId('zone', zoneUuid, 'zone');
    return this.ctx.one<{ total: number; allocated: number }>(`SELECT count(*) AS total,
      count(network_id) AS allocated FROM vnet WHERE zone_id = ?`, zoneId)!;
  }

  private setBroadcast(networkId: number, vnet: number | null): void {
    const uri = vnet === null ? null : `vlan://${vnet}`;
    this.ctx.run('UPDATE network SET vlan = ?, broadcast_uri = ? WHERE id = ?', vnet === null ? null : String(vnet), uri, networkId);
    this.ctx.run('UPDATE nic SET broadcast_uri = ?, isolation_uri = ? WHERE network_id = ? AND removed IS NULL', uri, uri, networkId);
  }

  private owner(scope: Scope, accountUuid: string | undefined, net: { account_id: number; domain_id: number } | undefined):
    { accountId: number; domainId: number } {
    if (accountUuid !== undefined) {
      const o = accountOwner(this.ctx, accountUuid);
      assertVisible(this.ctx, scope, 'account', accountUuid, { account_id: o.accountId, domain_id: o.domainId });
      return o;
    }
    if (net !== undefined) return { accountId: net.account_id, domainId: net.domain_id };
    if (scope === SYSTEM) throw new InvalidParameterError('allocating a public ip as SYSTEM needs networkid or accountid');
    const rc = resolveCaller(this.ctx, scope);
    return { accountId: rc.accountId, domainId: rc.domainId };
  }

  private userId(scope: Scope): number | undefined {
    return scope === SYSTEM ? undefined : this.ctx.idOf('app_user', scope.userId);
  }
}
