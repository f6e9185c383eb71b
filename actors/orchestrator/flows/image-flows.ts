import { SYSTEM } from '../vm-state.js';
import { SUCCESS, object, type Flow } from './flow.js';

/**
 * Template and ISO jobs. Copying and creating images happen on the zones' secondary storage, which
 * the simulator's image stores stand for (they keep no bytes): the job records the copy or the new
 * template as Ready once the store has it, and undoes its entries when it fails.
 */

export const deleteTemplateFlow: Flow<'deleteTemplate'> = {
  lock: async (req) => `template:${req.templateid}`,
  async run(env, req) {
    await env.ctx.step('delete', async () => {
      await env.c.data.templateAdmin.remove(req.caller, req.templateid, req.iso, req.zoneid, req.forced ?? false);
      return true;
    });
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

export const createTemplateFlow: Flow<'createTemplate'> = {
  lock: async (req) => req.volumeid ?? req.snapshotid,
  async run(env) {
    const id = env.ctx.get<string>('created')!;
    await env.ctx.step('finish', async () => { await env.c.data.templateAdmin.finishCreate(id); return true; });
    return object('template', await env.c.data.templates.get(SYSTEM, id));
  },
  async failed(env) {
    const id = env.ctx.get<string>('created');
    if (id !== undefined) await env.c.data.templateAdmin.abandonCreate(id);
  },
};

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
