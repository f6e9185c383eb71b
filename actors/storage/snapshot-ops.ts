import { IllegalStateError, NotFoundError } from '../../src/errors.js';
import { SYSTEM, type DataApi, type Scope } from '../data/protocol.js';
import type { Snapshot } from './protocol.js';

/** A snapshot operation whole (`all`), or one part of it around a host's work on the snapshot's file. */
export type SnapshotStage = 'all' | 'begin' | 'finish' | 'fail';

/**
 * Snapshots on the simulated storage: Allocated → Creating → CreatedOnPrimary → BackingUp → BackedUp,
 * the volume Snapshotting meanwhile. Each call carries on from the state it finds, so a repeated or
 * resumed step finishes what an earlier one started.
 */
export class SnapshotOps {
  constructor(private readonly data: DataApi) {}

  /**
   * The whole snapshot in one call, for storage that keeps no files of its own (the simulator). With
   * `stage`, in parts around a host's copy (storage with files, KVM): `begin` takes it to Creating (the
   * volume Snapshotting), `finish` from there to BackedUp with the copy's `physicalsize`, `fail` to Error
   * (the volume Ready again) — so no snapshot is BackedUp before its file exists.
   */
  async create(snapshotid: string, stage: SnapshotStage = 'all', physicalsize?: number): Promise<Snapshot> {
    if (stage === 'fail') {
      const snap = await this.data.snapshots.get(SYSTEM, snapshotid);
      await this.fail(snap);
      return this.data.snapshots.get(SYSTEM, snapshotid);
    }
    let snap = await this.data.snapshots.get(SYSTEM, snapshotid);
    if (snap.state === 'BackedUp') return this.releaseVolume(snap);
    if (stage === 'finish' && snap.state !== 'Creating' && snap.state !== 'CreatedOnPrimary' && snap.state !== 'BackingUp') {
      throw new IllegalStateError(`snapshot ${snap.name} is ${snap.state}; only one being created can be finished`);
    }
    if (snap.state === 'Allocated') {
      const vol = await this.data.volumes.get(SYSTEM, snap.volumeid);
      if (vol.state === 'Ready') await this.data.volumes.transition(SYSTEM, vol.id, 'SnapshotRequested', { expect: 'Ready' });
      else if (vol.state !== 'Snapshotting') throw new IllegalStateError(`volume ${vol.name} is ${vol.state}, not Ready: cannot snapshot it now`);
      snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'CreateRequested', { expect: 'Allocated' });
    }
    if (stage === 'begin') {
      if (snap.state !== 'Creating') throw new IllegalStateError(`snapshot ${snap.name} is ${snap.state}; it cannot be taken now`);
      return snap;
    }
    try {
      if (snap.state === 'Creating') {
        const vol = await this.data.volumes.get(SYSTEM, snap.volumeid);
        snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'OperationSucceeded', { expect: 'Creating', physicalsize: physicalsize ?? vol.size });
      }
      if (snap.state === 'CreatedOnPrimary') snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'BackupToSecondary');
      if (snap.state === 'BackingUp') snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'OperationSucceeded');
      if (snap.state !== 'BackedUp') throw new IllegalStateError(`snapshot ${snap.name} is ${snap.state}; it cannot be taken now`);
    } catch (err) {
      await this.fail(snap);
      throw err;
    }
    return this.releaseVolume(snap);
  }

  /**
   * Deletes the snapshot in one call, or with `stage` in parts around the removal of its file on a host:
   * `begin` takes it to Destroying (no longer usable), `finish` removes it, `fail` takes it back to
   * BackedUp (its file is still there). A deleted snapshot answers at once.
   */
  async delete(scope: Scope, snapshotid: string, stage: SnapshotStage = 'all'): Promise<void> {
    let snap: Snapshot;
    try {
      snap = await this.data.snapshots.get(scope, snapshotid);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    if (stage === 'fail') {
      if (snap.state === 'Destroying') await this.data.snapshots.transition(SYSTEM, snapshotid, 'OperationFailed', { expect: 'Destroying' });
      return;
    }
    if (snap.state !== 'Destroying') snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'DestroyRequested');
    if (stage === 'begin') return;
    await this.data.snapshots.transition(SYSTEM, snapshotid, 'OperationSucceeded', { expect: 'Destroying' });
  }

  /** The volume leaves Snapshotting once the snapshot is backed up (or failed). */
  private async releaseVolume(snap: Snapshot): Promise<Snapshot> {
    const vol = await this.data.volumes.get(SYSTEM, snap.volumeid);
    if (vol.state === 'Snapshotting') await this.data.volumes.transition(SYSTEM, vol.id, 'OperationSucceeded', { expect: 'Snapshotting' });
    return snap;
  }

  private async fail(snap: Snapshot): Promise<void> {
    const now = await this.data.snapshots.get(SYSTEM, snap.id);
    if (now.state === 'Creating' || now.state === 'BackingUp') await this.data.snapshots.transition(SYSTEM, snap.id, 'OperationFailed');
    const vol = await this.data.volumes.get(SYSTEM, snap.volumeid);
    if (vol.state === 'Snapshotting') await this.data.volumes.transition(SYSTEM, vol.id, 'OperationFailed', { expect: 'Snapshotting' });
  }
}
