import { InvalidParameterError, PermissionDeniedError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { SYSTEM, assertVisible, canSee, resolveCaller, type Scope } from '../scoping.js';
import { boolInt, updateColumns } from './common.js';
import type { Template, TemplateRepository } from './templates.js';
import type { TagRepository } from './tags.js';

export interface UpdateTemplateInput {
  name?: string;
  displaytext?: string;
  ostypeid?: string;
  passwordenabled?: boolean;
  sshkeyenabled?: boolean;
  isdynamicallyscalable?: boolean;
  bootable?: boolean;
  requireshvm?: boolean;
}

export interface CreateTemplateInput {
  name: string;
  displaytext?: string;
  ostypeid?: string;
  /** The source: a volume (its VM must be stopped) or a snapshot. */
  volumeid?: string;
  snapshotid?: string;
  ispublic?: boolean;
  isfeatured?: boolean;
  passwordenabled?: boolean;
  sshkeyenabled?: boolean;
  isdynamicallyscalable?: boolean;
}

interface Row {
  id: number;
  is_public: number;
  account_id: number;
  domain_id: number;
  is_iso: number;
  template_type: string;
  name: string;
}

/**
 * The changes to templates and ISOs after registration: update, delete (per zone or everywhere),
 * copy to other zones, create from a volume or snapshot, and attaching an ISO to a VM. A template is
 * changed only by its owner (or an admin over it); system and built-in ones only by the root admin.
 */
export class TemplateAdminRepository {
  constructor(private readonly ctx: StoreContext, private readonly templates: TemplateRepository, private readonly tags: TagRepository) {}

  update(scope: Scope, uuid: string, iso: boolean, patch: UpdateTemplateInput): Template {
    return this.ctx.tx(() => {
      const t = this.owned(scope, uuid, iso);
      const osId = patch.ostypeid === undefined ? undefined : this.ctx.requireId('os_type', patch.ostypeid, 'os type');
      if (patch.name !== undefined && patch.name.trim() === '') throw new InvalidParameterError('a template name cannot be empty');
      const cols = updateColumns({ name: patch.name, display_text: patch.displaytext, os_type_id: osId,
        password_enabled: opt(patch.passwordenabled), sshkey_enabled: opt(patch.sshkeyenabled),
        is_dynamically_scalable: opt(patch.isdynamicallyscalable), bootable: opt(patch.bootable), requires_hvm: opt(patch.requireshvm) });
      if (cols.sql !== '') this.ctx.run(`UPDATE template SET ${cols.sql} WHERE id = ?`, ...cols.args, t.id);
      return this.templates.get(SYSTEM, uuid);
    });
  }

  /**
   * deleteTemplate / deleteIso: from one zone, or everywhere. In use by a live VM (deployed from it, or
   * the ISO attached) it is refused unless `forced`, as CloudStack refuses it.
   */
  remove(scope: Scope, uuid: string, iso: boolean, zoneUuid: string | undefined, forced: boolean): void {
    this.ctx.tx(() => {
      const t = this.owned(scope, uuid, iso);
      const users = this.ctx.all<{ uuid: string }>(`SELECT uuid FROM vm_instance WHERE removed IS NULL AND state NOT IN ('Expunging')
        AND ${iso ? 'iso_id' : 'template_id'} = ? LIMIT 10`, t.id).map((r) => r.uuid);
      if (users.length > 0 && (iso || !forced)) {
        throw new InvalidParameterError(iso ? `Unable to delete iso ${t.name}: it is attached to VMs [${users.join(', ')}]; detach it first`
          : `Unable to delete template with id: ${uuid} because VM instances: [${users.join(', ')}] are using it.`);
      }
      if (zoneUuid !== undefined) {
        const zid = this.ctx.requireId('zone', zoneUuid, 'zone');
        const r = this.ctx.run('DELETE FROM template_zone WHERE template_id = ? AND zone_id = ?', t.id, zid);
        if (r.changes === 0) throw new InvalidParameterError(`${iso ? 'ISO' : 'template'} ${uuid} is not in zone ${zoneUuid}`);
      } else {
        this.ctx.run('DELETE FROM template_zone WHERE template_id = ?', t.id);
      }
      const left = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM template_zone WHERE template_id = ?', t.id)!.n;
      if (left === 0) {
        this.ctx.run('UPDATE template SET removed = ? WHERE id = ?', this.ctx.now(), t.id);
        this.tags.purge(iso ? 'ISO' : 'Template', t.id);
      }
    });
  }

  /** copyTemplate/copyIso: the destination zones get an entry being copied from a Ready source. */
  startCopy(scope: Scope, uuid: string, iso: boolean, sourceZone: string | undefined, destZones: readonly string[]): void {
    this.ctx.tx(() => {
      const t = this.visible(scope, uuid, iso);
      const src = this.ctx.one<{ zone_id: number; physical_size: number | null }>(`SELECT zone_id, physical_size FROM template_zone
        WHERE template_id = ? AND is_ready = 1 ${sourceZone === undefined ? '' : 'AND zone_id = ?'} ORDER BY zone_id LIMIT 1`,
      ...(sourceZone === undefined ? [t.id] : [t.id, this.ctx.requireId('zone', sourceZone, 'zone')]));
      if (src === undefined) throw new InvalidParameterError(`${iso ? 'ISO' : 'Template'} ${uuid} is not ready in ${sourceZone === undefined ? 'any zone' : `zone ${sourceZone}`}: nothing to copy from`);
      if (destZones.length === 0) throw new InvalidParameterError('Please specify a valid destination zone.');
      for (const z of destZones) {
        const zid = this.ctx.requireId('zone', z, 'zone');
        if (zid === src.zone_id) throw new InvalidParameterError('Please specify different source and destination zones.');
        const exists = this.ctx.one<{ is_ready: number }>('SELECT is_ready FROM template_zone WHERE template_id = ? AND zone_id = ?', t.id, zid);
        if (exists !== undefined) throw new InvalidParameterError(`${iso ? 'ISO' : 'Template'} ${uuid} already exists in zone ${z}`);
        this.ctx.run(`INSERT INTO template_zone (template_id, zone_id, status, is_ready, download_state, physical_size, created)
          VALUES (?, ?, 'Copying', 0, 'COPY_IN_PROGRESS', ?, ?)`, t.id, zid, src.physical_size, this.ctx.now());
      }
    });
  }

  /** The copies to `destZones` are on their secondary storage: Ready there. */
  finishCopy(uuid: string, destZones: readonly string[]): void {
    for (const z of destZones) {
      this.ctx.run(`UPDATE template_zone SET status = 'Download Complete', is_ready = 1, download_state = 'DOWNLOADED'
        WHERE template_id = (SELECT id FROM template WHERE uuid = ?) AND zone_id = (SELECT id FROM zone WHERE uuid = ?)`, uuid, z);
    }
  }

  /** Undoes a copy that failed: the destination entries go. */
  abandonCopy(uuid: string, destZones: readonly string[]): void {
    for (const z of destZones) {
      this.ctx.run(`DELETE FROM template_zone WHERE is_ready = 0 AND template_id = (SELECT id FROM template WHERE uuid = ?)
        AND zone_id = (SELECT id FROM zone WHERE uuid = ?)`, uuid, z);
    }
  }

  /**
   * createTemplate's create phase: the template (not ready, "Creating") in the source's zone, owned by
   * the source's account, with its size. The VM of a source volume must be stopped.
   */
  createFrom(scope: Scope, input: CreateTemplateInput): string {
    return this.ctx.tx(() => {
      if ((input.volumeid === undefined) === (input.snapshotid === undefined)) {
        throw new InvalidParameterError('Failed to create template: specify exactly one of volumeid and snapshotid');
      }
      const src = input.volumeid !== undefined ? this.volumeSource(scope, input.volumeid) : this.snapshotSource(scope, input.snapshotid!);
      if (input.isfeatured === true && scope !== SYSTEM && resolveCaller(this.ctx, scope).role !== 'admin') {
        throw new PermissionDeniedError('only the root admin can create a featured template');
      }
      const osId = input.ostypeid === undefined ? src.os : this.ctx.requireId('os_type', input.ostypeid, 'os type');
      const uuid = this.ctx.uuid();
      const now = this.ctx.now();
      const r = this.ctx.run(`INSERT INTO template (uuid, name, display_text, is_iso, format, template_type, hypervisor, os_type_id,
        account_id, domain_id, is_public, is_featured, password_enabled, sshkey_enabled, is_dynamically_scalable, size, created)
        VALUES (?, ?, ?, 0, ?, 'USER', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid, input.name, input.displaytext ?? input.name,
      src.format, src.hypervisor, osId, src.account, src.domain, boolInt(input.ispublic), boolInt(input.isfeatured),
      boolInt(input.passwordenabled), boolInt(input.sshkeyenabled), boolInt(input.isdynamicallyscalable), src.size, now);
      this.ctx.run(`INSERT INTO template_zone (template_id, zone_id, status, is_ready, download_state, created)
        VALUES (?, ?, 'Creating', 0, 'CREATING', ?)`, Number(r.lastInsertRowid), src.zone, now);
      return uuid;
    });
  }

  /**
   * The new template's image is stored: Ready. `physicalSize`: the bytes of its file, where a host wrote
   * one (KVM); without it the template's size stands for them (the simulator keeps no bytes).
   */
  finishCreate(uuid: string, physicalSize?: number): void {
    this.ctx.run(`UPDATE template_zone SET status = 'Download Complete', is_ready = 1, download_state = 'DOWNLOADED',
      physical_size = COALESCE(?, (SELECT size FROM template WHERE uuid = ?)) WHERE template_id = (SELECT id FROM template WHERE uuid = ?)`,
    physicalSize ?? null, uuid, uuid);
  }

  /** A creation that failed leaves nothing. */
  abandonCreate(uuid: string): void {
    this.ctx.tx(() => {
      const id = this.ctx.idOf('template', uuid);
      if (id === undefined) return;
      this.ctx.run('DELETE FROM template_zone WHERE template_id = ?', id);
      this.ctx.run('UPDATE template SET removed = ? WHERE id = ?', this.ctx.now(), id);
    });
  }

  /** attachIso: the ISO must be ready in the VM's zone and visible to the caller; one ISO per VM. */
  attachIso(scope: Scope, vmUuid: string, isoUuid: string): void {
    this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; iso_id: number | null; state: string; zone_id: number; name: string }>(
        'SELECT id, account_id, domain_id, iso_id, state, zone_id, name FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
      const iso = this.ctx.one<{ id: number; account_id: number; domain_id: number; is_public: number; is_iso: number }>(
        'SELECT id, account_id, domain_id, is_public, is_iso FROM template WHERE uuid = ? AND removed IS NULL', isoUuid);
      if (iso === undefined || iso.is_iso !== 1 || (iso.is_public !== 1 && iso.account_id !== vm!.account_id)) {
        throw new InvalidParameterError(`Unable to find an ISO with id ${isoUuid} available to the VM's account`);
      }
      if (vm!.state !== 'Running' && vm!.state !== 'Stopped') throw new InvalidParameterError(`VM ${vm!.name} is ${vm!.state}: ISOs attach to Running or Stopped VMs`);
      if (vm!.iso_id !== null) throw new InvalidParameterError(`VM ${vm!.name} already has an ISO attached: detach it first`);
      const ready = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM template_zone WHERE template_id = ? AND zone_id = ? AND is_ready = 1',
        iso.id, vm!.zone_id)!.n;
      if (ready === 0) throw new InvalidParameterError(`ISO ${isoUuid} is not ready in the VM's zone`);
      this.ctx.run('UPDATE vm_instance SET iso_id = ? WHERE id = ?', iso.id, vm!.id);
    });
  }

  detachIso(scope: Scope, vmUuid: string): void {
    this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; iso_id: number | null; name: string }>(
        'SELECT id, account_id, domain_id, iso_id, name FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
      if (vm!.iso_id === null) throw new InvalidParameterError(`VM ${vm!.name} has no ISO attached`);
      this.ctx.run('UPDATE vm_instance SET iso_id = NULL WHERE id = ?', vm!.id);
    });
  }

  private volumeSource(scope: Scope, volumeUuid: string): Source {
    const v = this.ctx.one<{ account_id: number; domain_id: number; zone_id: number; size: number; state: string; vm_state: string | null;
      format: string | null; os: number | null; hypervisor: string | null; vtype: string; name: string }>(`SELECT v.account_id, v.domain_id, v.zone_id, v.size, v.name,
      v.state, vm.state AS vm_state, v.format, vm.os_type_id AS os, vm.hypervisor, v.volume_type AS vtype FROM volume v
      LEFT JOIN vm_instance vm ON vm.id = v.vm_id WHERE v.uuid = ? AND v.removed IS NULL`, volumeUuid);
    assertVisible(this.ctx, scope, 'volume', volumeUuid, v);
    if (v!.state !== 'Ready') throw new InvalidParameterError(`Volume ${volumeUuid} is ${v!.state}, not Ready: it has nothing on storage to create a template from`);
    if (v!.vm_state !== null && v!.vm_state !== 'Stopped') {
      // CloudStack's words (TemplateManagerImpl): a template is made of a volume nothing writes to.
      throw new InvalidParameterError(`Unable to create private template for volume: ${v!.name}; volume is attached to a non-stopped VM, please stop the VM first`);
    }
    return { account: v!.account_id, domain: v!.domain_id, zone: v!.zone_id, size: v!.size, format: v!.format ?? 'QCOW2', os: v!.os, hypervisor: v!.hypervisor };
  }

  private snapshotSource(scope: Scope, snapshotUuid: string): Source {
    const s = this.ctx.one<{ account_id: number; domain_id: number; zone_id: number; virtual_size: number | null; state: string; size: number;
      os: number | null; hypervisor: string | null }>(`SELECT s.account_id, s.domain_id, s.zone_id, s.virtual_size, s.state, v.size,
      vm.os_type_id AS os, vm.hypervisor FROM snapshot s JOIN volume v ON v.id = s.volume_id LEFT JOIN vm_instance vm ON vm.id = v.vm_id
      WHERE s.uuid = ? AND s.removed IS NULL`, snapshotUuid);
    assertVisible(this.ctx, scope, 'snapshot', snapshotUuid, s);
    if (s!.state !== 'BackedUp') throw new InvalidParameterError(`Snapshot ${snapshotUuid} is ${s!.state}, not BackedUp`);
    return { account: s!.account_id, domain: s!.domain_id, zone: s!.zone_id, size: s!.virtual_size ?? s!.size, format: 'QCOW2', os: s!.os, hypervisor: s!.hypervisor };
  }

  private visible(scope: Scope, uuid: string, iso: boolean): Row {
    const t = this.ctx.one<Row>('SELECT id, account_id, domain_id, is_iso, is_public, template_type, name FROM template WHERE uuid = ? AND removed IS NULL', uuid);
    if (t === undefined || (t.is_iso === 1) !== iso) throw new InvalidParameterError(`Unable to find ${iso ? 'ISO' : 'template'} with id ${uuid}`);
    return t;
  }

  private owned(scope: Scope, uuid: string, iso: boolean): Row {
    const t = this.visible(scope, uuid, iso);
    // A public image others can list but not change is a permission error, not a missing one.
    if (t.is_public === 1 && !canSee(this.ctx, scope, t.account_id, t.domain_id)) {
      throw new PermissionDeniedError(`Account does not have permission to change ${iso ? 'ISO' : 'template'} ${t.name}: it belongs to another account`);
    }
    assertVisible(this.ctx, scope, iso ? 'ISO' : 'template', uuid, t);
    if (['SYSTEM', 'BUILTIN', 'ROUTING'].includes(t.template_type) && scope !== SYSTEM && resolveCaller(this.ctx, scope).role !== 'admin') {
      throw new PermissionDeniedError(`only the root admin can change the ${t.template_type} template ${t.name}`);
    }
    return t;
  }
}

interface Source {
  account: number;
  domain: number;
  zone: number;
  size: number;
  format: string;
  os: number | null;
  hypervisor: string | null;
}

function opt(v: boolean | undefined): number | undefined {
  return v === undefined ? undefined : v ? 1 : 0;
}
