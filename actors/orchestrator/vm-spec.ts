import type { VmSpec } from '../compute/protocol.js';
import type { DataApi, VmVolume } from '../data/protocol.js';

export type Volume = VmVolume;

/** The VM's live volumes (ROOT first, then by device id), with their pools' scope and cluster. */
export function vmVolumes(data: DataApi, vmid: string): Promise<Volume[]> {
  return data.orchestration.vmVolumes(vmid);
}

/**
 * What the compute agent needs to start the VM (StartCommand's VirtualMachineTO): sizing, NICs with
 * their reserved addresses, volumes with their pools, and the boot data (user data, password, key).
 * `created`: the volumes this start creates (they were not Ready when it began): the host makes their
 * files. Every other volume exists, and a host that keeps files must find its file, never make a new one.
 */
export async function buildSpec(data: DataApi, vmid: string, created: ReadonlySet<string> = new Set()): Promise<VmSpec> {
  const s = await data.orchestration.startSpec(vmid);
  const spec: VmSpec = {
    uuid: s.uuid, name: s.instancename, displayName: s.displayname, cpuCores: s.cpunumber, cpuSpeedMhz: s.cpuspeed,
    memoryMiB: s.memory, haEnabled: s.haenable,
    nics: s.nics.map((n) => {
      const o: VmSpec['nics'][number] = { deviceId: n.deviceid, mac: n.macaddress ?? '02:00:00:00:00:00', isDefault: n.isdefault,
        networkUuid: n.networkid };
      if (n.ipaddress !== undefined) o.ip = n.ipaddress;
      if (n.netmask !== undefined) o.netmask = n.netmask;
      if (n.gateway !== undefined) o.gateway = n.gateway;
      if (n.broadcasturi !== undefined) o.broadcastUri = n.broadcasturi;
      return o;
    }),
    volumes: s.volumes.filter((v) => v.type === 'ROOT' || v.type === 'DATADISK').map((v) => {
      const o: VmSpec['volumes'][number] = { uuid: v.id, deviceId: v.deviceid ?? 0, type: v.type as 'ROOT' | 'DATADISK', sizeBytes: v.size,
        isNew: created.has(v.id) };
      if (v.storageid !== undefined) o.poolUuid = v.storageid;
      if (v.path !== undefined) o.path = v.path;
      return o;
    }),
  };
  if (s.templateid !== undefined) spec.templateUuid = s.templateid;
  if (s.template !== undefined) spec.template = { ...s.template };
  if (s.details.userdata !== undefined) spec.userData = s.details.userdata;
  if (s.details.password !== undefined && s.passwordenabled) spec.password = s.details.password;
  if (s.details.sshpublickey !== undefined) spec.sshPublicKey = s.details.sshpublickey;
  return spec;
}
