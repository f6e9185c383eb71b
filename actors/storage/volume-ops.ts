import {
  IllegalStateError, InsufficientCapacityError, InvalidParameterError, NotFoundError, ResourceUnavailableError,
} from '../../src/errors.js';
import type { DataApi, Scope } from '../data/protocol.js';
import type { Volume } from './protocol.js';

const SYSTEM = 'system' as const;
/** Template formats remembered (a few hundred templates in a big cloud; the cache restarts when full). */
const MAX_CACHED_FORMATS = 10_000;

/** Volume operations of the storage component over the data service (each idempotent by state). */
export class VolumeOps {
  /** Template formats (immutable once registered), so a ROOT volume costs no template read. */
  private readonly formats = new Map<string, string>();

  constructor(private readonly data: DataApi, private readonly poolCandidates: number) {}

  /** Allocated → Creating → Ready on a pool reachable from `clusterid`; resumes a Creating volume. */
  async prepare(volumeid: string, clusterid: string | undefined): Promise<Volume> {
    let vol = await this.data.volumes.get(SYSTEM, volumeid);
    if (vol.state === 'Ready') {
      await this.checkReach(vol, clusterid);
      return vol;
    }
    if (vol.state === 'Allocated') {
      if (vol.storageid === undefined) await this.place(vol, clusterid);
      else await this.checkReach(vol, clusterid);
      vol = await this.data.volumes.transition(SYSTEM, volumeid, 'CreateRequested', { expect: 'Allocated' });
    }
    if (vol.state !== 'Creating') throw new IllegalStateError(`volume ${vol.name} is ${vol.state}; it cannot be created now`);
    try {
      const { path, format } = await this.materialise(vol);
      return await this.data.volumes.transition(SYSTEM, volumeid, 'OperationSucceeded', { expect: 'Creating', path, format });
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

  private async place(vol: Volume, clusterid: string | undefined): Promise<void> {
    const q: Parameters<DataApi['allocation']['poolsWithCapacity']>[0] = { zoneid: vol.zoneid, size: vol.size, limit: this.poolCandidates };
    if (clusterid !== undefined) q.clusterid = clusterid;
    const pools = await this.data.allocation.poolsWithCapacity(q);
    for (const pool of pools) {
      try {
        await this.data.allocation.reservePool(vol.id, pool.poolid);
        return;
      } catch (err) {
        // Another volume took the room between the query and the reservation: try the next pool.
        if (!(err instanceof InsufficientCapacityError || err instanceof ResourceUnavailableError)) throw err;
      }
    }
    throw new InsufficientCapacityError(`Insufficient capacity: no primary storage pool in zone ${vol.zoneid}` +
      `${clusterid === undefined ? '' : ` reachable from cluster ${clusterid}`} has ${vol.size} bytes free for volume ${vol.name}`);
  }

  private async checkReach(vol: Volume, clusterid: string | undefined): Promise<void> {
    if (clusterid === undefined || vol.storageid === undefined) return;
    const pool = await this.data.storage.getPool(vol.storageid);
    if (pool.scope === 'CLUSTER' && pool.clusterid !== undefined && pool.clusterid !== clusterid) {
      throw new ResourceUnavailableError(`volume ${vol.name} is on pool ${pool.name} of cluster ${pool.clusterid}, ` +
        `which hosts of cluster ${clusterid} cannot reach`, { details: { poolid: pool.id, clusterid: pool.clusterid } });
    }
  }

  /** Where the volume's data lives on its pool: a clone of the template's copy, or an empty disk. */
  private async materialise(vol: Volume): Promise<{ path: string; format: string }> {
    if (vol.templateid === undefined || vol.type !== 'ROOT') return { path: vol.id, format: 'QCOW2' };
    let format = this.formats.get(vol.templateid);
    if (format === undefined) {
      format = (await this.data.templates.get(SYSTEM, vol.templateid)).format;
      if (this.formats.size >= MAX_CACHED_FORMATS) this.formats.clear();
      this.formats.set(vol.templateid, format);
    }
    await this.data.orchestration.templateOnPool(vol.templateid, vol.storageid!);
    return { path: vol.id, format };
  }
}
