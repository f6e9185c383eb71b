import { InvalidParameterError } from '../../src/errors.js';
import { clientCreatePhase, isClientRequest, type ClientRequest } from './client-create-phase.js';
import type { Components } from './components.js';
import { newPassword } from './flows/vm-change.js';
import type { JobRequest } from './protocol.js';
import { SYSTEM } from './vm-state.js';

/** What the synchronous part of a command produced: the object it created, and the job's instance. */
export interface Prepared {
  /** Id of the object created now (deployVirtualMachine's VM, createVolume's volume...), returned as `id`. */
  created?: string;
  /** The job's `jobinstanceid`. */
  instanceid?: string;
}

/**
 * The synchronous part of each command, before its job exists: ids must name objects the caller may
 * see (NotFoundError → 431, as CloudStack answers at once), and the "create" commands create their
 * object now — deployVirtualMachine persists the VM Stopped with its NICs and volumes (reference 6.1).
 */
export async function createPhase(c: Components, req: JobRequest): Promise<Prepared> {
  if (isClientRequest(req)) return clientCreatePhase(c, req);
  const d = c.data;
  switch (req.op) {
    case 'deployVm': {
      const vm = await d.vmOps.create(req.caller, req.vm);
      if (vm.passwordenabled) await d.vmOps.update(SYSTEM, vm.id, { password: newPassword(c) });
      return { created: vm.id, instanceid: vm.id };
    }
    case 'createVolume': {
      if (req.virtualmachineid !== undefined) await d.vms.get(req.caller, req.virtualmachineid);
      const input: Parameters<typeof d.volumes.create>[1] = { name: req.name, zoneid: req.zoneid };
      if (req.diskofferingid !== undefined) input.diskofferingid = req.diskofferingid;
      if (req.size !== undefined) input.size = req.size;
      if (req.accountid !== undefined) input.accountid = req.accountid;
      if (req.snapshotid !== undefined) input.snapshotid = req.snapshotid;
      const vol = await d.volumes.create(req.caller, input);
      return { created: vol.id, instanceid: vol.id };
    }
    case 'createSnapshot': {
      const input: { volumeid: string; name?: string } = { volumeid: req.volumeid };
      if (req.name !== undefined) input.name = req.name;
      const snap = await d.snapshots.create(req.caller, input);
      return { created: snap.id, instanceid: snap.id };
    }
    case 'associateIp': {
      const ip = await d.addresses.allocatePublicIp(req.caller, await ipInput(c, req));
      return { created: ip.id, instanceid: ip.id };
    }
    default:
      return { instanceid: await checkVisible(c, req) };
  }
}

async function ipInput(c: Components, req: Extract<JobRequest, { op: 'associateIp' }>): Promise<Parameters<Components['data']['addresses']['allocatePublicIp']>[1]> {
  let zoneid = req.zoneid;
  if (req.networkid !== undefined) {
    const net = await c.data.networks.get(req.caller, req.networkid);
    if (zoneid !== undefined && zoneid !== net.zoneid) throw new InvalidParameterError(`network ${req.networkid} is not in zone ${zoneid}`);
    zoneid = net.zoneid;
  }
  if (zoneid === undefined) throw new InvalidParameterError('Unable to execute API command associateipaddress: give zoneid or networkid');
  const input: Parameters<Components['data']['addresses']['allocatePublicIp']>[1] = { zoneid };
  if (req.networkid !== undefined) input.networkid = req.networkid;
  if (req.accountid !== undefined) input.accountid = req.accountid;
  if (req.ipaddress !== undefined) input.ipaddress = req.ipaddress;
  return input;
}

/** The object a command works on must exist and be visible to the caller; returns its id. */
async function checkVisible(c: Components, req: Exclude<JobRequest, ClientRequest | { op: 'deployVm' | 'createVolume' | 'createSnapshot' | 'associateIp' }>): Promise<string> {
  const d = c.data;
  switch (req.op) {
    case 'attachVolume':
      await d.vms.get(req.caller, req.vmid);
      return (await d.volumes.get(req.caller, req.volumeid)).id;
    case 'detachVolume': {
      const vol = await d.volumes.get(req.caller, req.volumeid);
      if (vol.virtualmachineid === undefined) throw new InvalidParameterError(`volume ${vol.name} is not attached to a VM`);
      if (vol.type === 'ROOT') throw new InvalidParameterError('a ROOT volume cannot be detached');
      return vol.id;
    }
    case 'resizeVolume':
      return (await d.volumes.get(req.caller, req.volumeid)).id;
    case 'deleteSnapshot':
      return (await d.snapshots.get(req.caller, req.snapshotid)).id;
    case 'deleteNetwork':
    case 'restartNetwork':
      return (await d.networks.get(req.caller, req.networkid)).id;
    case 'disassociateIp': {
      const ip = await d.ipAddresses.get(req.caller, req.ipid);
      if (ip.issourcenat) throw new InvalidParameterError(`ip address ${ip.ipaddress} is the source NAT address of its network and is released with it`);
      if (ip.state === 'Free') throw new InvalidParameterError(`ip address ${ip.ipaddress} is not allocated`);
      return ip.id;
    }
    default:
      return (await d.vms.get(req.caller, req.vmid)).id;
  }
}
