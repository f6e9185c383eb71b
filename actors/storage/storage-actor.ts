import type { ActorDefinition } from '../../src/actor-types.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { ActorContext } from '../../src/actor-types.js';
import type { Fence } from '../../src/lease.js';
import { DataProtocol, dataClient, fencedDataClient, type DataCall, waitingDataCall } from '../data/protocol.js';
import { StorageProtocol, type StorageProtocolType } from './protocol.js';
import { SnapshotOps } from './snapshot-ops.js';
import { VolumeOps } from './volume-ops.js';

export interface StorageActorOptions {
  /** Finds the data service. */
  locator: ServiceLocator;
  /** Pools considered per volume placement (fullest last). Default 20. */
  poolCandidates?: number;
}

export interface StorageState {
  volumes: VolumeOps;
  snapshots: SnapshotOps;
  call: (body: DataCall) => Promise<unknown>;
}

/** The operations for one command: a job's command writes under the job's lease (refused once it moved on). */
function opsFor(ctx: ActorContext<StorageState>, fence: Fence | undefined, poolCandidates: number): { volumes: VolumeOps; snapshots: SnapshotOps } {
  if (fence === undefined) return ctx.state;
  const data = fencedDataClient(ctx.state.call, fence);
  return { volumes: new VolumeOps(data, poolCandidates), snapshots: new SnapshotOps(data) };
}

/**
 * The storage component: primary storage volumes and snapshots over the data service's atomic pool
 * reservation (reserving a volume's bytes on a pool is one compare-and-add, so a pool is never
 * over-committed beyond its over-provisioning factor however many volumes are created at once).
 */
export function storageActor(options: StorageActorOptions): ActorDefinition<StorageProtocolType, StorageState> {
  const poolCandidates = options.poolCandidates ?? 20;
  return {
    protocol: StorageProtocol,
    init: (ctx) => {
      const call = waitingDataCall((body: DataCall) => ctx.ask(options.locator.ref(DataProtocol), 'call', body), ctx.clock);
      const data = dataClient(call);
      return { call, volumes: new VolumeOps(data, poolCandidates), snapshots: new SnapshotOps(data) };
    },
    handlers: {
      prepareVolume: ({ volumeid, clusterid, fence }, ctx) => opsFor(ctx, fence, poolCandidates).volumes.prepare(volumeid, clusterid),
      destroyVolume: async ({ volumeid, fence }, ctx) => {
        await opsFor(ctx, fence, poolCandidates).volumes.destroy(volumeid);
        return { volumeid };
      },
      deleteVolume: async ({ volumeid, scope, fence }, ctx) => {
        const data = fence === undefined ? dataClient(ctx.state.call) : fencedDataClient(ctx.state.call, fence);
        // The data service refuses an attached volume with ResourceInUseError (536) and frees the pool.
        await data.volumes.delete(scope, volumeid);
        return { volumeid };
      },
      resizeVolume: ({ volumeid, size, shrinkok, scope, fence }, ctx) =>
        opsFor(ctx, fence, poolCandidates).volumes.resize(scope, volumeid, size, shrinkok ?? false),
      reimageVolume: ({ volumeid, templateid, fence }, ctx) => opsFor(ctx, fence, poolCandidates).volumes.reimage(volumeid, templateid),
      createSnapshot: ({ snapshotid, fence }, ctx) => opsFor(ctx, fence, poolCandidates).snapshots.create(snapshotid),
      deleteSnapshot: async ({ snapshotid, scope, fence }, ctx) => {
        await opsFor(ctx, fence, poolCandidates).snapshots.delete(scope, snapshotid);
        return { snapshotid };
      },
    },
  };
}
