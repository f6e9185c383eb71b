import { InvalidParameterError, IllegalStateError } from '../../../src/errors.js';
import type { Caller } from '../../data/protocol.js';
import { SYSTEM, vmState, type VirtualMachine } from '../vm-state.js';
import { buildSpec, vmVolumes } from '../vm-spec.js';
import type { FlowEnv } from './flow.js';
import { startVm } from './vm-start.js';
import { stopVm } from './vm-stop.js';

/** Password characters without look-alikes (0/O, 1/l/I). */
const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Length of generated VM passwords (CloudStack's vm.password.length default is 6; longer is safer). */
export const PASSWORD_LENGTH = 12;

export function newPassword(env: Pick<FlowEnv['c'], 'random'>): string {
  let s = '';
  for (let i = 0; i < PASSWORD_LENGTH; i++) s += PASSWORD_ALPHABET[env.random.int(PASSWORD_ALPHABET.length)];
  return s;
}

export interface ScaleInput {
  serviceofferingid: string;
  cpunumber?: number;
  cpuspeed?: number;
  memory?: number;
}

/**
 * scaleVirtualMachine: a Stopped VM takes the new offering (its next start reserves the new size). The
 * hypervisor driver interface has no live-scaling command, so a Running VM must be stopped first.
 */
export async function scaleVm(env: FlowEnv, caller: Caller, vmid: string, input: ScaleInput): Promise<VirtualMachine> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(SYSTEM, vmid);
  if (vm.state === 'Running' && !ctx.has('scale.applied')) {
    throw new InvalidParameterError(`Unable to scale VM ${vm.name} while it is Running: the hypervisor cannot scale a running VM; stop it first`);
  }
  await ctx.step('scale.applied', async () => {
    const s: Parameters<typeof c.data.vmOps.scale>[2] = { serviceofferingid: input.serviceofferingid };
    if (input.cpunumber !== undefined) s.cpunumber = input.cpunumber;
    if (input.cpuspeed !== undefined) s.cpuspeed = input.cpuspeed;
    if (input.memory !== undefined) s.memory = input.memory;
    await c.data.vmOps.scale(caller, vmid, s);
    return true;
  });
  return c.data.vms.get(SYSTEM, vmid);
}

/**
 * restoreVirtualMachine: the ROOT volume is cloned afresh from the template (the VM's, or a new one);
 * a Running VM is stopped first and started again afterwards.
 */
export async function restoreVm(env: FlowEnv, vmid: string, templateid: string | undefined): Promise<VirtualMachine> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(SYSTEM, vmid);
  const wasRunning = await ctx.step('restore.was', async () => vm.state === 'Running');
  if (!wasRunning && vm.state !== 'Stopped') throw new IllegalStateError(`VM ${vm.name} is ${vm.state}: only a Running or Stopped VM can be restored`);
  const template = templateid ?? vm.templateid;
  if (template === undefined) throw new InvalidParameterError(`VM ${vm.name} has no template to restore from; give templateid`);
  if (wasRunning) await stopVm(env, vmid, false, 'restore.stop');
  for (const v of await vmVolumes(c.data, vmid)) {
    if (v.type !== 'ROOT') continue;
    await ctx.step(`restore.root.${v.id}`, async (key) => { await c.storage('reimageVolume', { key, volumeid: v.id, templateid: template }); return true; });
  }
  if (template !== vm.templateid) {
    await ctx.step('restore.template', async () => { await c.data.vmOps.update(SYSTEM, vmid, { templateid: template }); return true; });
  }
  if (wasRunning) return startVm(env, vmid, { prefix: 'restore.start' });
  return c.data.vms.get(SYSTEM, vmid);
}

/** resetPasswordForVirtualMachine: a Stopped VM of a password-enabled template gets a new password. */
export async function resetPassword(env: FlowEnv, vmid: string): Promise<VirtualMachine & { password: string }> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(SYSTEM, vmid);
  if (!vm.passwordenabled) {
    throw new InvalidParameterError(`Fail to reset password for the virtual machine ${vm.name}, the template is not password enabled`);
  }
  if (vm.state !== 'Stopped' && !ctx.has('password.set')) {
    throw new InvalidParameterError(`VM ${vm.name} is ${vm.state}: stop it before resetting its password`);
  }
  const password = await ctx.step('password.set', async () => {
    const pw = newPassword(c);
    await c.data.vmOps.update(SYSTEM, vmid, { password: pw });
    return pw;
  });
  return { ...(await c.data.vms.get(SYSTEM, vmid)), password };
}

/**
 * migrateVirtualMachine (live): reserve the target, Running → Migrating, prepare on the target, move
 * from the source, finalize on the target, Migrating → Running there (the source's capacity is
 * released in that transition). Before the VM leaves the source every step rolls back; after it has
 * left, a failed finalize leaves the VM nowhere, so it is marked Stopped.
 */
export async function migrateVm(env: FlowEnv, vmid: string, hostid: string | undefined): Promise<VirtualMachine> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(SYSTEM, vmid);
  if (!ctx.has('migrate.migrating') && (vm.state !== 'Running' || vm.hostid === undefined || vm.hostname === undefined)) {
    throw new InvalidParameterError(`VM ${vm.name} is ${vm.state}: only a Running VM can be migrated`);
  }
  if (hostid !== undefined && hostid === vm.hostid) throw new InvalidParameterError(`VM ${vm.name} already runs on host ${hostid}`);
  const source = await ctx.step('migrate.source', async () => vm.hostname!);
  const target = await ctx.step('migrate.target', () => env.planner.reserveTarget(vm, hostid === undefined ? { avoid: [vm.hostid!] }
    : { avoid: [vm.hostid!], hostid }), (h) => ({ op: 'releaseHost', args: { vmid, hostid: h.hostid } }));
  await ctx.step('migrate.migrating', async () => { await vmState(c.data, vmid, 'MigrationRequested', { from: 'Running', to: 'Migrating' }); return true; },
    () => ({ op: 'vmState', args: { vmid, event: 'OperationFailed', to: 'Running' } }));
  await ctx.guarded('migrate.prepare', { op: 'abortMigration', args: { vmid, hostname: target.hostname } }, async (key) => {
    await c.compute(target.hostname, 'migrateVm', { phase: 'prepare', key, vm: await buildSpec(c.data, vmid), sourceHost: source }, key);
    return true;
  });
  await ctx.step('migrate.out', async (key) => {
    await c.compute(source, 'migrateVm', { phase: 'migrate', key, vmUuid: vmid, targetHost: target.hostname }, key);
    return true;
  });
  try {
    await ctx.step('migrate.finalize', async (key) => { await c.compute(target.hostname, 'migrateVm', { phase: 'finalize', key, vmUuid: vmid }, key); return true; });
  } catch (err) {
    // The VM left the source: nothing to roll back to. Drop what the target prepared and mark it Stopped.
    await ctx.commit({ order: 0, undo: 0 });
    await env.undo({ op: 'abortMigration', args: { vmid, hostname: target.hostname } }, ctx.key('migrate.abort'))
      .catch((e: unknown) => c.log.warn('could not abort a failed migration on its target', { vm: vmid, error: String(e) }));
    await vmState(c.data, vmid, 'AgentReportStopped', { from: 'Migrating', to: 'Stopped' });
    throw err;
  }
  await ctx.step('migrate.done', async () => {
    await vmState(c.data, vmid, 'OperationSucceeded', { from: 'Migrating', to: 'Running', hostid: target.hostid });
    return true;
  });
  await ctx.commit({ order: 0, undo: 0 });
  return c.data.vms.get(SYSTEM, vmid);
}
