import { InvalidParameterError } from '../../../src/errors.js';
import { SYSTEM } from '../vm-state.js';
import { SUCCESS, object, type Flow } from './flow.js';

/**
 * VM snapshot jobs, serialised with every other operation of their VM. The simulator's hypervisor
 * keeps no disks, so taking, reverting to and deleting a snapshot are its state changes; a failure
 * leaves the snapshot in CloudStack's failure state (Error when taking it, Ready otherwise).
 */

export const createVmSnapshotFlow: Flow<'createVmSnapshot'> = {
  lock: async (req) => req.vmid,
  async run(env) {
    const id = env.ctx.get<string>('created')!;
    await env.ctx.step('creating', async () => { await env.c.data.vmSnapshots.transition(id, 'CreateRequested'); return true; });
    await env.ctx.step('ready', async () => { await env.c.data.vmSnapshots.transition(id, 'OperationSucceeded'); return true; });
    return object('vmsnapshot', await env.c.data.vmSnapshots.get(SYSTEM, id));
  },
  async failed(env) {
    const id = env.ctx.get<string>('created');
    if (id !== undefined && env.ctx.has('creating')) await env.c.data.vmSnapshots.transition(id, 'OperationFailed');
  },
};

export const revertToVmSnapshotFlow: Flow<'revertToVmSnapshot'> = {
  lock: async (req, c) => (await c.data.vmSnapshots.get(SYSTEM, req.snapshotid).catch(() => undefined))?.virtualmachineid,
  async run(env, req) {
    const { ctx, c } = env;
    const snap = await c.data.vmSnapshots.get(req.caller, req.snapshotid);
    const vm = await c.data.vms.get(req.caller, snap.virtualmachineid);
    if (snap.state !== 'Ready') throw new InvalidParameterError(`VM Snapshot reverting failed due to vm snapshot ${snap.name} is ${snap.state}, not Ready`);
    if (snap.type === 'Disk' && vm.state !== 'Stopped') {
      throw new InvalidParameterError(`VM Snapshot reverting failed due to vm ${vm.name} is ${vm.state}: stop it to revert to a disk-only snapshot`);
    }
    await ctx.step('reverting', async () => { await c.data.vmSnapshots.transition(req.snapshotid, 'RevertRequested'); return true; });
    await ctx.step('ready', async () => { await c.data.vmSnapshots.transition(req.snapshotid, 'OperationSucceeded'); return true; });
    return object('virtualmachine', await c.data.vms.get(SYSTEM, snap.virtualmachineid));
  },
  async failed(env, req) {
    if (env.ctx.has('reverting') && !env.ctx.has('ready')) await env.c.data.vmSnapshots.transition(req.snapshotid, 'OperationFailed');
  },
};

export const deleteVmSnapshotFlow: Flow<'deleteVmSnapshot'> = {
  lock: async (req, c) => (await c.data.vmSnapshots.get(SYSTEM, req.snapshotid).catch(() => undefined))?.virtualmachineid,
  async run(env, req) {
    const { ctx, c } = env;
    const snap = await c.data.vmSnapshots.get(req.caller, req.snapshotid);
    if (snap.state !== 'Expunging') {
      await ctx.step('expunging', async () => { await c.data.vmSnapshots.transition(req.snapshotid, 'ExpungeRequested'); return true; });
    }
    await ctx.step('remove', async () => { await c.data.vmSnapshots.remove(req.snapshotid); return true; });
    return SUCCESS;
  },
};

export const VM_SNAPSHOT_FLOWS = {
  createVmSnapshot: createVmSnapshotFlow, revertToVmSnapshot: revertToVmSnapshotFlow, deleteVmSnapshot: deleteVmSnapshotFlow,
} as const;
