import { ResourceUnavailableError } from '../../src/errors.js';
import type { Components } from './components.js';
import { onEachHost, poolKvmHosts, snapshotKvmHosts, type HostFile } from './snapshot-files.js';
import { SYSTEM } from './vm-state.js';
import { kvmHosts, oneHostPerCluster } from './volume-files.js';

/**
 * Created templates' files on KVM hosts (createTemplate from a volume or a snapshot). Where the source
 * lives in a KVM cluster's shared primary storage, one host of that cluster writes a standalone qcow2 copy
 * of it into the pool's templates directory (<storage dir>/templates/<template>.qcow2), and VMs deployed
 * from the template clone their root disk from that file. Image stores that keep no bytes (the simulator)
 * are never asked: the template is a record only, as before.
 */

type Hosts = Awaited<ReturnType<typeof kvmHosts>>;
export type TemplateSourceRef = { volumeUuid: string } | { snapshotUuid: string };

/** The KVM hosts that may hold the source's file (none: the source is not on KVM storage). */
export async function templateSourceHosts(c: Components, req: { volumeid?: string | undefined; snapshotid?: string | undefined }): Promise<Hosts> {
  if (req.volumeid !== undefined) return poolKvmHosts(c, (await c.data.volumes.get(SYSTEM, req.volumeid)).storageid);
  return snapshotKvmHosts(c, await c.data.snapshots.get(SYSTEM, req.snapshotid!));
}

/**
 * Has one host of each cluster that may hold the source write the template's file; the first that held
 * it made the template (copies in other clusters' storage, from stale files, are removed). Throws when a
 * host refuses — after removing what any host made, so a failed creation leaves no file — or when no
 * host holds the source's file.
 */
export async function writeTemplateFile(c: Components, a: { templateid: string; source: TemplateSourceRef; hosts: Hosts }, key: string): Promise<HostFile> {
  const ask = oneHostPerCluster(a.hosts.live);
  let made: HostFile[];
  try {
    made = await onEachHost(ask, key, (h, k) => c.compute(h, 'templateFile', { key: k, templateUuid: a.templateid, source: a.source }, k));
  } catch (err) {
    await dropTemplateFiles(c, a.templateid, a.hosts.live.map((h) => h.name), `${key}:drop`);
    throw err;
  }
  if (made.length > 1) {
    c.log.warn('a template\'s source has a file in several KVM clusters\' storage; the template is made from the first', {
      template: a.templateid, hosts: made.map((m) => m.host).join(',') });
    await dropTemplateFiles(c, a.templateid, made.slice(1).map((m) => m.host), `${key}:extra`);
  }
  if (made[0] !== undefined) return made[0];
  const what = 'volumeUuid' in a.source ? `volume ${a.source.volumeUuid}` : `snapshot ${a.source.snapshotUuid}`;
  if (a.hosts.unreachable.length > 0) {
    throw new ResourceUnavailableError(`${what} may have its file on KVM hosts ${a.hosts.unreachable.join(', ')}, which cannot be reached; ` +
      'retry createTemplate once they are Up');
  }
  throw new ResourceUnavailableError(`${what} has no file on ${ask.length === 0 ? 'any KVM host (none is connected)' : `KVM hosts ${ask.map((h) => h.name).join(', ')}`}: ` +
    'a volume gets its file when a VM first starts with it; start the VM once (then stop it), then create the template');
}

/**
 * Removes a template's file from every KVM host of `zoneids` (every host, not one per cluster: removing a
 * file twice from the shared directory is harmless). The template record is gone already, so a host that
 * cannot remove it is logged, not retried. Resolves with the hosts that removed a file.
 */
export async function removeTemplateFiles(c: Components, templateid: string, zoneids: readonly string[], key: string): Promise<string[]> {
  const hosts: string[] = [];
  const unreachable: string[] = [];
  for (const zoneid of zoneids) {
    const h = await kvmHosts(c, { zoneid });
    hosts.push(...h.live.map((x) => x.name));
    unreachable.push(...h.unreachable);
  }
  if (unreachable.length > 0) {
    c.log.warn('KVM hosts that may hold a deleted template\'s file cannot be reached; remove <storage dir>/templates/<template>.qcow2 there by hand', {
      template: templateid, hosts: unreachable.join(',') });
  }
  return dropTemplateFiles(c, templateid, hosts, key);
}

/** Asks `hosts` to remove the template's file; refusals are logged (the file has to be removed by hand). */
async function dropTemplateFiles(c: Components, templateid: string, hosts: readonly string[], key: string): Promise<string[]> {
  const results = await Promise.allSettled(hosts.map((h) => c.compute(h, 'deleteTemplateFiles', { key: `${key}:${h}`, templateUuids: [templateid] }, `${key}:${h}`)));
  const failed = hosts.filter((_h, i) => results[i]!.status === 'rejected');
  if (failed.length > 0) {
    c.log.warn('hosts could not remove a template\'s file; remove <storage dir>/templates/<template>.qcow2 there by hand', {
      template: templateid, hosts: failed.join(','), error: results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []))[0] });
  }
  return results.flatMap((r) => (r.status === 'fulfilled' && r.value.deleted.length > 0 ? [r.value.hostName] : []));
}
