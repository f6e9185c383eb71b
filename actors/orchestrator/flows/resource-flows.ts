import { InvalidParameterError } from '../../../src/errors.js';
import type { Components } from '../components.js';
import { SYSTEM } from '../vm-state.js';
import { vmVolumes } from '../vm-spec.js';
import { resizeVolumeFiles } from '../volume-files.js';
import { SUCCESS, object, type Flow, type FlowEnv } from './flow.js';
import { volumeFromSnapshot } from './snapshot-flows.js';
import { volumeLock } from './volume-lock.js';

/** Volume, snapshot, network and public IP commands as jobs (their create phases ran in submit). */


/**
 * Creates a data volume on its running VM's primary pool (first attach); the hot-plug that follows makes
 * its file. True when this job creates it (it was Allocated). A volume attached to a stopped VM stays
 * Allocated until the VM's next start creates it with the VM's other new volumes: made Ready now, it would
 * be a Ready volume with no file, which a host then (rightly) refuses to replace with an empty disk.
 */
async function createOnVmPool(env: FlowEnv, volumeid: string, vmid: string): Promise<boolean> {
  const { ctx, c } = env;
  if (ctx.has('attach.create')) return true;
  const vol = await c.data.volumes.get(SYSTEM, volumeid);
  if (vol.state !== 'Allocated') return false;
  const root = (await vmVolumes(c.data, vmid)).find((v) => v.type === 'ROOT' && v.storageid !== undefined);
  if (root === undefined) return false; // the VM never started: its next start creates every volume
  await ctx.step('attach.create', async (key) => {
    const body: { key: string; volumeid: string; clusterid?: string } = { key, volumeid };
    if (root.poolscope === 'CLUSTER' && root.poolclusterid !== undefined) body.clusterid = root.poolclusterid;
    await c.storage('prepareVolume', body);
    return true;
  });
  return true;
}

async function attach(env: FlowEnv, caller: Parameters<Components['data']['volumes']['attach']>[0], volumeid: string, vmid: string,
  deviceid: number | undefined): Promise<void> {
  const { ctx, c } = env;
  const vm = await c.data.vms.get(caller, vmid);
  if (vm.state !== 'Running' && vm.state !== 'Stopped') {
    throw new InvalidParameterError(`VM ${vm.name} is ${vm.state}: volumes attach to Running or Stopped VMs only`);
  }
  const vol = await c.data.volumes.get(caller, volumeid);
  if (vol.virtualmachineid !== vmid) {
    await ctx.step('attach.db', async () => { await c.data.volumes.attach(caller, volumeid, vmid, deviceid); return true; },
      () => ({ op: 'detachVolume', args: { volumeid } }));
  }
  const host = vm.state === 'Running' ? vm.hostname : undefined;
  if (host !== undefined) {
    const isNew = await createOnVmPool(env, volumeid, vmid);
    // Hot-plug into the running guest (AttachCommand), at the device id the database gave it; the host
    // makes the file of a volume this job created, and must find that of an existing one.
    const now = await c.data.volumes.get(SYSTEM, volumeid);
    await ctx.step('attach.agent', async (key) => {
      await c.compute(host, 'attachVolume', { key, vmUuid: vmid,
        volume: { uuid: volumeid, deviceId: now.deviceid ?? 1, type: 'DATADISK', sizeBytes: now.size, isNew } }, key);
      return true;
    });
  }
}

export const createVolumeFlow: Flow<'createVolume'> = {
  lock: async (req, c) => req.virtualmachineid ?? undefined,
  async run(env, req) {
    const volumeid = env.ctx.get<string>('created')!;
    const vol = await env.c.data.volumes.get(SYSTEM, volumeid);
    if (vol.snapshotid !== undefined && vol.state === 'Allocated') await volumeFromSnapshot(env, volumeid, vol.snapshotid);
    if (req.virtualmachineid !== undefined) await attach(env, req.caller, volumeid, req.virtualmachineid, undefined);
    return object('volume', await env.c.data.volumes.get(SYSTEM, volumeid));
  },
  /** A volume that was to be made from a snapshot and was not is removed: attached later, it would be an empty disk. */
  async failed(env) {
    const volumeid = env.ctx.get<string>('created');
    if (volumeid === undefined) return;
    const vol = await env.c.data.volumes.get(SYSTEM, volumeid).catch(() => undefined);
    if (vol?.snapshotid === undefined || vol.state !== 'Allocated') return;
    await env.ctx.step('fromsnapshot.drop', async (key) => { await env.c.storage('destroyVolume', { key, volumeid }); return true; });
  },
};

export const attachVolumeFlow: Flow<'attachVolume'> = {
  lock: async (req) => req.vmid,
  async run(env, req) {
    await attach(env, req.caller, req.volumeid, req.vmid, req.deviceid);
    return object('volume', await env.c.data.volumes.get(SYSTEM, req.volumeid));
  },
};

export const detachVolumeFlow: Flow<'detachVolume'> = {
  lock: (req, c) => volumeLock(c, req.volumeid),
  async run(env, req) {
    const { ctx, c } = env;
    const vol = await c.data.volumes.get(req.caller, req.volumeid);
    const vmid = vol.virtualmachineid;
    const vm = vmid === undefined ? undefined : await c.data.vms.get(SYSTEM, vmid);
    if (vmid !== undefined && vm?.state === 'Running' && vm.hostname !== undefined) {
      const host = vm.hostname;
      await ctx.step('detach.agent', async (key) => {
        await c.compute(host, 'detachVolume', { key, vmUuid: vmid, volumeUuid: req.volumeid }, key);
        return true;
      });
    }
    if (vol.virtualmachineid !== undefined) {
      await ctx.step('detach.db', async () => { await c.data.volumes.detach(req.caller, req.volumeid); return true; });
    }
    return object('volume', await c.data.volumes.get(SYSTEM, req.volumeid));
  },
};

export const resizeVolumeFlow: Flow<'resizeVolume'> = {
  lock: (req, c) => volumeLock(c, req.volumeid),
  async run(env, req) {
    const { ctx, c } = env;
    const shrinkok = req.shrinkok ?? false;
    const before = await ctx.step('resize.before', async () => (await c.data.volumes.get(req.caller, req.volumeid)).size);
    await ctx.step('resize', async (key) => {
      await c.storage('resizeVolume', { key, volumeid: req.volumeid, size: req.size, shrinkok, scope: req.caller });
      return true;
    });
    // The disk file follows the record; when its host refuses, the record goes back to the old size.
    await ctx.step('resize.files', async (key) => {
      const vol = await c.data.volumes.get(SYSTEM, req.volumeid);
      const vm = vol.virtualmachineid === undefined ? undefined : await c.data.vms.get(SYSTEM, vol.virtualmachineid);
      const vmHost = vm?.state === 'Running' ? vm.hostname : undefined;
      try {
        await resizeVolumeFiles(c, { id: vol.id, storageid: vol.storageid, vmHost }, req.size, shrinkok, key);
      } catch (err) {
        await c.storage('resizeVolume', { key: `${key}:undo`, volumeid: req.volumeid, size: before, shrinkok: true, scope: SYSTEM });
        throw err;
      }
      return true;
    });
    return object('volume', await c.data.volumes.get(SYSTEM, req.volumeid));
  },
};

export const deleteNetworkFlow: Flow<'deleteNetwork'> = {
  lock: async (req) => req.networkid,
  async run(env, req) {
    await env.ctx.step('delete', async (key) => { await env.c.network('deleteNetwork', { key, networkid: req.networkid, scope: req.caller }); return true; });
    return SUCCESS;
  },
};

/** The rule sets of a public address, each applied to the element as a whole. */
const IP_RULE_PURPOSES = ['Firewall', 'PortForwarding', 'LoadBalancing', 'StaticNat'] as const;

/**
 * restartNetwork: the network element is given again every rule set of the network — each of its public
 * addresses' ingress firewall, port forwarding, load balancing and static NAT, and its egress firewall —
 * as CloudStack re-applies them when it restarts a network. Only a network in use can be restarted.
 */
export const restartNetworkFlow: Flow<'restartNetwork'> = {
  lock: async (req) => req.networkid,
  async run(env, req) {
    const net = await env.c.data.networks.get(SYSTEM, req.networkid);
    if (net.state !== 'Implemented' && net.state !== 'Setup') {
      throw new InvalidParameterError(`Network ${net.name} is not in the right state to be restarted (${net.state}). Correct states are: Implemented, Setup`);
    }
    const ips = await env.c.data.ipAddresses.all(SYSTEM, { associatednetworkid: req.networkid, listall: true });
    for (const ip of ips) {
      for (const purpose of IP_RULE_PURPOSES) {
        const target = { purpose, traffictype: 'Ingress' as const, ipid: ip.id, networkid: req.networkid };
        await env.ctx.step(`apply:${purpose}:${ip.id}`, async (key) => { await env.c.network('applyRules', { key, target }); return true; });
      }
    }
    const egress = { purpose: 'Firewall' as const, traffictype: 'Egress' as const, networkid: req.networkid };
    await env.ctx.step('apply:egress', async (key) => { await env.c.network('applyRules', { key, target: egress }); return true; });
    return object('network', await env.c.data.networks.get(SYSTEM, req.networkid));
  },
};

export const associateIpFlow: Flow<'associateIp'> = {
  lock: async () => undefined,
  async run(env) {
    const ipid = env.ctx.get<string>('created')!;
    await env.ctx.step('apply', async (key) => { await env.c.network('applyPublicIp', { key, ipid }); return true; });
    return object('ipaddress', await env.c.data.ipAddresses.get(SYSTEM, ipid));
  },
  /** The address was allocated in the create phase; a failed association gives it back. */
  async failed(env) {
    const ipid = env.ctx.get<string>('created');
    if (ipid === undefined) return;
    await env.ctx.step('release', async (key) => { await env.undo({ op: 'releasePublicIp', args: { ipid } }, key); return true; });
  },
};

export const disassociateIpFlow: Flow<'disassociateIp'> = {
  lock: async (req) => req.ipid,
  async run(env, req) {
    await env.ctx.step('release', async (key) => { await env.c.network('releasePublicIp', { key, ipid: req.ipid, scope: req.caller }); return true; });
    return SUCCESS;
  },
};
