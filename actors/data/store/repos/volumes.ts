import { InvalidParameterError, ResourceInUseError } from '../../../../src/errors.js';
import { isUniqueViolation, type StoreContext } from '../context.js';
import { compact, formatDate, formatOptionalDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, resolveCaller, type Scope } from '../scoping.js';
import { VOLUME_MACHINE, applyTransition, type VolumeState } from '../state-machines.js';
import type { Allocator } from '../allocation.js';
import { OWNER_COLUMNS, OWNER_JOINS, actingUser, getOwned, ownerFor, ownerFields, type OwnedRow, type OwnerColumns } from './common.js';
import type { EventRepository } from './events.js';
import type { ResourceTag, TagRepository } from './tags.js';

const GIB = 1024 ** 3;

export type VolumeType = 'ROOT' | 'DATADISK' | 'SWAP' | 'ISO' | 'UNKNOWN';

/** listVolumes' `volume` object (size in bytes). */
export interface Volume {
  id: string;
  name: string;
  zoneid: string;
  zonename: string;
  type: VolumeType;
  deviceid?: number;
  virtualmachineid?: string;
  vmname?: string;
  vmdisplayname?: string;
  vmstate?: string;
  provisioningtype: string;
  size: number;
  miniops?: number;
  maxiops?: number;
  created: string;
  state: VolumeState;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  storagetype: string;
  hypervisor?: string;
  diskofferingid?: string;
  diskofferingname?: string;
  storage?: string;
  storageid?: string;
  snapshotid?: string;
  templateid?: string;
  attached?: string;
  destroyed: boolean;
  isextractable: boolean;
  path?: string;
  format?: string;
  tags: ResourceTag[];
}

export interface CreateVolumeInput {
  name: string;
  zoneid: string;
  diskofferingid?: string;
  /** GiB, for customized disk offerings (or without an offering). */
  size?: number;
  /** Owner; default the caller's account. */
  accountid?: string;
  snapshotid?: string;
}

interface VolumeRow extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  volume_type: VolumeType;
  device_id: number | null;
  state: VolumeState;
  size: number;
  min_iops: number | null;
  max_iops: number | null;
  provisioning_type: string;
  format: string | null;
  path: string | null;
  attached: number | null;
  created: number;
  z_uuid: string;
  z_name: string;
  v_uuid: string | null;
  v_name: string | null;
  v_display: string | null;
  v_state: string | null;
  v_hypervisor: string | null;
  do_uuid: string | null;
  do_name: string | null;
  do_storage: string | null;
  sp_uuid: string | null;
  sp_name: string | null;
  sn_uuid: string | null;
  tp_uuid: string | null;
}

const EXPUNGE_PATH = ['DestroyRequested', 'ExpungingRequested', 'OperationSucceeded'] as const;

export class VolumeRepository {
  readonly spec: ListSpec<VolumeRow, Volume>;

  constructor(private readonly ctx: StoreContext, private readonly events: EventRepository,
    private readonly allocator: Allocator, tags: TagRepository) {
    this.spec = {
      table: 'volume',
      columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.volume_type, t.device_id, t.state, t.size, t.min_iops, t.max_iops,
        t.provisioning_type, t.format, t.path, t.attached, t.created, z.uuid AS z_uuid, z.name AS z_name,
        v.uuid AS v_uuid, v.name AS v_name, v.display_name AS v_display, v.state AS v_state, v.hypervisor AS v_hypervisor,
        dof.uuid AS do_uuid, dof.name AS do_name, dof.storage_type AS do_storage, sp.uuid AS sp_uuid, sp.name AS sp_name,
        sn.uuid AS sn_uuid, tp.uuid AS tp_uuid`,
      joins: `${OWNER_JOINS} JOIN zone z ON z.id = t.zone_id LEFT JOIN vm_instance v ON v.id = t.vm_id
        LEFT JOIN disk_offering dof ON dof.id = t.disk_offering_id LEFT JOIN storage_pool sp ON sp.id = t.pool_id
        LEFT JOIN snapshot sn ON sn.id = t.snapshot_id LEFT JOIN template tp ON tp.id = t.template_id`,
      scope: 'owned',
      where: 't.removed IS NULL',
      filters: {
        zoneid: { ref: 'zone', column: 'zone_id' }, podid: { ref: 'pod', column: 'pod_id' },
        virtualmachineid: { ref: 'vm_instance', column: 'vm_id' }, storageid: { ref: 'storage_pool', column: 'pool_id' },
        diskofferingid: { ref: 'disk_offering', column: 'disk_offering_id' },
        name: { eq: 'name' }, type: { eq: 'volume_type' }, state: { eq: 'state' },
        hostid: { custom: (v, c) => {
          const id = c.idOf('host', String(v));
          return id === undefined ? null : { sql: 't.vm_id IN (SELECT id FROM vm_instance WHERE host_id = ?)', args: [id] };
        } },
      },
      keyword: ['name'],
      search: 'volume_search',
      map: (r) => compact<Volume>({
        id: r.uuid, name: r.name, zoneid: r.z_uuid, zonename: r.z_name, type: r.volume_type, deviceid: r.device_id,
        virtualmachineid: r.v_uuid, vmname: r.v_name, vmdisplayname: r.v_display ?? r.v_name, vmstate: r.v_state,
        provisioningtype: r.provisioning_type, size: r.size, miniops: r.min_iops, maxiops: r.max_iops,
        created: formatDate(r.created), state: r.state, ...ownerFields(r), storagetype: r.do_storage ?? 'shared',
        hypervisor: r.v_hypervisor, diskofferingid: r.do_uuid, diskofferingname: r.do_name, storage: r.sp_name,
        storageid: r.sp_uuid, snapshotid: r.sn_uuid, templateid: r.tp_uuid, attached: formatOptionalDate(r.attached),
        destroyed: r.state === 'Destroy', isextractable: true, path: r.path, format: r.format, tags: [],
      }),
      attach: (_ctx, rows, items) => tags.attach('Volume', rows.map((r) => r._id), items),
    };
  }

  get(scope: Scope, uuid: string): Volume {
    return getOwned(this.ctx, this.spec, scope, 'volume', uuid).item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Volume> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Volume> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  /** createVolume: a DATADISK that stays Allocated (no pool) until it is first attached. */
  create(scope: Scope, input: CreateVolumeInput): Volume {
    return this.ctx.tx(() => {
      const owner = ownerFor(this.ctx, scope, input.accountid, 'volume');
      const zoneId = this.ctx.requireId('zone', input.zoneid, 'zone');
      let size = (input.size ?? 0) * GIB;
      let offeringId: number | null = null;
      if (input.diskofferingid !== undefined) {
        const off = this.ctx.one<{ id: number; disk_size: number; is_customized: number }>(
          'SELECT id, disk_size, is_customized FROM disk_offering WHERE uuid = ? AND removed IS NULL', input.diskofferingid);
        if (off === undefined) throw new InvalidParameterError(`Unable to find disk offering with id ${input.diskofferingid}`);
        offeringId = off.id;
        if (off.is_customized === 0) size = off.disk_size;
      }
      let snapshotId: number | null = null;
      if (input.snapshotid !== undefined) {
        // A volume from a snapshot has the disk size the snapshot was taken at, as in CloudStack.
        const snap = this.ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number; state: string; virtual_size: number | null }>(
          'SELECT id, account_id, domain_id, zone_id, state, virtual_size FROM snapshot WHERE uuid = ? AND removed IS NULL', input.snapshotid);
        assertVisible(this.ctx, scope, 'snapshot', input.snapshotid, snap);
        if (snap!.state !== 'BackedUp') throw new InvalidParameterError(`snapshot ${input.snapshotid} is ${snap!.state}; only a BackedUp snapshot makes a volume`);
        if (snap!.zone_id !== zoneId) throw new InvalidParameterError(`snapshot ${input.snapshotid} is in another zone than ${input.zoneid}`);
        snapshotId = snap!.id;
        size = snap!.virtual_size ?? size;
      }
      if (size <= 0 && snapshotId === null) throw new InvalidParameterError('a volume needs a disk offering or a size');
      const uuid = this.insert({ name: input.name, type: 'DATADISK', ...owner, zoneId, size, diskOfferingId: offeringId,
        snapshotId });
      this.events.record({ type: 'VOLUME.CREATE', description: `created volume ${input.name}`, ...owner,
        userId: actingUser(this.ctx, scope), resourceType: 'Volume', resourceUuid: uuid });
      return this.get(SYSTEM, uuid);
    });
  }

  /**
   * Inserts a volume row (inside the caller's transaction).
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  insert(v: { name: string; type: VolumeType; accountId: number; domainId: number; zoneId: number; size: number;
    diskOfferingId?: number | null; templateId?: number | null; snapshotId?: number | null; vmId?: number | null;
    deviceId?: number | null }): string {
    const uuid = this.ctx.uuid();
    this.ctx.run(`INSERT INTO volume (uuid, name, volume_type, account_id, domain_id, zone_id, vm_id, device_id, state,
      size, disk_offering_id, template_id, snapshot_id, attached, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Allocated', ?, ?, ?, ?, ?, ?)`,
    uuid, v.name, v.type, v.accountId, v.domainId, v.zoneId, v.vmId ?? null, v.deviceId ?? null, v.size,
    v.diskOfferingId ?? null, v.templateId ?? null, v.snapshotId ?? null, v.vmId === undefined || v.vmId === null ? null : this.ctx.now(),
    this.ctx.now());
    return uuid;
  }

  /**
   * attachVolume: same account and zone as the VM, not attached elsewhere; device id = the requested one
   * or the lowest free from 1 (3 is kept for the CD-ROM, as CloudStack does).
   */
  attach(scope: Scope, volumeUuid: string, vmUuid: string, deviceid?: number): Volume {
    return this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number; vm_id: number | null;
        state: string; volume_type: string }>(`SELECT id, account_id, domain_id, zone_id, vm_id, state, volume_type
        FROM volume WHERE uuid = ? AND removed IS NULL`, volumeUuid);
      assertVisible(this.ctx, scope, 'volume', volumeUuid, vol);
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number; name: string }>(
        'SELECT id, account_id, domain_id, zone_id, name FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
      if (vol!.vm_id !== null) throw new InvalidParameterError(`volume ${volumeUuid} is already attached to a VM`);
      if (vol!.account_id !== vm!.account_id) throw new InvalidParameterError('the volume and the VM belong to different accounts');
      if (vol!.zone_id !== vm!.zone_id) throw new InvalidParameterError('the volume and the VM are in different zones');
      if (vol!.state !== 'Allocated' && vol!.state !== 'Ready') {
        throw new InvalidParameterError(`volume ${volumeUuid} is ${vol!.state}: only Allocated or Ready volumes attach`);
      }
      const device = deviceid ?? this.nextDevice(vm!.id);
      try {
        this.ctx.run('UPDATE volume SET vm_id = ?, device_id = ?, attached = ? WHERE id = ?', vm!.id, device, this.ctx.now(), vol!.id);
      } catch (err) {
        if (isUniqueViolation(err)) throw new InvalidParameterError(`device id ${device} is already used on VM ${vmUuid}`);
        throw err;
      }
      this.events.record({ type: 'VOLUME.ATTACH', description: `attached volume ${volumeUuid} to VM ${vm!.name}`,
        accountId: vol!.account_id, domainId: vol!.domain_id, userId: actingUser(this.ctx, scope), resourceType: 'Volume',
        resourceUuid: volumeUuid });
      return this.get(SYSTEM, volumeUuid);
    });
  }

  /** detachVolume: data disks only. */
  detach(scope: Scope, volumeUuid: string): Volume {
    return this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; account_id: number; domain_id: number; vm_id: number | null; volume_type: string }>(
        'SELECT id, account_id, domain_id, vm_id, volume_type FROM volume WHERE uuid = ? AND removed IS NULL', volumeUuid);
      assertVisible(this.ctx, scope, 'volume', volumeUuid, vol);
      if (vol!.vm_id === null) throw new InvalidParameterError(`volume ${volumeUuid} is not attached`);
      if (vol!.volume_type === 'ROOT') throw new InvalidParameterError('a ROOT volume cannot be detached');
      this.ctx.run('UPDATE volume SET vm_id = NULL, device_id = NULL, attached = NULL WHERE id = ?', vol!.id);
      this.events.record({ type: 'VOLUME.DETACH', description: `detached volume ${volumeUuid}`, accountId: vol!.account_id,
        domainId: vol!.domain_id, userId: actingUser(this.ctx, scope), resourceType: 'Volume', resourceUuid: volumeUuid });
      return this.get(SYSTEM, volumeUuid);
    });
  }

  /**
   * Applies a Volume.State event with optional path/format. Reaching Expunged returns the volume's bytes
   * to its pool and removes it, in the same transaction.
   */
  transition(scope: Scope, uuid: string, event: string, options: { expect?: VolumeState; path?: string; format?: string } = {}): Volume {
    return this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; account_id: number; domain_id: number }>(
        'SELECT id, account_id, domain_id FROM volume WHERE uuid = ? AND removed IS NULL', uuid);
      assertVisible(this.ctx, scope, 'volume', uuid, vol);
      const set: Record<string, unknown> = {};
      if (options.path !== undefined) set.path = options.path;
      if (options.format !== undefined) set.format = options.format;
      const { to } = applyTransition(this.ctx, { machine: VOLUME_MACHINE, table: 'volume', column: 'state', id: vol!.id,
        uuid, event, expect: options.expect, set });
      if (to === 'Expunged') this.expunged(vol!.id);
      return getOwned(this.ctx, this.spec, SYSTEM, 'volume', uuid, '1').item;
    });
  }

  /** deleteVolume: a detached volume is expunged at once (the storage component frees it on the pool). */
  delete(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; account_id: number; domain_id: number; vm_id: number | null; state: string; name: string }>(
        'SELECT id, account_id, domain_id, vm_id, state, name FROM volume WHERE uuid = ? AND removed IS NULL', uuid);
      assertVisible(this.ctx, scope, 'volume', uuid, vol);
      if (vol!.vm_id !== null) throw new ResourceInUseError(`volume ${uuid} is attached to a VM: detach it first`);
      let state = vol!.state;
      for (const event of EXPUNGE_PATH) {
        if (state === 'Expunged') break;
        if (VOLUME_MACHINE.transitions[state]?.[event] === undefined) continue;
        state = applyTransition(this.ctx, { machine: VOLUME_MACHINE, table: 'volume', column: 'state', id: vol!.id, uuid,
          event }).to;
      }
      if (state !== 'Expunged') throw new ResourceInUseError(`volume ${uuid} is ${vol!.state} and cannot be deleted now`);
      this.expunged(vol!.id);
      this.events.record({ type: 'VOLUME.DELETE', description: `deleted volume ${vol!.name}`, accountId: vol!.account_id,
        domainId: vol!.domain_id, userId: actingUser(this.ctx, scope), resourceType: 'Volume', resourceUuid: uuid });
    });
  }

  /** Sets a volume's size in bytes (after a resize), checking its pool's capacity for growth. */
  setSize(uuid: string, bytes: number): Volume {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new InvalidParameterError('size must be a positive number of bytes');
    return this.ctx.tx(() => {
      this.allocator.resizeOnPool(this.ctx.requireId('volume', uuid, 'volume'), bytes);
      return this.get(SYSTEM, uuid);
    });
  }

  /**
   * When a VM is expunged: its ROOT volumes are expunged (their bytes return to the pool) and its data
   * disks are detached, so no volume is left pointing at a removed VM. Inside the caller's transaction.
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  releaseForVm(vmId: number): void {
    // Bounded: one VM's volumes (MAX_VOLUMES).
    const vols = this.ctx.all<{ id: number; uuid: string; volume_type: string; state: string }>(
      'SELECT id, uuid, volume_type, state FROM volume WHERE vm_id = ? AND removed IS NULL', vmId);
    for (const v of vols) {
      if (v.volume_type !== 'ROOT') {
        this.ctx.run('UPDATE volume SET vm_id = NULL, device_id = NULL, attached = NULL WHERE id = ?', v.id);
        continue;
      }
      let state = v.state;
      for (const event of EXPUNGE_PATH) {
        if (VOLUME_MACHINE.transitions[state]?.[event] === undefined) continue;
        state = applyTransition(this.ctx, { machine: VOLUME_MACHINE, table: 'volume', column: 'state', id: v.id,
          uuid: v.uuid, event }).to;
      }
      if (state !== 'Expunged') {
        throw new ResourceInUseError(`the VM's ROOT volume ${v.uuid} is ${v.state}; wait for its operation to finish`);
      }
      this.expunged(v.id);
    }
  }

  private expunged(volumeId: number): void {
    this.allocator.releasePoolById(volumeId);
    this.ctx.run('UPDATE volume SET removed = ?, vm_id = NULL, device_id = NULL WHERE id = ?', this.ctx.now(), volumeId);
    this.ctx.run("DELETE FROM resource_tag WHERE resource_type = 'Volume' AND resource_id = ?", volumeId);
  }

  private nextDevice(vmId: number): number {
    // Bounded: one VM's volumes (MAX_VOLUMES).
    const used = new Set(this.ctx.all<{ device_id: number }>(
      'SELECT device_id FROM volume WHERE vm_id = ? AND removed IS NULL AND device_id IS NOT NULL', vmId).map((r) => r.device_id));
    let d = 1;
    while (used.has(d) || d === 3) d++;
    return d;
  }


}
