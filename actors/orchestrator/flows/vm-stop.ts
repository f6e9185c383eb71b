import { CloudstackdError, IllegalStateError } from '../../../src/errors.js';
import { SYSTEM, findVm, vmState, type VirtualMachine } from '../vm-state.js';
import { vmVolumes } from '../vm-spec.js';
import type { FlowEnv } from './flow.js';

/**
 * Running → Stopping → Stopped: the host's agent stops the VM, then the VM leaves the host (its
 * capacity is released in the same transaction). A `forced` stop marks the VM Stopped even when the
 * agent cannot be reached, as CloudStack's forced stop does. A Stopped VM is answered as it is.
 */
export async function stopVm(env: FlowEnv, vmid: string, forced: boolean, p: string): Promise<VirtualMachine> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(SYSTEM, vmid);
  if (vm.state === 'Stopped' && !ctx.has(`${p}.stopping`)) return vm;
  if (vm.state !== 'Running' && vm.state !== 'Stopping' && !ctx.has(`${p}.stopping`)) {
    throw new IllegalStateError(`VM ${vm.name} is ${vm.state}: only a Running VM can be stopped`);
  }
  const begin = ctx.mark();
  const host = await ctx.step(`${p}.stopping`, async () => {
    const before = vm.hostname ?? null;
    await vmState(c.data, vmid, 'StopRequested', { from: vm.state === 'Stopping' ? 'Stopping' : 'Running', to: 'Stopping' });
    return before;
  }, () => ({ op: 'vmState', args: { vmid, event: 'OperationFailed', to: 'Running' } }));
  if (host !== null) {
    await ctx.step(`${p}.agent`, async (key) => {
      try {
        return (await c.compute(host, 'stopVm', { key, vmUuid: vmid, forced }, key)).wasRunning;
      } catch (err) {
        if (!forced) throw err;
        c.log.warn('forced stop: the agent did not confirm; the VM is marked Stopped', { vm: vmid, host, error: (err as Error).message });
        return false;
      }
    });
  }
  await ctx.step(`${p}.stopped`, async () => { await vmState(c.data, vmid, 'OperationSucceeded', { from: 'Stopping', to: 'Stopped' }); return true; });
  await ctx.commit(begin);
  return c.data.vms.get(SYSTEM, vmid);
}

/** RebootCommand on the VM's host, then the VM.REBOOT event. */
export async function rebootVm(env: FlowEnv, vmid: string): Promise<VirtualMachine> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(SYSTEM, vmid);
  if (vm.state !== 'Running' || vm.hostname === undefined) {
    throw new IllegalStateError(`VM ${vm.name} is ${vm.state}: only a Running VM can be rebooted`);
  }
  const host = vm.hostname;
  await ctx.step('reboot.agent', async (key) => { await c.compute(host, 'rebootVm', { key, vmUuid: vmid }, key); return true; });
  await ctx.step('reboot.event', async () => { await c.data.vmOps.transition(SYSTEM, vmid, 'RebootRequested', { expect: 'Running' }); return true; });
  return c.data.vms.get(SYSTEM, vmid);
}

/**
 * destroyVirtualMachine: a Running VM is stopped first, then Destroyed (recoverable) — or, with
 * `expunge`, expunged at once. An Error VM goes straight to Expunging, as in CloudStack.
 */
export async function destroyVm(env: FlowEnv, vmid: string, expunge: boolean): Promise<VirtualMachine | undefined> {
  const { ctx, c } = env;
  let vm = await findVm(c.data, vmid);
  if (vm === undefined) return undefined; // expunged by an earlier run of this job
  if (vm.state === 'Running' || vm.state === 'Stopping') vm = await stopVm(env, vmid, false, 'destroy.stop');
  if (vm.state === 'Stopped') {
    await ctx.step('destroy.destroyed', async () => { await vmState(c.data, vmid, 'DestroyRequested', { from: 'Stopped', to: 'Destroyed' }); return true; });
    vm = await c.data.vms.get(SYSTEM, vmid);
  }
  if (vm.state === 'Destroyed' && !expunge) return vm;
  if (vm.state !== 'Destroyed' && vm.state !== 'Error' && vm.state !== 'Expunging') {
    throw new IllegalStateError(`VM ${vm.name} is ${vm.state}: it cannot be destroyed now`);
  }
  return expungeVm(env, vmid);
}

/**
 * Destroyed or Error → Expunging, then the VM's NIC addresses go back to their networks, its ROOT
 * volumes are destroyed on their pools, and the VM is removed (data disks are detached and kept).
 * Returns the VM as it was when expunging began.
 */
export async function expungeVm(env: FlowEnv, vmid: string): Promise<VirtualMachine | undefined> {
  const { ctx, c } = env;
  const vm = await findVm(c.data, vmid);
  if (vm === undefined) return undefined;
  if (vm.state !== 'Expunging') {
    if (vm.state !== 'Destroyed' && vm.state !== 'Error') {
      throw new IllegalStateError(`VM ${vm.name} is ${vm.state}: destroy it before expunging it`);
    }
    await ctx.step('expunge.begin', async () => { await vmState(c.data, vmid, 'ExpungeOperation', { to: 'Expunging' }); return true; });
  }
  for (const nic of vm.nic) {
    await ctx.step(`expunge.nic.${nic.id}`, async (key) => { await c.network('releaseNic', { key, nicid: nic.id }); return true; });
  }
  const roots = (await vmVolumes(c.data, vmid)).filter((v) => v.type === 'ROOT');
  const lastHost = vm.hostid ?? vm.lasthostid;
  if (lastHost !== undefined && roots.length > 0) {
    // A root disk on a host's own storage (a KVM local pool) is a file there: that host removes it.
    await ctx.step('expunge.files', async (key) => {
      try {
        const host = (await c.data.hosts.get(lastHost)).name;
        return (await c.compute(host, 'deleteVolumes', { key, volumeUuids: roots.map((v) => v.id) }, key)).deleted.length;
      } catch (err) {
        c.log.warn('the last host of an expunged VM did not remove its root disk file; remove it there by hand', {
          vm: vmid, host: lastHost, volumes: roots.map((v) => v.id).join(','), error: (err as Error).message });
        return 0;
      }
    });
  }
  for (const v of roots) {
    await ctx.step(`expunge.vol.${v.id}`, async (key) => { await c.storage('destroyVolume', { key, volumeid: v.id }); return true; });
  }
  await ctx.step('expunge.removed', async () => {
    try {
      await c.data.vmOps.markExpunged(SYSTEM, vmid);
    } catch (err) {
      if (!(err instanceof CloudstackdError && err.code === 'NOT_FOUND')) throw err;
    }
    return true;
  });
  return { ...vm, state: 'Expunging' };
}
