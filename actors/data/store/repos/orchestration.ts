import { IllegalStateError, NotFoundError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';

/** What a VM start needs beyond the VM response: private fields that are never listed. */
export interface VmStartDetails {
  /** Base64 user data as given at deploy. */
  userdata?: string;
  /** The password set at deploy or reset (password-enabled templates only). */
  password?: string;
  /** The public key of the VM's key pair, when it has one. */
  sshpublickey?: string;
}

/** A template's copy on a primary storage pool. */
export interface TemplateOnPool {
  /** Where the copy lives on the pool. */
  path: string;
  /** True when this call made the copy (the first volume from this template on this pool). */
  copied: boolean;
}

/**
 * The store operations of the orchestration engine (issue 7) that the resource repositories do not
 * have: a VM's private start details, template copies on primary pools (copied once, cloned per
 * volume), and re-imaging a ROOT volume from a template (restoreVirtualMachine).
 */
export class OrchestrationRepository {
  constructor(private readonly ctx: StoreContext) {}

  vmDetails(vmUuid: string): VmStartDetails {
    const vm = this.ctx.one<{ account_id: number; user_data: string | null; password: string | null; keypair: string | null }>(
      'SELECT account_id, user_data, password, keypair FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
    if (vm === undefined) throw new NotFoundError(`Unable to find virtual machine with id ${vmUuid}`);
    const out: VmStartDetails = {};
    if (vm.user_data !== null) out.userdata = vm.user_data;
    if (vm.password !== null) out.password = vm.password;
    if (vm.keypair !== null) {
      const key = this.ctx.one<{ public_key: string }>('SELECT public_key FROM ssh_keypair WHERE account_id = ? AND name = ?',
        vm.account_id, vm.keypair);
      if (key !== undefined) out.sshpublickey = key.public_key;
    }
    return out;
  }

  /** Records the template's copy on the pool unless it is there already (idempotent). */
  templateOnPool(templateUuid: string, poolUuid: string): TemplateOnPool {
    return this.ctx.tx(() => {
      const tpl = this.ctx.one<{ id: number; size: number | null }>('SELECT id, size FROM template WHERE uuid = ?', templateUuid);
      if (tpl === undefined) throw new NotFoundError(`Unable to find template with id ${templateUuid}`);
      const poolId = this.ctx.requireId('storage_pool', poolUuid, 'storage pool');
      const held = this.ctx.one<{ install_path: string }>(
        'SELECT install_path FROM template_pool WHERE template_id = ? AND pool_id = ?', tpl.id, poolId);
      if (held !== undefined) return { path: held.install_path, copied: false };
      const path = `template/tmpl/${templateUuid}`;
      this.ctx.run('INSERT INTO template_pool (template_id, pool_id, install_path, size, created) VALUES (?, ?, ?, ?, ?)',
        tpl.id, poolId, path, tpl.size ?? 0, this.ctx.now());
      return { path, copied: true };
    });
  }

  /** How many pools hold a copy of the template (tests and capacity reports). */
  templateCopies(templateUuid: string): number {
    return this.ctx.one<{ n: number }>(`SELECT count(*) AS n FROM template_pool tp JOIN template t ON t.id = tp.template_id
      WHERE t.uuid = ?`, templateUuid)!.n;
  }

  /**
   * Points a Ready ROOT volume at a new clone of a template (restoreVirtualMachine): the volume keeps its
   * id and pool, its path and template change.
   */
  reimageVolume(volumeUuid: string, templateUuid: string, path: string): void {
    this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; state: string; volume_type: string }>(
        'SELECT id, state, volume_type FROM volume WHERE uuid = ? AND removed IS NULL', volumeUuid);
      if (vol === undefined) throw new NotFoundError(`Unable to find volume with id ${volumeUuid}`);
      if (vol.volume_type !== 'ROOT') throw new IllegalStateError(`volume ${volumeUuid} is not a ROOT volume`);
      if (vol.state !== 'Ready' && vol.state !== 'Allocated') {
        throw new IllegalStateError(`volume ${volumeUuid} is ${vol.state}; it can be re-imaged when Ready or Allocated`);
      }
      const templateId = this.ctx.requireId('template', templateUuid, 'template');
      this.ctx.run('UPDATE volume SET template_id = ?, path = ? WHERE id = ?', templateId,
        vol.state === 'Ready' ? path : null, vol.id);
    });
  }
}
