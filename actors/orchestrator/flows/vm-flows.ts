import { SYSTEM, findVm, vmState, type VirtualMachine } from '../vm-state.js';
import { vmVolumes } from '../vm-spec.js';
import { SUCCESS, object, type Flow, type FlowEnv, type JobOutcome } from './flow.js';
import { migrateVm, resetPassword, restoreVm, scaleVm } from './vm-change.js';
import { startVm, type StartOptions } from './vm-start.js';
import { destroyVm, expungeVm, rebootVm, stopVm } from './vm-stop.js';

/** The VM commands as jobs. Every one runs under its VM's lock: one operation per VM at a time. */

async function vmResult(env: FlowEnv, vm: VirtualMachine): Promise<JobOutcome> {
  // A password-enabled template's password is shown right after deploy or reset, never in lists.
  if (vm.passwordenabled) {
    const { password } = await env.c.data.orchestration.vmDetails(vm.id);
    if (password !== undefined) return object('virtualmachine', { ...vm, password });
  }
  return object('virtualmachine', vm);
}

const byVm = async (req: { vmid: string }): Promise<string> => req.vmid;

export const deployVmFlow: Flow<'deployVm'> = {
  lock: async () => undefined, // the runner locks the VM created in the create phase
  async run(env, req) {
    const vmid = env.ctx.get<string>('created')!;
    const vm = req.startvm ? await startVm(env, vmid, req.hostid === undefined ? { prefix: 'start' } : { prefix: 'start', hostid: req.hostid })
      : await env.c.data.vms.get(SYSTEM, vmid);
    return vmResult(env, vm);
  },
  /**
   * A failed first start puts the VM in Error and destroys its volumes (reference 6.1, step 5); the
   * rollback has already released its host capacity and NIC addresses.
   */
  async failed(env) {
    const { ctx, c } = env;
    const vmid = ctx.get<string>('created');
    if (vmid === undefined || (await findVm(c.data, vmid)) === undefined) return;
    await ctx.step('deploy.error', async () => { await vmState(c.data, vmid, 'OperationFailedToError', { from: 'Stopped', to: 'Error' }); return true; });
    for (const v of await vmVolumes(c.data, vmid)) {
      await ctx.step(`deploy.volume.${v.id}`, async (key) => { await c.storage('destroyVolume', { key, volumeid: v.id }); return true; });
    }
  },
};

export const startVmFlow: Flow<'startVm'> = {
  lock: byVm,
  async run(env, req) {
    const o: StartOptions = { prefix: 'start' };
    if (req.hostid !== undefined) o.hostid = req.hostid;
    if (req.podid !== undefined) o.podid = req.podid;
    if (req.clusterid !== undefined) o.clusterid = req.clusterid;
    return vmResult(env, await startVm(env, req.vmid, o));
  },
};

export const stopVmFlow: Flow<'stopVm'> = {
  lock: byVm,
  run: async (env, req) => object('virtualmachine', await stopVm(env, req.vmid, req.forced ?? false, 'stop')),
};

export const rebootVmFlow: Flow<'rebootVm'> = {
  lock: byVm,
  run: async (env, req) => object('virtualmachine', await rebootVm(env, req.vmid)),
};

export const destroyVmFlow: Flow<'destroyVm'> = {
  lock: byVm,
  async run(env, req) {
    const vm = await destroyVm(env, req.vmid, req.expunge ?? false);
    return vm === undefined ? SUCCESS : object('virtualmachine', vm);
  },
};

export const expungeVmFlow: Flow<'expungeVm'> = {
  lock: byVm,
  async run(env, req) {
    await expungeVm(env, req.vmid);
    return SUCCESS;
  },
};

export const scaleVmFlow: Flow<'scaleVm'> = {
  lock: byVm,
  async run(env, req) {
    const input: Parameters<typeof scaleVm>[3] = { serviceofferingid: req.serviceofferingid };
    if (req.cpunumber !== undefined) input.cpunumber = req.cpunumber;
    if (req.cpuspeed !== undefined) input.cpuspeed = req.cpuspeed;
    if (req.memory !== undefined) input.memory = req.memory;
    return object('virtualmachine', await scaleVm(env, req.caller, req.vmid, input));
  },
};

export const restoreVmFlow: Flow<'restoreVm'> = {
  lock: byVm,
  run: async (env, req) => vmResult(env, await restoreVm(env, req.vmid, req.templateid)),
};

export const migrateVmFlow: Flow<'migrateVm'> = {
  lock: byVm,
  run: async (env, req) => object('virtualmachine', await migrateVm(env, req.vmid, req.hostid)),
};

export const resetPasswordFlow: Flow<'resetPassword'> = {
  lock: byVm,
  run: async (env, req) => object('virtualmachine', await resetPassword(env, req.vmid)),
};
