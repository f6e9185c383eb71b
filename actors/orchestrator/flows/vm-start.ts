import { CloudstackdError, InsufficientCapacityError, InvalidParameterError, ResourceUnavailableError } from '../../../src/errors.js';
import { firstHostTag, type Placement, type PlanConstraints } from '../planner.js';
import { SYSTEM, vmState, type VirtualMachine } from '../vm-state.js';
import type { VmStartView } from '../../data/protocol.js';
import { buildSpec, type Volume } from '../vm-spec.js';
import { applyAffinity } from '../affinity.js';
import type { FlowEnv } from './flow.js';

/** Compute errors after which CloudStack tries the start on another host (the host refused or failed). */
const HOST_FAILURES: ReadonlySet<string> = new Set(['RESOURCE_UNAVAILABLE', 'INTERNAL', 'ILLEGAL_STATE', 'PEER_DOWN', 'NO_INSTANCE',
  'DEAD_LETTER', 'INSUFFICIENT_CAPACITY', 'STOPPED', 'HANDLER_FAILED', 'INTERRUPTED', 'MAILBOX_FULL', 'CONFLICT']);

/** A start attempt failed on a host; the next attempt avoids it. (A timeout is not one: it aborts, as in CloudStack.) */
class HostFailure extends Error {
  constructor(readonly hostid: string, readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error));
  }
}

export interface StartOptions {
  /** Prefix of the step names (a job may start a VM more than once, e.g. restore). */
  prefix: string;
  /** An admin's choice of host. */
  hostid?: string;
  /** An admin's choice of pod or cluster (startVirtualMachine's podid / clusterid). */
  podid?: string;
  clusterid?: string;
}

/**
 * CloudStack's orchestrateStart: Stopped → Starting, then attempts (at most `start.retry`), each on a
 * host the planner reserves capacity on: implement the VM's networks and reserve its NIC addresses,
 * create its volumes on a pool the host reaches, and start it on the host's agent. A host failure
 * rolls the attempt back (stop there, release addresses and capacity) and tries another host; a
 * timeout or any other failure aborts, and the job's rollback puts the VM back to Stopped.
 */
export async function startVm(env: FlowEnv, vmid: string, o: StartOptions): Promise<VirtualMachine> {
  const { ctx, c } = env;
  const p = o.prefix;
  // One read for everything the start needs before placement: the VM, its volumes, its offering's
  // host tags and its affinity constraints (none of which the Starting transition changes).
  const [start, settings] = await Promise.all([c.ops.startContext({ vmid }), env.planner.config()]);
  const { vm, volumes } = start;
  if (vm.state === 'Running' && !ctx.has(`${p}.starting`)) return c.data.vms.get(SYSTEM, vmid);
  if (!ctx.has(`${p}.starting`)) {
    // A pool in maintenance (or disabled) holds the VM's disks out of use: CloudStack refuses the start.
    const held = volumes.find((v) => v.poolstate !== undefined && v.poolstate !== 'Up' && v.poolstate !== 'Disabled');
    if (held !== undefined) throw new ResourceUnavailableError(`volume ${held.name} is on storage pool ${held.storageid} which is ${held.poolstate}; the VM cannot start until it is Up`);
  }
  const begin = ctx.mark();
  // Starting, and the volumes this start creates, read before any is placed and made Ready: journaled
  // with the transition, so a resumed job does not take the volumes it made Ready itself for existing
  // ones. The host makes their files; every other volume's file must be there (never made afresh).
  const starting = await ctx.step(`${p}.starting`, async () => {
    await vmState(c.data, vmid, 'StartRequested', { from: 'Stopped', to: 'Starting' });
    return volumes.filter((v) => v.state !== 'Ready').map((v) => v.id);
  }, () => ({ op: 'vmState', args: { vmid, event: 'OperationFailed', to: 'Stopped' } }));
  // A job journaled before the list was recorded there holds `true`: the volumes' states now are all it has.
  const created = new Set<string>(Array.isArray(starting) ? starting : volumes.filter((v) => v.state !== 'Ready').map((v) => v.id));
  const k: PlanConstraints & { avoid: string[] } = { avoid: [] };
  const tag = firstHostTag(start.hosttags);
  if (tag !== undefined) k.hosttag = tag;
  if (o.hostid !== undefined) k.hostid = o.hostid;
  const clusterid = volumesCluster(volumes);
  if (clusterid !== undefined) k.clusterid = clusterid;
  // An admin's pod or cluster narrows the choice; a cluster other than the one the VM's volumes sit in
  // cannot reach them.
  if (o.clusterid !== undefined) {
    if (clusterid !== undefined && clusterid !== o.clusterid) {
      throw new InvalidParameterError(`the VM's volumes are on storage of cluster ${clusterid}; it cannot start in cluster ${o.clusterid}`);
    }
    k.clusterid = o.clusterid;
  }
  if (o.podid !== undefined) k.podid = o.podid;
  applyAffinity(start.affinity, vmid, k);
  let last: unknown;
  for (let n = 1; n <= settings.startAttempts; n++) {
    const failedOn = ctx.get<string>(`${p}.a${n}.failed`);
    if (failedOn !== undefined) { k.avoid.push(failedOn); continue; }
    const mark = ctx.mark();
    try {
      const host = await attempt(env, vm, volumes, created, k, `${p}.a${n}`);
      let running: VirtualMachine | undefined;
      await ctx.step(`${p}.running`, async () => {
        running = await vmState(c.data, vmid, 'OperationSucceeded', { from: 'Starting', to: 'Running', hostid: host.hostid });
        return host.hostid;
      });
      await ctx.commit(begin);
      // The transition answered the VM as it left it; a step recorded by an earlier run reads it again.
      return running ?? await c.data.vms.get(SYSTEM, vmid);
    } catch (err) {
      if (!(err instanceof HostFailure)) {
        // No host left to try after hosts refused the start: say why they refused, not only that none is left.
        if (last !== undefined && err instanceof InsufficientCapacityError) {
          throw new InsufficientCapacityError(`${err.message}; the hosts tried refused to start it, the last one: ${message(last)}`, { cause: last });
        }
        throw err;
      }
      last = err.error;
      c.log.info('start attempt failed; trying another host', { vm: vmid, host: err.hostid, attempt: n, error: err.message });
      await ctx.rollback(mark, env.undo);
      await ctx.note(`${p}.a${n}.failed`, err.hostid);
      k.avoid.push(err.hostid);
    }
  }
  throw new InsufficientCapacityError(`Unable to start VM ${vm.name} (${vmid}): ${settings.startAttempts} attempt(s) on ` +
    `different hosts failed; the last one: ${message(last)}`, { cause: last });
}

async function attempt(env: FlowEnv, vm: VmStartView, volumes: Volume[], created: ReadonlySet<string>, k: PlanConstraints, a: string): Promise<Placement> {
  const { ctx, c } = env;
  const host = await ctx.step(`${a}.host`, () => env.planner.reserveForStart(vm, k),
    (h) => ({ op: 'releaseHost', args: { vmid: vm.id, hostid: h.hostid } }));
  const implemented = new Set<string>();
  for (const nic of vm.nic) {
    if (!implemented.has(nic.networkid)) {
      implemented.add(nic.networkid);
      await ctx.step(`${a}.net.${nic.networkid}`, async (key) => { await c.network('implementNetwork', { key, networkid: nic.networkid }); return true; });
    }
    // Guarded: the address may be reserved even when the reply is lost (the data service restarting
    // under the network component), so the release is recorded before the reservation is asked for.
    await ctx.guarded(`${a}.nic.${nic.id}`, { op: 'releaseNic', args: { nicid: nic.id } },
      async (key) => (await c.network('prepareNic', { key, nicid: nic.id })).ipaddress ?? null);
  }
  for (const v of volumes) {
    await ctx.step(`${a}.vol.${v.id}`, async (key) => {
      const body: { key: string; volumeid: string; clusterid?: string } = { key, volumeid: v.id };
      if (host.clusterid !== undefined) body.clusterid = host.clusterid;
      return (await c.storage('prepareVolume', body)).storageid ?? null;
    });
  }
  try {
    await ctx.guarded(`${a}.start`, { op: 'stopOnHost', args: { vmid: vm.id, hostname: host.hostname } }, async (key) => {
      const spec = await buildSpec(c.data, vm.id, created);
      await c.compute(host.hostname, 'startVm', { key, vm: spec }, key);
      return host.hostname;
    });
  } catch (err) {
    if (err instanceof CloudstackdError && HOST_FAILURES.has(err.code)) throw new HostFailure(host.hostid, err);
    throw err;
  }
  return host;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The cluster whose pool already holds one of the VM's volumes, when that pool is cluster-scoped. */
function volumesCluster(volumes: Volume[]): string | undefined {
  return volumes.find((v) => v.poolscope === 'CLUSTER' && v.poolclusterid !== undefined)?.poolclusterid;
}
