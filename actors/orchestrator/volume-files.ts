import { ResourceUnavailableError } from '../../src/errors.js';
import type { Components } from './components.js';

/**
 * The hosts that may hold a volume's file: the KVM hosts that can reach the volume's pool, those of the
 * pool's cluster, or of its zone for a zone-wide pool (a detached volume does not say which host last
 * had it). The hosts of a cluster share its primary storage directory (kvm-pool.ts), so with
 * `onePerCluster` only the first connected host of each cluster is named: one file, one writer.
 * Hypervisors without files of their own are not KVM hosts and are never asked.
 */
export async function volumeFileHosts(c: Components, storageid: string | undefined, onePerCluster = false): Promise<{ live: string[]; unreachable: string[] }> {
  if (storageid === undefined) return { live: [], unreachable: [] }; // never created on a pool: no file anywhere
  const pool = await c.data.storage.getPool(storageid);
  const where = pool.scope === 'CLUSTER' && pool.clusterid !== undefined ? { clusterid: pool.clusterid } : { zoneid: pool.zoneid };
  const { live, unreachable } = await kvmHosts(c, where);
  return { live: (onePerCluster ? oneHostPerCluster(live) : live).map((h) => h.name), unreachable };
}

/**
 * The first host of each cluster: the hosts of a cluster see one shared primary storage directory, so
 * one of them acts on a file for all (two copying or resizing the same file at once would collide).
 * A host with no cluster stands alone.
 */
export function oneHostPerCluster<H extends { name: string; clusterid: string | undefined }>(hosts: readonly H[]): H[] {
  const seen = new Set<string>();
  return hosts.filter((h) => {
    if (h.clusterid === undefined) return true;
    if (seen.has(h.clusterid)) return false;
    seen.add(h.clusterid);
    return true;
  });
}

/** The KVM routing hosts of a cluster or a zone: those with a connected agent (with their cluster), and the others' names. */
export async function kvmHosts(c: Components, where: { clusterid: string } | { zoneid: string }):
  Promise<{ live: { name: string; clusterid: string | undefined }[]; unreachable: string[] }> {
  const hosts: { name: string; clusterid: string | undefined }[] = [];
  for (let page = 1; ; page++) {
    const r = await c.data.hosts.list({ ...where, hypervisor: 'KVM', type: 'Routing', page, pagesize: HOST_PAGE });
    hosts.push(...r.items.map((h) => ({ name: h.name, clusterid: h.clusterid })));
    if (r.items.length < HOST_PAGE) break;
  }
  const connected = new Set(c.computeHosts());
  return { live: hosts.filter((h) => connected.has(h.name)), unreachable: hosts.filter((h) => !connected.has(h.name)).map((h) => h.name) };
}

/** Hosts listed per data call while looking for a volume's file. 500: one call for any usual cluster. */
const HOST_PAGE = 500;

/**
 * Removes a deleted volume's file from every host that may hold it (DeleteCommand). Every host is asked,
 * not one per cluster: removing a file twice from the shared directory is harmless, and a host whose
 * directory is (wrongly) its own still loses the file.
 * The volume record is gone already, so a host that cannot be reached is logged, not retried: its file
 * has to be removed there by hand. Resolves with the hosts that removed a file.
 */
export async function removeVolumeFiles(c: Components, volumeid: string, storageid: string | undefined, key: string): Promise<string[]> {
  let hosts: { live: string[]; unreachable: string[] };
  try {
    hosts = await volumeFileHosts(c, storageid);
  } catch (err) {
    c.log.warn('could not find the hosts that may hold a deleted volume\'s file; remove <storage dir>/<volume>.qcow2 on them by hand', {
      volume: volumeid, error: (err as Error).message });
    return [];
  }
  const { live, unreachable } = hosts;
  const results = await Promise.allSettled(live.map((h) => c.compute(h, 'deleteVolumes', { key: `${key}:${h}`, volumeUuids: [volumeid] }, `${key}:${h}`)));
  const failed = [...unreachable, ...live.filter((_h, i) => results[i]!.status === 'rejected')];
  if (failed.length > 0) {
    c.log.warn('hosts that may hold a deleted volume\'s file could not remove it; remove <storage dir>/<volume>.qcow2 there by hand', {
      volume: volumeid, hosts: failed.join(','), error: results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []))[0] });
  }
  return results.flatMap((r) => (r.status === 'fulfilled' && r.value.deleted.length > 0 ? [r.value.hostName] : []));
}

/**
 * Resizes a volume's file after its record (ResizeVolumeCommand): on the host running its VM (live),
 * else on every host that may hold it. No file anywhere (never created yet) is fine: it is created at
 * the new size when first needed. Throws when a host refuses, or when no reachable host holds the file
 * while some that may hold it cannot be reached. Resolves with the hosts that resized a file.
 */
export async function resizeVolumeFiles(c: Components, vol: { id: string; storageid?: string | undefined; vmHost?: string | undefined },
  sizeBytes: number, shrinkOk: boolean, key: string): Promise<string[]> {
  const { live, unreachable } = vol.vmHost !== undefined ? { live: [vol.vmHost], unreachable: [] } : await volumeFileHosts(c, vol.storageid, true);
  const results = await Promise.allSettled(live.map((h) =>
    c.compute(h, 'resizeVolume', { key: `${key}:${h}`, volumeUuid: vol.id, sizeBytes, shrinkOk }, `${key}:${h}`)));
  const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [{ host: live[i]!, err: r.reason as Error }] : []));
  if (refused.length > 0) throw refused[0]!.err;
  const resized = results.flatMap((r) => (r.status === 'fulfilled' && r.value.resized ? [r.value.hostName] : []));
  if (resized.length === 0 && unreachable.length > 0) {
    throw new ResourceUnavailableError(`volume ${vol.id} may have its file on hosts ${unreachable.join(', ')}, which cannot be reached; ` +
      'retry the resize once they are Up');
  }
  return resized;
}
