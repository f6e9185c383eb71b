import { IllegalStateError, InvalidParameterError, NotFoundError } from '../../src/errors.js';
import { SYSTEM, type DataApi, type DataOps, type Scope } from '../data/protocol.js';
import type { Volume } from './protocol.js';


/** Volume operations of the storage component over the data service (each idempotent by state). */
export class VolumeOps {
  constructor(private readonly data: DataApi, private readonly ops: DataOps, private readonly poolCandidates: number) {}

  /** Allocated → Creating → Ready on a pool reachable from `clusterid`; resumes a Creating volume. */
  async prepare(volumeid: string, clusterid: string | undefined): Promise<Volume> {
    // Placement on a pool and Allocated → Creating in one data operation (a Ready volume comes back as it is).
    const begin: Parameters<DataOps['beginVolumeCreate']>[0] = { volumeid, poolCandidates: this.poolCandidates };
    if (clusterid !== undefined) begin.clusterid = clusterid;
    const vol = await this.ops.beginVolumeCreate(begin);
    if (vol.state === 'Ready') return vol;
    if (vol.state !== 'Creating') throw new IllegalStateError(`volume ${vol.name} is ${vol.state}; it cannot be created now`);
    try {
      // The template's copy on the pool and Creating → Ready in one data operation.
      const done: Parameters<DataOps['completeVolumeCreate']>[0] = { volumeid, path: vol.id };
      if (vol.templateid !== undefined && vol.type === 'ROOT') done.templateid = vol.templateid;
      else done.format = 'QCOW2';
      return await this.ops.completeVolumeCreate(done);
    } catch (err) {
      await this.data.volumes.transition(SYSTEM, volumeid, 'OperationFailed', { expect: 'Creating' });
      await this.data.allocation.releasePool(volumeid);
      throw err;
    }
  }

  /** Destroy → Expunging → Expunged (bytes back to the pool, row removed). Gone already: done. */
  async destroy(volumeid: string): Promise<void> {
    let vol: Volume;
    try {
      vol = await this.data.volumes.get(SYSTEM, volumeid);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    for (let i = 0; i < 4 && vol.state !== 'Expunged'; i++) {
      const event = vol.state === 'Destroy' ? 'ExpungingRequested' : vol.state === 'Expunging' ? 'OperationSucceeded'
        : vol.state === 'Allocated' || vol.state === 'Creating' || vol.state === 'Ready' ? 'DestroyRequested' : undefined;
      if (event === undefined) throw new IllegalStateError(`volume ${vol.name} is ${vol.state}; wait for its operation to finish`);
      vol = await this.data.volumes.transition(SYSTEM, volumeid, event);
    }
  }

  /** Changes the size in bytes; a Ready volume goes through Resizing and its pool must have room. */
  async resize(scope: Scope, volumeid: string, size: number, shrinkok: boolean): Promise<Volume> {
    const vol = await this.data.volumes.get(scope, volumeid);
    if (size === vol.size) return vol;
    if (size < vol.size && !shrinkok) {
      throw new InvalidParameterError(`Shrink operation on volume ${vol.name} not allowed: set shrinkok=true to shrink it from ${vol.size} to ${size} bytes`);
    }
    if (vol.state === 'Allocated') return this.data.volumes.setSize(volumeid, size);
    if (vol.state !== 'Ready' && vol.state !== 'Resizing') {
      throw new IllegalStateError(`volume ${vol.name} is ${vol.state}; only Allocated or Ready volumes can be resized`);
    }
    if (vol.state === 'Ready') await this.data.volumes.transition(SYSTEM, volumeid, 'ResizeRequested', { expect: 'Ready' });
    try {
      await this.data.volumes.setSize(volumeid, size);
    } catch (err) {
      await this.data.volumes.transition(SYSTEM, volumeid, 'OperationFailed', { expect: 'Resizing' });
      throw err;
    }
    return this.data.volumes.transition(SYSTEM, volumeid, 'OperationSucceeded', { expect: 'Resizing' });
  }

  /** A fresh clone of `templateid` for a ROOT volume (its pool keeps a copy of the template). */
  async reimage(volumeid: string, templateid: string): Promise<Volume> {
    const vol = await this.data.volumes.get(SYSTEM, volumeid);
    if (vol.state === 'Ready' && vol.storageid !== undefined) await this.data.orchestration.templateOnPool(templateid, vol.storageid);
    // The clone replaces the old disk in place: same volume, same pool, a new image under it.
    await this.data.orchestration.reimageVolume(volumeid, templateid, `${volumeid}@${templateid}`);
    return this.data.volumes.get(SYSTEM, volumeid);
  }
}
