import { IllegalStateError, NotFoundError } from '../../src/errors.js';
import { SYSTEM, type DataApi, type Scope } from '../data/protocol.js';
import type { Snapshot } from './protocol.js';


/**
 * Snapshots on the simulated storage: Allocated → Creating → CreatedOnPrimary → BackingUp → BackedUp,
 * the volume Snapshotting meanwhile. Each call carries on from the state it finds, so a repeated or
 * resumed step finishes what an earlier one started.
 */
export class SnapshotOps {
  constructor(private readonly data: DataApi) {}

  async create(snapshotid: string): Promise<Snapshot> {
    let snap = await this.data.snapshots.get(SYSTEM, snapshotid);
    if (snap.state === 'BackedUp') return this.releaseVolume(snap);
    if (snap.state === 'Allocated') {
      const vol = await this.data.volumes.get(SYSTEM, snap.volumeid);
      if (vol.state === 'Ready') await this.data.volumes.transition(SYSTEM, vol.id, 'SnapshotRequested', { expect: 'Ready' });
      else if (vol.state !== 'Snapshotting') throw new IllegalStateError(`volume ${vol.name} is ${vol.state}, not Ready: cannot snapshot it now`);
      snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'CreateRequested', { expect: 'Allocated' });
    }
    try {
      if (snap.state === 'Creating') {
        const vol = await this.data.volumes.get(SYSTEM, snap.volumeid);
        snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'OperationSucceeded', { expect: 'Creating', physicalsize: vol.size });
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

  async delete(scope: Scope, snapshotid: string): Promise<void> {
    let snap: Snapshot;
    try {
      snap = await this.data.snapshots.get(scope, snapshotid);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    if (snap.state !== 'Destroying') snap = await this.data.snapshots.transition(SYSTEM, snapshotid, 'DestroyRequested');
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
