import { InvalidParameterError } from '../../../../src/errors.js';
import { isUniqueViolation, type StoreContext } from '../context.js';
import { bool, compact, formatOptionalDate } from '../format.js';
import { ipToNum, numToIp } from '../ipv4.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, type Scope } from '../scoping.js';
import type { IpState } from '../state-machines.js';
import { accountOwner, getGlobal, getOwned } from './common.js';
import type { ResourceTag, TagRepository } from './tags.js';

/** listPublicIpAddresses' `publicipaddress` (associateIpAddress' `ipaddress`) object. */
export interface PublicIpAddress {
  id: string;
  ipaddress: string;
  allocated?: string;
  zoneid: string;
  zonename: string;
  issourcenat: boolean;
  isstaticnat: boolean;
  issystem: boolean;
  account?: string;
  domainid?: string;
  domain?: string;
  forvirtualnetwork: boolean;
  vlanid: string;
  vlanname: string;
  virtualmachineid?: string;
  virtualmachinename?: string;
  virtualmachinedisplayname?: string;
  vmipaddress?: string;
  associatednetworkid?: string;
  associatednetworkname?: string;
  state: IpState;
  purpose?: string;
  tags: ResourceTag[];
}

/** listVlanIpRanges' `vlaniprange` object. */
export interface VlanIpRange {
  id: string;
  forvirtualnetwork: boolean;
  zoneid: string;
  vlan: string;
  gateway: string;
  netmask: string;
  startip: string;
  endip: string;
  podid?: string;
  networkid?: string;
  account?: string;
  domainid?: string;
}

export interface CreateIpRangeInput {
  zoneid: string;
  /** 'untagged' or a VLAN id such as '100' (stored as given). Default 'untagged'. */
  vlan?: string;
  gateway: string;
  netmask: string;
  startip: string;
  endip: string;
  podid?: string;
  /** Guest range of a shared network instead of a public range. */
  networkid?: string;
  /** Dedicate the range to an account. */
  accountid?: string;
  forvirtualnetwork?: boolean;
}

/** A public range is materialised one row per address; this bounds what one request can create. */
export const MAX_IP_RANGE_SIZE = 65536;

interface IpRow {
  _id: number;
  _aid: number;
  _did: number;
  uuid: string;
  address: string;
  state: IpState;
  allocated: number | null;
  source_nat: number;
  static_nat: number;
  is_system: number;
  purpose: string | null;
  vm_ip: string | null;
  z_uuid: string;
  z_name: string;
  r_uuid: string;
  r_vlan: string;
  r_virtual: number;
  a_name: string | null;
  d_uuid: string | null;
  d_name: string | null;
  vm_uuid: string | null;
  vm_name: string | null;
  vm_display: string | null;
  n_uuid: string | null;
  n_name: string | null;
}

export class IpAddressRepository {
  private readonly spec: ListSpec<IpRow, PublicIpAddress>;

  constructor(private readonly ctx: StoreContext, tags: TagRepository) {
    this.spec = {
      table: 'ip_address',
      columns: `t.id AS _id, t.account_id AS _aid, t.domain_id AS _did, t.uuid, t.address, t.state, t.allocated,
        t.source_nat, t.static_nat, t.is_system, t.purpose, t.vm_ip, z.uuid AS z_uuid, z.name AS z_name,
        r.uuid AS r_uuid, r.vlan AS r_vlan, r.for_virtual_network AS r_virtual, a.name AS a_name, d.uuid AS d_uuid,
        d.name AS d_name, v.uuid AS vm_uuid, v.name AS vm_name, v.display_name AS vm_display, n.uuid AS n_uuid,
        n.name AS n_name`,
      joins: `JOIN zone z ON z.id = t.zone_id JOIN ip_range r ON r.id = t.range_id
        LEFT JOIN account a ON a.id = t.account_id LEFT JOIN domain d ON d.id = t.domain_id
        LEFT JOIN vm_instance v ON v.id = t.vm_id LEFT JOIN network n ON n.id = t.network_id`,
      scope: 'owned',
      filters: {
        zoneid: { ref: 'zone', column: 'zone_id' }, vlanid: { ref: 'ip_range', column: 'range_id' },
        associatednetworkid: { ref: 'network', column: 'network_id' }, networkid: { ref: 'network', column: 'network_id' },
        virtualmachineid: { ref: 'vm_instance', column: 'vm_id' }, ipaddress: { eq: 'address' },
        issourcenat: { bool: 'source_nat' }, isstaticnat: { bool: 'static_nat' }, state: { eq: 'state' },
        allocatedonly: { custom: (v) => (v === false || v === 'false' ? { sql: '', args: [] }
          : { sql: "t.state <> 'Free'", args: [] }) },
        forvirtualnetwork: { custom: (v) => ({ sql: 't.range_id IN (SELECT id FROM ip_range WHERE for_virtual_network = ?)',
          args: [v === true || v === 'true' ? 1 : 0] }) },
      },
      keyword: ['address'],
      map: (r) => compact<PublicIpAddress>({
        id: r.uuid, ipaddress: r.address, allocated: formatOptionalDate(r.allocated), zoneid: r.z_uuid,
        zonename: r.z_name, issourcenat: bool(r.source_nat), isstaticnat: bool(r.static_nat),
        issystem: bool(r.is_system), account: r.a_name, domainid: r.d_uuid, domain: r.d_name,
        forvirtualnetwork: bool(r.r_virtual), vlanid: r.r_uuid, vlanname: r.r_vlan, virtualmachineid: r.vm_uuid,
        virtualmachinename: r.vm_name, virtualmachinedisplayname: r.vm_display ?? r.vm_name, vmipaddress: r.vm_ip,
        associatednetworkid: r.n_uuid, associatednetworkname: r.n_name, state: r.state, purpose: r.purpose, tags: [],
      }),
      attach: (_ctx, rows, items) => tags.attach('PublicIpAddress', rows.map((r) => r._id), items),
    };
  }

  /** One address; free (unowned) addresses are visible to the root admin and components only. */
  get(scope: Scope, uuid: string): PublicIpAddress {
    return getOwned(this.ctx, this.spec, scope, 'ip address', uuid, '1').item;
  }

  /** listPublicIpAddresses: allocated addresses only unless `allocatedonly=false`. */
  list(scope: Scope, params: ListParams = {}): ListResult<PublicIpAddress> {
    return listResources(this.ctx, this.spec, scope, { allocatedonly: true, ...params });
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<PublicIpAddress> {
    return scanResources(this.ctx, this.spec, scope, { allocatedonly: true, ...params }, window);
  }

  listRanges(params: ListParams = {}): ListResult<VlanIpRange> {
    return listResources(this.ctx, RANGE_SPEC, SYSTEM, params);
  }

  /** Every match of `listRanges`, chunk by chunk (see pagination.ts). */
  scanRanges(params: ListParams, window: ScanWindow = {}): ScanChunk<VlanIpRange> {
    return scanResources(this.ctx, RANGE_SPEC, SYSTEM, params, window);
  }

  getRange(uuid: string): VlanIpRange {
    return getGlobal(this.ctx, RANGE_SPEC, 'vlan ip range', uuid).item;
  }

  /**
   * createVlanIpRange: a public range (one Free row per address, so allocation is a single indexed
   * UPDATE) or, with `networkid`, the guest range of a shared network.
   */
  createRange(input: CreateIpRangeInput): VlanIpRange {
    const start = ipToNum(input.startip);
    const end = ipToNum(input.endip);
    ipToNum(input.gateway);
    ipToNum(input.netmask);
    if (end < start) throw new InvalidParameterError(`endip ${input.endip} is before startip ${input.startip}`);
    if (end - start + 1 > MAX_IP_RANGE_SIZE) {
      throw new InvalidParameterError(`an ip range holds at most ${MAX_IP_RANGE_SIZE} addresses; split it`);
    }
    return this.ctx.tx(() => {
      const zoneId = this.ctx.requireId('zone', input.zoneid, 'zone');
      const podId = this.ctx.optionalId('pod', input.podid, 'pod');
      const networkId = this.ctx.optionalId('network', input.networkid, 'network');
      const owner = input.accountid === undefined ? undefined : accountOwner(this.ctx, input.accountid);
      const uuid = this.ctx.uuid();
      const now = this.ctx.now();
      const res = this.ctx.run(`INSERT INTO ip_range (uuid, zone_id, pod_id, network_id, account_id, domain_id, vlan,
        gateway, netmask, start_ip, end_ip, for_virtual_network, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, zoneId, podId, networkId, owner?.accountId ?? null, owner?.domainId ?? null, input.vlan ?? 'untagged',
      input.gateway, input.netmask, input.startip, input.endip, (input.forvirtualnetwork ?? networkId === null) ? 1 : 0, now);
      if (networkId === null) this.materialise(Number(res.lastInsertRowid), zoneId, start, end, now);
      return this.getRange(uuid);
    });
  }

  private materialise(rangeId: number, zoneId: number, start: number, end: number, now: number): void {
    const insert = `INSERT INTO ip_address (uuid, zone_id, range_id, address, address_num, created) VALUES (?, ?, ?, ?, ?, ?)`;
    for (let n = start; n <= end; n++) {
      try {
        this.ctx.run(insert, this.ctx.uuid(), zoneId, rangeId, numToIp(n), n, now);
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new InvalidParameterError(`address ${numToIp(n)} already belongs to another range of this zone`,
            { cause: err });
        }
        throw err;
      }
    }
  }
}

interface RangeRow {
  uuid: string;
  for_virtual_network: number;
  vlan: string;
  gateway: string;
  netmask: string;
  start_ip: string;
  end_ip: string;
  z_uuid: string;
  p_uuid: string | null;
  n_uuid: string | null;
  a_name: string | null;
  d_uuid: string | null;
}

const RANGE_SPEC: ListSpec<RangeRow, VlanIpRange> = {
  table: 'ip_range',
  columns: `t.uuid, t.for_virtual_network, t.vlan, t.gateway, t.netmask, t.start_ip, t.end_ip, z.uuid AS z_uuid,
    p.uuid AS p_uuid, n.uuid AS n_uuid, a.name AS a_name, d.uuid AS d_uuid`,
  joins: `JOIN zone z ON z.id = t.zone_id LEFT JOIN pod p ON p.id = t.pod_id LEFT JOIN network n ON n.id = t.network_id
    LEFT JOIN account a ON a.id = t.account_id LEFT JOIN domain d ON d.id = t.domain_id`,
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { zoneid: { ref: 'zone', column: 'zone_id' }, podid: { ref: 'pod', column: 'pod_id' },
    networkid: { ref: 'network', column: 'network_id' }, vlan: { eq: 'vlan' },
    forvirtualnetwork: { bool: 'for_virtual_network' } },
  map: (r) => compact<VlanIpRange>({
    id: r.uuid, forvirtualnetwork: bool(r.for_virtual_network), zoneid: r.z_uuid, vlan: r.vlan, gateway: r.gateway,
    netmask: r.netmask, startip: r.start_ip, endip: r.end_ip, podid: r.p_uuid, networkid: r.n_uuid, account: r.a_name,
    domainid: r.d_uuid,
  }),
};
