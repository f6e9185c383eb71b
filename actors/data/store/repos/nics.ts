import { InvalidParameterError } from '../../../../src/errors.js';
import { isUniqueViolation, type StoreContext } from '../context.js';
import { bool, compact } from '../format.js';
import { fetchWhere, groupBy, idList, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, ownershipCondition, type Scope } from '../scoping.js';

/** A VM's `nic[]` entry / listNics' `nic` object. `deviceid` is a string, as CloudStack sends it. */
export interface Nic {
  id: string;
  networkid: string;
  networkname: string;
  netmask?: string;
  gateway?: string;
  ipaddress?: string;
  macaddress?: string;
  isolationuri?: string;
  broadcasturi?: string;
  traffictype: string;
  type: string;
  isdefault: boolean;
  deviceid: string;
  ip6address?: string;
  virtualmachineid: string;
  state: string;
}

export interface NicRow {
  _id: number;
  _vm: number;
  _aid: number;
  _did: number;
  uuid: string;
  ip_address: string | null;
  netmask: string | null;
  gateway: string | null;
  mac_address: string | null;
  isolation_uri: string | null;
  broadcast_uri: string | null;
  traffic_type: string;
  is_default: number;
  device_id: number;
  ip6_address: string | null;
  state: string;
  nw_uuid: string;
  nw_name: string;
  nw_type: string;
  vm_uuid: string;
}

export const NIC_COLUMNS = `t.id AS _id, t.vm_id AS _vm, v.account_id AS _aid, v.domain_id AS _did, t.uuid,
  t.ip_address, t.netmask, t.gateway, t.mac_address, t.isolation_uri, t.broadcast_uri, t.traffic_type, t.is_default,
  t.device_id, t.ip6_address, t.state, nw.uuid AS nw_uuid, nw.name AS nw_name, nw.guest_type AS nw_type,
  v.uuid AS vm_uuid`;
const NIC_JOINS = 'JOIN network nw ON nw.id = t.network_id JOIN vm_instance v ON v.id = t.vm_id';
/** NIC_COLUMNS without the VM's own (owner, uuid): for VMs the caller already holds, no join back to them. */
const NIC_OWN_COLUMNS = `t.id AS _id, t.vm_id AS _vm, t.uuid, t.ip_address, t.netmask, t.gateway, t.mac_address,
  t.isolation_uri, t.broadcast_uri, t.traffic_type, t.is_default, t.device_id, t.ip6_address, t.state, nw.uuid AS nw_uuid,
  nw.name AS nw_name, nw.guest_type AS nw_type`;

/** A NIC row as the API shows it (internal keys and the owner are not shown). */
export function mapNic(r: Omit<NicRow, '_id' | '_vm' | '_aid' | '_did'>): Nic {
  return compact<Nic>({
    id: r.uuid, networkid: r.nw_uuid, networkname: r.nw_name, netmask: r.netmask, gateway: r.gateway,
    ipaddress: r.ip_address, macaddress: r.mac_address, isolationuri: r.isolation_uri, broadcasturi: r.broadcast_uri,
    traffictype: r.traffic_type, type: r.nw_type, isdefault: bool(r.is_default), deviceid: String(r.device_id),
    ip6address: r.ip6_address, virtualmachineid: r.vm_uuid, state: r.state,
  });
}

const SPEC: ListSpec<NicRow, Nic> = {
  table: 'nic',
  columns: NIC_COLUMNS,
  joins: NIC_JOINS,
  // NICs belong to their VM's owner.
  scope: (ctx, scope, p) => {
    const c = ownershipCondition(ctx, scope, { ...p, id: p.virtualmachineid ?? p.id });
    return c.sql === '' ? c : { sql: `t.vm_id IN (SELECT t.id FROM vm_instance t WHERE ${c.sql})`, args: c.args };
  },
  where: 't.removed IS NULL',
  filters: { virtualmachineid: { ref: 'vm_instance', column: 'vm_id' }, networkid: { ref: 'network', column: 'network_id' },
    nicid: { custom: (v) => ({ sql: 't.uuid = ?', args: [v] }) } },
  order: ['t.vm_id', 't.device_id', 't.id'],
  map: mapNic,
};

/** How many times a random MAC is redrawn on collision before giving up (2^32 space: never in practice). */
const MAC_ATTEMPTS = 8;

export class NicRepository {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * The live NICs of many VMs in one query, keyed by the VM's internal key. `vms`: internal key -> VM
   * uuid, which the caller holds (a page of VMs): joining each NIC back to its VM row for it cost 500
   * more key lookups per page on PostgreSQL.
   */
  byVms(vms: ReadonlyMap<number, string>): Map<number, Nic[]> {
    // Bounded by the page or scan chunk of VMs (vms), times MAX_NICS.
    const rows = this.ctx.rows<Omit<NicRow, '_aid' | '_did' | 'vm_uuid'>>(`SELECT ${NIC_OWN_COLUMNS} FROM nic t
      JOIN network nw ON nw.id = t.network_id WHERE t.removed IS NULL AND t.vm_id IN (SELECT value FROM json_each(?))
      ORDER BY ${SPEC.order!.join(', ')}`, idList([...vms.keys()]));
    const grouped = groupBy(rows, (r) => r._vm);
    return new Map([...grouped].map(([k, v]) => [k, v.map((r) => mapNic({ ...r, vm_uuid: vms.get(k)! }))]));
  }

  get(scope: Scope, uuid: string): Nic {
    const found = fetchWhere(this.ctx, SPEC, 't.uuid = ? AND t.removed IS NULL', uuid);
    const row = found.rows[0];
    assertVisible(this.ctx, scope, 'nic', uuid, row === undefined ? undefined : { account_id: row._aid, domain_id: row._did });
    return found.items[0]!;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Nic> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Nic> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  /**
   * Inserts a NIC (inside the caller's transaction) with a fresh locally administered MAC
   * (02:00:xx:xx:xx:xx). The address itself is reserved later through allocation.
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  insert(vmId: number, networkId: number, deviceId: number, isDefault: boolean): { id: number; uuid: string } {
    const net = this.ctx.one<{ broadcast_uri: string | null; traffic_type: string }>(
      'SELECT broadcast_uri, traffic_type FROM network WHERE id = ?', networkId);
    if (net === undefined) throw new InvalidParameterError('network vanished while adding a nic');
    for (let attempt = 0; ; attempt++) {
      const uuid = this.ctx.uuid();
      try {
        // In its own savepoint: on PostgreSQL a failed statement spoils the transaction until rolled back.
        const res = this.ctx.tx(() => this.ctx.run(`INSERT INTO nic (uuid, vm_id, network_id, mac_address, broadcast_uri, isolation_uri,
          traffic_type, is_default, device_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid, vmId, networkId,
        this.newMac(), net.broadcast_uri, net.broadcast_uri, net.traffic_type, isDefault ? 1 : 0, deviceId, this.ctx.now()));
        return { id: Number(res.lastInsertRowid), uuid };
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= MAC_ATTEMPTS) throw err;
      }
    }
  }

  /** addNicToVirtualMachine: a NIC on another network, next device id. */
  add(scope: Scope, vmUuid: string, networkUuid: string): Nic {
    return this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number }>(
        'SELECT id, account_id, domain_id, zone_id FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
      const net = this.ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number }>(
        'SELECT id, account_id, domain_id, zone_id FROM network WHERE uuid = ? AND removed IS NULL', networkUuid);
      assertVisible(this.ctx, scope, 'network', networkUuid, net);
      if (net!.zone_id !== vm!.zone_id) throw new InvalidParameterError('the network is in another zone than the VM');
      const dup = this.ctx.one('SELECT 1 FROM nic WHERE vm_id = ? AND network_id = ? AND removed IS NULL', vm!.id, net!.id);
      if (dup !== undefined) throw new InvalidParameterError(`the VM already has a nic on network ${networkUuid}`);
      const next = this.ctx.one<{ d: number }>('SELECT COALESCE(MAX(device_id) + 1, 0) AS d FROM nic WHERE vm_id = ?', vm!.id)!.d;
      const nic = this.insert(vm!.id, net!.id, next, false);
      return this.get(SYSTEM, nic.uuid);
    });
  }

  /** Removes a non-default NIC (its address returns to the network). */
  remove(scope: Scope, nicUuid: string): void {
    this.ctx.tx(() => {
      const nic = this.get(scope, nicUuid);
      if (nic.isdefault) throw new InvalidParameterError('the default nic of a VM cannot be removed');
      this.ctx.run(`UPDATE nic SET removed = ?, ip_num = NULL, ip_address = NULL, state = 'Allocated'
        WHERE uuid = ?`, this.ctx.now(), nicUuid);
    });
  }

  private newMac(): string {
    const b = this.ctx.randomBytes(4);
    return ['02', '00', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
  }
}
