import { ResourceUnavailableError } from '../../../src/errors.js';
import { snapshotKvmHosts, onKvm, poolKvmHosts, removeSnapshotFiles, takeSnapshotFile, volumeFileFromSnapshot } from '../snapshot-files.js';
import { SYSTEM } from '../vm-state.js';
import { SUCCESS, object, type Flow, type FlowEnv } from './flow.js';
import { volumeLock } from './volume-lock.js';

/**
 * Volume snapshots as jobs. On storage that keeps no files (the simulator) the storage component takes
 * or deletes the snapshot record alone. On KVM storage the record moves around the host's work on the
 * file, so that a snapshot is BackedUp only once its file exists and leaves BackedUp before its file is
 * removed: createSnapshot goes Creating → (the host copies the volume's file) → BackedUp, or Error when
 * the host refuses; deleteSnapshot goes Destroying → (the hosts remove the file) → gone, or BackedUp again.
 */

export const createSnapshotFlow: Flow<'createSnapshot'> = {
  lock: (req, c) => volumeLock(c, req.volumeid),
  async run(env) {
    const { ctx, c } = env;
    const snapshotid = ctx.get<string>('created')!;
    const snap = await c.data.snapshots.get(SYSTEM, snapshotid);
    const vol = await c.data.volumes.get(SYSTEM, snap.volumeid);
    const kvm = await ctx.step('snapshot.where', async () => onKvm(await poolKvmHosts(c, vol.storageid)));
    if (!kvm) {
      await ctx.step('snapshot', async (key) => { await c.storage('createSnapshot', { key, snapshotid }); return true; });
    } else {
      await ctx.step('snapshot.begin', async (key) => { await c.storage('createSnapshot', { key, snapshotid, stage: 'begin' }); return true; });
      const file = await ctx.step('snapshot.file', (key) => hostCopy(env, snapshotid, vol, key));
      await ctx.step('snapshot.finish', async (key) => {
        try {
          await c.storage('createSnapshot', { key, snapshotid, stage: 'finish', physicalsize: file.physicalSize });
        } catch (err) {
          await failSnapshot(env, snapshotid, vol.storageid, key);
          throw err;
        }
        return true;
      });
    }
    return object('snapshot', await c.data.snapshots.get(SYSTEM, snapshotid));
  },
};

/** The host's copy of the volume's file; a refusal fails the snapshot (Error, volume Ready) and leaves no file. */
async function hostCopy(env: FlowEnv, snapshotid: string, vol: { id: string; storageid?: string | undefined; virtualmachineid?: string | undefined },
  key: string): Promise<{ host: string; physicalSize: number }> {
  const { c } = env;
  try {
    const vm = vol.virtualmachineid === undefined ? undefined : await c.data.vms.get(SYSTEM, vol.virtualmachineid);
    const vmHost = vm?.state === 'Running' ? vm.hostname : undefined;
    const f = await takeSnapshotFile(c, { volumeid: vol.id, snapshotid, vmHost, hosts: await poolKvmHosts(c, vol.storageid) }, key);
    return { host: f.host, physicalSize: f.physicalSize };
  } catch (err) {
    await failSnapshot(env, snapshotid, vol.storageid, key);
    throw err;
  }
}

/** The snapshot goes to Error (its volume Ready again) and no host keeps a file of it. */
async function failSnapshot(env: FlowEnv, snapshotid: string, storageid: string | undefined, key: string): Promise<void> {
  const { c } = env;
  const hosts = await poolKvmHosts(c, storageid);
  await removeSnapshotFiles(c, snapshotid, hosts.live.map((h) => h.name), `${key}:drop`).catch((err: unknown) => {
    c.log.warn('a failed snapshot\'s file could not be removed; remove <storage dir>/snapshots/<snapshot>.qcow2 there by hand',
      { snapshot: snapshotid, error: (err as Error).message });
  });
  await c.storage('createSnapshot', { key: `${key}:fail`, snapshotid, stage: 'fail' });
}

export const deleteSnapshotFlow: Flow<'deleteSnapshot'> = {
  lock: async (req) => req.snapshotid,
  async run(env, req) {
    const { ctx, c } = env;
    const snap = await c.data.snapshots.get(req.caller, req.snapshotid);
    const kvm = await ctx.step('delete.where', async () => onKvm(await snapshotKvmHosts(c, snap)));
    if (!kvm) {
      await ctx.step('delete', async (key) => { await c.storage('deleteSnapshot', { key, snapshotid: req.snapshotid, scope: req.caller }); return true; });
      return SUCCESS;
    }
    const wasBackedUp = await ctx.step('delete.begin', async (key) => {
      const before = (await c.data.snapshots.get(SYSTEM, req.snapshotid)).state;
      await c.storage('deleteSnapshot', { key, snapshotid: req.snapshotid, scope: req.caller, stage: 'begin' });
      return before === 'BackedUp' || before === 'Destroying';
    });
    await ctx.step('delete.files', async (key) => {
      try {
        const hosts = await snapshotKvmHosts(c, snap);
        const removed = await removeSnapshotFiles(c, req.snapshotid, hosts.live.map((h) => h.name), key);
        if (removed.length === 0 && hosts.unreachable.length > 0) {
          throw new ResourceUnavailableError(`snapshot ${snap.name} may have its file on KVM hosts ` +
            `${hosts.unreachable.join(', ')}, which cannot be reached; retry the deletion once they are Up`);
        }
      } catch (err) {
        // A snapshot that was usable stays usable: its file is still there. One that never was (Error) goes anyway.
        if (!wasBackedUp) {
          c.log.warn('a snapshot that never had a file is deleted although its hosts could not be asked', { snapshot: req.snapshotid, error: (err as Error).message });
          return true;
        }
        await c.storage('deleteSnapshot', { key: `${key}:fail`, snapshotid: req.snapshotid, scope: SYSTEM, stage: 'fail' });
        throw err;
      }
      return true;
    });
    await ctx.step('delete.finish', async (key) => {
      await c.storage('deleteSnapshot', { key, snapshotid: req.snapshotid, scope: SYSTEM, stage: 'finish' });
      return true;
    });
    return SUCCESS;
  },
};

/**
 * createVolume with a snapshot on KVM storage: the host that holds the snapshot's file copies it to the
 * new volume's file, then the volume is placed (Ready) on a pool of that host's cluster. A volume whose
 * placement fails loses its file again. Storage without files (the simulator) leaves the volume Allocated,
 * as any new data volume, until it is first attached.
 */
export async function volumeFromSnapshot(env: FlowEnv, volumeid: string, snapshotid: string): Promise<void> {
  const { ctx, c } = env;
  const snap = await c.data.snapshots.get(SYSTEM, snapshotid);
  const kvm = await ctx.step('fromsnapshot.where', async () => onKvm(await snapshotKvmHosts(c, snap)));
  if (!kvm) return;
  const file = await ctx.step('fromsnapshot.file', async (key) =>
    volumeFileFromSnapshot(c, { snapshotid, volumeid, hosts: await snapshotKvmHosts(c, snap) }, key));
  await ctx.step('fromsnapshot.place', async (key) => {
    const body: { key: string; volumeid: string; clusterid?: string } = { key, volumeid };
    if (file.clusterid !== undefined) body.clusterid = file.clusterid;
    try {
      await c.storage('prepareVolume', body);
    } catch (err) {
      await c.compute(file.host, 'deleteVolumes', { key: `${key}:drop`, volumeUuids: [volumeid] }, `${key}:drop`).catch(() => undefined);
      throw err;
    }
    return true;
  });
}
