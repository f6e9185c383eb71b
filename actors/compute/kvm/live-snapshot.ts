/**
 * A point-in-time copy of a disk a running guest is writing, without stopping the guest:
 *
 * 1. `virsh snapshot-create-as --disk-only`: the guest's writes go to a new overlay file from this
 *    instant, and the volume's own file no longer changes (it is the overlay's backing file);
 * 2. `qemu-img convert` of the frozen file to the standalone snapshot file (-U: qemu still holds it open
 *    read-only as the overlay's backing);
 * 3. `virsh blockcommit --active --pivot`: the overlay's writes are merged back into the volume's file and
 *    the guest writes to it again; the overlay is removed.
 *
 * The copy is what the disk held at step 1: crash-consistent (what a power cut would leave), not
 * application-consistent — there is no guest agent to flush and freeze the guest's file systems. A plain
 * `qemu-img convert -U` of a disk being written could instead read half-updated qcow2 metadata.
 */
import { rm } from 'node:fs/promises';
import { InvalidParameterError, ResourceUnavailableError } from '../../../src/errors.js';
import type { Logger } from '../../../src/logger.js';
import type { SnapshotFile } from '../hypervisor-driver.js';
import { CommandError, type CommandRunner } from './command-runner.js';
import type { KvmPool } from './kvm-pool.js';

/**
 * `virsh snapshot-create-as` arguments of step 1: an external overlay for `dev` only (every other disk of
 * the domain is left as it is), no libvirt snapshot record (nothing to clean up in libvirt afterwards).
 */
export function diskOnlySnapshotArgs(uri: string, domain: string, name: string, dev: string, overlay: string, otherDevs: readonly string[]): string[] {
  if (/[,\s]/.test(overlay)) throw new InvalidParameterError(`overlay path ${overlay} cannot be given to virsh --diskspec (comma or space)`);
  return ['-q', '-c', uri, 'snapshot-create-as', domain, '--name', name, '--disk-only', '--atomic', '--no-metadata',
    '--diskspec', `${dev},snapshot=external,file=${overlay},driver=qcow2`, ...otherDevs.flatMap((d) => ['--diskspec', `${d},snapshot=no`])];
}

/**
 * `virsh blockcommit` arguments of step 3: merge the active overlay into the volume's file (`--base`: a
 * root disk's chain goes on down to the template, which must never be written) and pivot back to it,
 * waiting for the job.
 */
export function blockCommitArgs(uri: string, domain: string, dev: string, base: string): string[] {
  return ['-q', '-c', uri, 'blockcommit', domain, dev, '--base', base, '--active', '--pivot', '--wait'];
}

export interface LiveSnapshotInput {
  run: CommandRunner;
  pool: KvmPool;
  log: Logger;
  uri: string;
  domain: string;
  /** The disk's target (vda...) and the domain's other disks. */
  dev: string;
  otherDevs: readonly string[];
  volumeUuid: string;
  snapshotUuid: string;
  /** Longest the copy and the merge may each take, ms. */
  timeoutMs: number;
  hostName: string;
}

/** Steps 1-3 above. A failed step 1 or 2 leaves no snapshot file and the guest on its own file. */
export async function liveSnapshot(o: LiveSnapshotInput): Promise<SnapshotFile | undefined> {
  const done = await o.pool.existingSnapshot(o.snapshotUuid);
  if (done !== undefined) return done;
  const overlay = o.pool.overlayPath(o.snapshotUuid);
  try {
    await o.run.run('virsh', diskOnlySnapshotArgs(o.uri, o.domain, `csd-${o.snapshotUuid}`, o.dev, overlay, o.otherDevs), { kind: 'virsh snapshot-create-as' });
  } catch (err) {
    await rm(overlay, { force: true }).catch(() => undefined);
    throw refused(o, 'freeze the disk of', err);
  }
  let copied: SnapshotFile | undefined;
  let copyError: unknown;
  try {
    copied = await o.pool.snapshot(o.volumeUuid, o.snapshotUuid, true);
  } catch (err) {
    copyError = err;
  }
  try {
    await o.run.run('virsh', blockCommitArgs(o.uri, o.domain, o.dev, o.pool.volumePath(o.volumeUuid)), { kind: 'virsh blockcommit', timeoutMs: o.timeoutMs });
    const now = sourceOf(await o.run.run('virsh', ['-q', '-c', o.uri, 'domblklist', o.domain], { kind: 'virsh domblklist' }), o.dev);
    if (now !== o.pool.volumePath(o.volumeUuid)) throw new CommandError(`after blockcommit, ${o.dev} of ${o.domain} is on ${now ?? 'nothing'}, not on the volume's file`, '');
  } catch (err) {
    // The guest keeps running on the overlay: its writes since step 1 are only there. Say so loudly.
    o.log.error('a live snapshot could not merge the guest\'s writes back into its volume file; the guest writes to the overlay until ' +
      `"virsh blockcommit ${o.domain} ${o.dev} --active --pivot" succeeds`, { volume: o.volumeUuid, overlay, error: (err as Error).message });
    if (copied !== undefined) await o.pool.deleteSnapshot(o.snapshotUuid).catch(() => undefined);
    throw refused(o, `merge the guest's writes back (they are in ${overlay} until blockcommit succeeds) after snapshotting`, err);
  }
  await rm(overlay, { force: true });
  if (copyError !== undefined) throw refused(o, 'copy', copyError);
  return copied;
}

/** The source of `dev` in `virsh domblklist` output (` vda   /path/file.qcow2`). */
export function sourceOf(domblklist: string, dev: string): string | undefined {
  for (const line of domblklist.split('\n')) {
    const [target, source] = line.trim().split(/\s+/, 2);
    if (target === dev) return source;
  }
  return undefined;
}

function refused(o: LiveSnapshotInput, what: string, err: unknown): unknown {
  return err instanceof CommandError
    ? new ResourceUnavailableError(`host ${o.hostName} could not ${what} volume ${o.volumeUuid} (snapshot ${o.snapshotUuid}): ${err.message}`)
    : err;
}
