import type { VmSpec } from '../compute/protocol.js';
import type { DataApi } from '../data/protocol.js';
import { SYSTEM, type VirtualMachine } from './vm-state.js';

export type Volume = Awaited<ReturnType<DataApi['volumes']['get']>>;

/** The VM's live volumes (ROOT first, then by device id). */
export async function vmVolumes(data: DataApi, vmid: string): Promise<Volume[]> {
  const found = await data.volumes.list(SYSTEM, { virtualmachineid: vmid, pagesize: -1 });
  return found.items.sort((a, b) => (a.type === 'ROOT' ? -1 : b.type === 'ROOT' ? 1 : (a.deviceid ?? 0) - (b.deviceid ?? 0)));
}

/**
 * What the compute agent needs to start the VM (StartCommand's VirtualMachineTO): sizing, NICs with
 * their reserved addresses, volumes with their pools, and the boot data (user data, password, key).
 */
export async function buildSpec(data: DataApi, vmid: string): Promise<VmSpec> {
  const [vm, volumes, details] = await Promise.all([data.vms.get(SYSTEM, vmid), vmVolumes(data, vmid), data.orchestration.vmDetails(vmid)]);
  const spec: VmSpec = {
    uuid: vm.id, name: vm.instancename, displayName: vm.displayname, cpuCores: vm.cpunumber, cpuSpeedMhz: vm.cpuspeed,
    memoryMiB: vm.memory, haEnabled: vm.haenable,
    nics: vm.nic.map((n) => nicSpec(n)),
    volumes: volumes.filter((v) => v.type === 'ROOT' || v.type === 'DATADISK').map((v) => {
      const s: VmSpec['volumes'][number] = { uuid: v.id, deviceId: v.deviceid ?? 0, type: v.type as 'ROOT' | 'DATADISK', sizeBytes: v.size };
      if (v.storageid !== undefined) s.poolUuid = v.storageid;
      if (v.path !== undefined) s.path = v.path;
      return s;
    }),
  };
  if (vm.templateid !== undefined) spec.templateUuid = vm.templateid;
  if (details.userdata !== undefined) spec.userData = details.userdata;
  if (details.password !== undefined && vm.passwordenabled) spec.password = details.password;
  if (details.sshpublickey !== undefined) spec.sshPublicKey = details.sshpublickey;
  return spec;
}

function nicSpec(n: VirtualMachine['nic'][number]): VmSpec['nics'][number] {
  const s: VmSpec['nics'][number] = { deviceId: Number(n.deviceid), mac: n.macaddress ?? '02:00:00:00:00:00', isDefault: n.isdefault,
    networkUuid: n.networkid };
  if (n.ipaddress !== undefined) s.ip = n.ipaddress;
  if (n.netmask !== undefined) s.netmask = n.netmask;
  if (n.gateway !== undefined) s.gateway = n.gateway;
  if (n.broadcasturi !== undefined) s.broadcastUri = n.broadcasturi;
  if (n.ip6address !== undefined) s.ip6 = n.ip6address;
  return s;
}
