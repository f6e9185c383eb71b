import { onKvm } from '../snapshot-files.js';
import { removeTemplateFiles, templateSourceHosts, writeTemplateFile } from '../template-files.js';
import { SYSTEM } from '../vm-state.js';
import { SUCCESS, object, type Flow, type FlowEnv } from './flow.js';

/**
 * Template and ISO jobs. Copying and creating images happen on the zones' secondary storage, which
 * the simulator's image stores stand for (they keep no bytes): the job records the copy or the new
 * template as Ready once the store has it, and undoes its entries when it fails. A template created from
 * a volume or snapshot on a KVM cluster's storage has real bytes: a host of that cluster writes its file
 * into the cluster's pool (template-files.ts), and deleteTemplate removes it.
 */

export const deleteTemplateFlow: Flow<'deleteTemplate'> = {
  lock: async (req) => `template:${req.templateid}`,
  async run(env, req) {
    const { ctx, c } = env;
    // The zones it leaves, and whether VMs still use it (forced): their root disks are clones of its file.
    const before = await ctx.step('delete.where', async () => {
      if (req.iso) return { zoneids: [] as string[], inUse: false };
      const zones = (await c.data.templates.list(SYSTEM, { id: req.templateid, templatefilter: 'all' })).items.map((t) => t.zoneid);
      const users = await c.data.vms.list(SYSTEM, { templateid: req.templateid, pagesize: 1 });
      return { zoneids: req.zoneid === undefined ? zones : [req.zoneid], inUse: users.items.length > 0 };
    });
    await ctx.step('delete', async () => {
      await c.data.templateAdmin.remove(req.caller, req.templateid, req.iso, req.zoneid, req.forced ?? false);
      return true;
    });
    if (before.zoneids.length > 0) {
      await ctx.step('delete.files', async (key) => {
        if (before.inUse) {
          c.log.warn('a template deleted while VMs use it keeps its file in KVM storage: it is the backing file of their root disks', { template: req.templateid });
          return true;
        }
        await removeTemplateFiles(c, req.templateid, before.zoneids, key);
        return true;
      });
    }
    return SUCCESS;
  },
};

export const copyTemplateFlow: Flow<'copyTemplate'> = {
  lock: async (req) => `template:${req.templateid}`,
  async run(env, req) {
    const { ctx, c } = env;
    await ctx.step('start', async () => {
      await c.data.templateAdmin.startCopy(req.caller, req.templateid, req.iso, req.sourcezoneid, req.destzoneids);
      return true;
    });
    await ctx.step('finish', async () => { await c.data.templateAdmin.finishCopy(req.templateid, req.destzoneids); return true; });
    // One template's zone entries: at most one per zone, so one page holds them (more would be refused, not cut).
    const copies = req.iso ? await c.data.templates.listIsos(SYSTEM, { id: req.templateid, isofilter: 'all' })
      : await c.data.templates.list(SYSTEM, { id: req.templateid, templatefilter: 'all' });
    const first = copies.items.find((t) => t.zoneid === req.destzoneids[0]) ?? copies.items[0];
    return object(req.iso ? 'iso' : 'template', first);
  },
  /** A copy that did not finish leaves no entry in the destination zones. */
  async failed(env, req) {
    if (env.ctx.has('start')) await env.c.data.templateAdmin.abandonCopy(req.templateid, req.destzoneids);
  },
};

/**
 * createTemplate: the template (Creating since the create phase) becomes Ready once its image is stored.
 * From a source on KVM storage, a host of the source's cluster first writes the template's file (a
 * volume of a running VM is refused there too: the create phase refused it already, but the VM may have
 * been started since). A failure removes the template, as CloudStack does, and any file a host made.
 */
export const createTemplateFlow: Flow<'createTemplate'> = {
  lock: async (req) => req.volumeid ?? req.snapshotid,
  async run(env, req) {
    const { ctx, c } = env;
    const id = ctx.get<string>('created')!;
    const kvm = await ctx.step('file.where', async () => onKvm(await templateSourceHosts(c, req)));
    let physicalSize: number | undefined;
    if (kvm) {
      const source = req.volumeid !== undefined ? { volumeUuid: req.volumeid } : { snapshotUuid: req.snapshotid! };
      physicalSize = (await ctx.step('file', async (key) =>
        writeTemplateFile(c, { templateid: id, source, hosts: await templateSourceHosts(c, req) }, key))).physicalSize;
    }
    await ctx.step('finish', async () => { await c.data.templateAdmin.finishCreate(id, physicalSize); return true; });
    return object('template', await c.data.templates.get(SYSTEM, id));
  },
  async failed(env, req) {
    const id = env.ctx.get<string>('created');
    if (id === undefined) return;
    if (env.ctx.has('file')) await dropCreatedFile(env, id, req);
    await env.c.data.templateAdmin.abandonCreate(id);
  },
};

/** A file written before a later step failed: removed with its template (a failed copy left none). */
async function dropCreatedFile(env: FlowEnv, id: string, req: { volumeid?: string | undefined; snapshotid?: string | undefined }): Promise<void> {
  const { c } = env;
  try {
    const zones = (await c.data.templates.list(SYSTEM, { id, templatefilter: 'all' })).items.map((t) => t.zoneid);
    await removeTemplateFiles(c, id, zones, `${env.ctx.jobId}:template-file-drop`);
  } catch (err) {
    c.log.warn('a failed template\'s file could not be removed; remove <storage dir>/templates/<template>.qcow2 by hand', {
      template: id, source: req.volumeid ?? req.snapshotid, error: (err as Error).message });
  }
}

export const attachIsoFlow: Flow<'attachIso'> = {
  lock: async (req) => req.vmid,
  async run(env, req) {
    await env.ctx.step('attach', async () => { await env.c.data.templateAdmin.attachIso(req.caller, req.vmid, req.isoid); return true; });
    return object('virtualmachine', await env.c.data.vms.get(SYSTEM, req.vmid));
  },
};

export const detachIsoFlow: Flow<'detachIso'> = {
  lock: async (req) => req.vmid,
  async run(env, req) {
    await env.ctx.step('detach', async () => { await env.c.data.templateAdmin.detachIso(req.caller, req.vmid); return true; });
    return object('virtualmachine', await env.c.data.vms.get(SYSTEM, req.vmid));
  },
};

export const IMAGE_FLOWS = {
  deleteTemplate: deleteTemplateFlow, copyTemplate: copyTemplateFlow, createTemplate: createTemplateFlow, attachIso: attachIsoFlow,
  detachIso: detachIsoFlow,
} as const;
