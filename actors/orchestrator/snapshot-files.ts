import { NotFoundError, ResourceUnavailableError } from '../../src/errors.js';
import type { Components } from './components.js';
import { SYSTEM } from './vm-state.js';
import { kvmHosts, oneHostPerCluster } from './volume-files.js';

/**
 * Snapshot files on KVM hosts. The hosts of a KVM cluster keep volume files, and the snapshots taken of
 * them, in the cluster's shared primary storage directory (<storage dir>/snapshots/<snapshot>.qcow2), so
 * one host of each cluster that can reach the volume's pool is asked (volume-files.ts), and the one
 * whose cluster holds the file answers. A snapshot whose volume is gone (snapshots outlive their volume)
 * is looked for in the clusters of its zone. Hypervisors that keep no files (the simulator) are never
 * asked: where no KVM host can hold the file, the snapshot is a record only, as before.
 */

type Hosts = Awaited<ReturnType<typeof kvmHosts>>;

/** A file a host made: where, and its sizes in bytes. */
export interface HostFile { host: string; clusterid: string | undefined; physicalSize: number; virtualSize: number }

/** The KVM hosts that may hold the files of a volume on pool `storageid` (none: not KVM storage). */
export async function poolKvmHosts(c: Components, storageid: string | undefined): Promise<Hosts> {
  if (storageid === undefined) return { live: [], unreachable: [] };
  const pool = await c.data.storage.getPool(storageid);
  return kvmHosts(c, pool.scope === 'CLUSTER' && pool.clusterid !== undefined ? { clusterid: pool.clusterid } : { zoneid: pool.zoneid });
}

/** The KVM hosts that may hold a snapshot's file: those of its volume's pool, or of its zone once the volume is gone. */
export async function snapshotKvmHosts(c: Components, snap: { volumeid: string; zoneid: string }): Promise<Hosts> {
  try {
    const vol = await c.data.volumes.get(SYSTEM, snap.volumeid);
    if (vol.storageid !== undefined) return await poolKvmHosts(c, vol.storageid);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  return kvmHosts(c, { zoneid: snap.zoneid });
}

/** True when some KVM host may hold these files: the operation then needs a host to do it. */
export function onKvm(h: Hosts): boolean {
  return h.live.length > 0 || h.unreachable.length > 0;
}

/**
 * Copies a volume's file to the snapshot's file on the host that holds it: the host running its VM
 * when it runs, else whichever host of `hosts` has the file. Throws when a host refuses (its copy left
 * nothing behind), or when no host holds the file — naming the hosts that could not be asked.
 */
export async function takeSnapshotFile(c: Components, a: { volumeid: string; snapshotid: string; vmHost: string | undefined; hosts: Hosts },
  key: string): Promise<HostFile> {
  const ask = a.vmHost !== undefined
    ? [{ name: a.vmHost, clusterid: a.hosts.live.find((h) => h.name === a.vmHost)?.clusterid }]
    : oneHostPerCluster(a.hosts.live);
  const made = await onEachHost(ask, key, (h, k) => c.compute(h, 'snapshotVolume', { key: k, volumeUuid: a.volumeid, snapshotUuid: a.snapshotid }, k));
  if (made.length > 1) {
    // Stale copies of the volume in several clusters' storage: keep the first snapshot, drop the others'.
    c.log.warn('a volume has a file in several KVM clusters\' storage; its snapshot is taken from the first', { volume: a.volumeid, hosts: made.map((m) => m.host).join(',') });
    await removeSnapshotFiles(c, a.snapshotid, made.slice(1).map((m) => m.host), `${key}:extra`);
  }
  if (made[0] !== undefined) return made[0];
  const unreachable = a.vmHost !== undefined ? [] : a.hosts.unreachable;
  if (unreachable.length > 0) {
    throw new ResourceUnavailableError(`volume ${a.volumeid} may have its file on KVM hosts ${unreachable.join(', ')}, which cannot be reached; ` +
      'retry the snapshot once they are Up');
  }
  throw new ResourceUnavailableError(`volume ${a.volumeid} has no disk file on ${ask.length === 0 ? 'any KVM host (none is connected)' : `KVM hosts ${ask.map((h) => h.name).join(', ')}`}: ` +
    'a volume gets its file when a VM first starts with it; start the VM once, then take the snapshot');
}

/**
 * Makes a new volume's file from a snapshot's file, on the host that holds the snapshot. Throws when the
 * host refuses, or when no host holds the snapshot's file.
 */
export async function volumeFileFromSnapshot(c: Components, a: { snapshotid: string; volumeid: string; hosts: Hosts }, key: string): Promise<HostFile> {
  const made = await onEachHost(oneHostPerCluster(a.hosts.live), key, (h, k) => c.compute(h, 'volumeFromSnapshot', { key: k, snapshotUuid: a.snapshotid, volumeUuid: a.volumeid }, k));
  if (made.length > 1) {
    c.log.warn('a snapshot has a file on several KVM hosts; the volume is made on the first', { snapshot: a.snapshotid, hosts: made.map((m) => m.host).join(',') });
    await Promise.allSettled(made.slice(1).map((m) => c.compute(m.host, 'deleteVolumes', { key: `${key}:extra:${m.host}`, volumeUuids: [a.volumeid] }, `${key}:extra:${m.host}`)));
  }
  if (made[0] !== undefined) return made[0];
  if (a.hosts.unreachable.length > 0) {
    throw new ResourceUnavailableError(`snapshot ${a.snapshotid} may have its file on KVM hosts ${a.hosts.unreachable.join(', ')}, which cannot be reached; ` +
      'retry once they are Up');
  }
  throw new ResourceUnavailableError(`snapshot ${a.snapshotid} has no file on any connected KVM host of its volume's pool; it cannot be turned into a volume`);
}

/**
 * Removes a snapshot's file from `hosts`. Throws the first refusal (the file may still be there);
 * resolves with the hosts that removed a file.
 */
export async function removeSnapshotFiles(c: Components, snapshotid: string, hosts: readonly string[], key: string): Promise<string[]> {
  const results = await Promise.allSettled(hosts.map((h) => c.compute(h, 'deleteSnapshots', { key: `${key}:${h}`, snapshotUuids: [snapshotid] }, `${key}:${h}`)));
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused !== undefined) throw refused.reason;
  return results.flatMap((r) => (r.status === 'fulfilled' && r.value.deleted.length > 0 ? [r.value.hostName] : []));
}

/** Asks every host at once; throws the first refusal (a refused copy leaves no file; the caller removes what other hosts made). */
export async function onEachHost(hosts: readonly { name: string; clusterid: string | undefined }[], key: string,
  ask: (host: string, key: string) => Promise<{ hostName: string; held: boolean; physicalSize?: number; virtualSize?: number }>): Promise<HostFile[]> {
  const results = await Promise.allSettled(hosts.map((h) => ask(h.name, `${key}:${h.name}`)));
  const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused !== undefined) throw refused.reason;
  return results.flatMap((r, i) => (r.status === 'fulfilled' && r.value.held
    ? [{ host: hosts[i]!.name, clusterid: hosts[i]!.clusterid, physicalSize: r.value.physicalSize ?? 0, virtualSize: r.value.virtualSize ?? 0 }]
    : []));
}
