import type { ActorDefinition } from '../../src/actor-types.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { ActorContext } from '../../src/actor-types.js';
import { KeyedSerializer } from '../../src/keyed-serializer.js';
import type { Fence } from '../../src/lease.js';
import { replyLater } from '../../src/reply-later.js';
import {
  DataProtocol, dataClient, dataOps, fencedDataClient, type DataCall, type DataSend, waitingDataCall, waitingDataSend,
} from '../data/protocol.js';
import { StorageProtocol, type StorageProtocolType } from './protocol.js';
import { SnapshotOps } from './snapshot-ops.js';
import { VolumeOps } from './volume-ops.js';
import { DEFAULT_DOWNLOAD_OPTIONS, TemplateDownloader, type DownloadOptions } from './template-downloader.js';

export interface StorageActorOptions {
  /** Finds the data service. */
  locator: ServiceLocator;
  /** Pools considered per volume placement (fullest last). Default 20. */
  poolCandidates?: number;
  /** The template downloader's limits (see DownloadOptions); `false` runs no downloader. */
  downloads?: Partial<DownloadOptions> | false;
}

export interface StorageState {
  volumes: VolumeOps;
  snapshots: SnapshotOps;
  call: (body: DataCall) => Promise<unknown>;
  /** Sends the data service's named operations. */
  send: DataSend;
  serial: KeyedSerializer;
  downloader: TemplateDownloader | undefined;
}

/** Deadline of one data service call, ms. SQLite answers in microseconds; 15 s only covers a stall. */
const DATA_TIMEOUT_MS = 15_000;

/** Runs a command after the earlier ones on the same object, replying when it is done. */
function keyed<T>(ctx: ActorContext<StorageState>, key: string, work: () => Promise<T>): T {
  return replyLater(ctx, () => ctx.state.serial.run(key, work));
}

/** The operations for one command: a job's command writes under the job's lease (refused once it moved on). */
function opsFor(ctx: ActorContext<StorageState>, fence: Fence | undefined, poolCandidates: number): { volumes: VolumeOps; snapshots: SnapshotOps } {
  if (fence === undefined) return ctx.state;
  const data = fencedDataClient(ctx.state.call, fence);
  return { volumes: new VolumeOps(data, dataOps(ctx.state.send, fence), poolCandidates), snapshots: new SnapshotOps(data) };
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
      const call = waitingDataCall((body: DataCall) => options.locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), ctx.clock);
      const send = waitingDataSend((type, body) => options.locator.ref(DataProtocol).ask(type, body as never, { timeoutMs: DATA_TIMEOUT_MS }), ctx.clock);
      const data = dataClient(call);
      const downloader = options.downloads === false ? undefined
        : new TemplateDownloader(data, ctx.clock, ctx.log, { ...DEFAULT_DOWNLOAD_OPTIONS, ...options.downloads });
      return { call, send, volumes: new VolumeOps(data, dataOps(send), poolCandidates), snapshots: new SnapshotOps(data), serial: new KeyedSerializer(), downloader };
    },
    started: async (ctx) => { await ctx.state.downloader?.start(); },
    stopping: (ctx) => { ctx.state.downloader?.stop(); },
    // Commands on different volumes run at once (each waits on the data service); one volume's, in order.
    handlers: {
      prepareVolume: ({ volumeid, clusterid, fence }, ctx) =>
        keyed(ctx, volumeid, () => opsFor(ctx, fence, poolCandidates).volumes.prepare(volumeid, clusterid)),
      destroyVolume: ({ volumeid, fence }, ctx) => keyed(ctx, volumeid, async () => {
        await opsFor(ctx, fence, poolCandidates).volumes.destroy(volumeid);
        return { volumeid };
      }),
      deleteVolume: ({ volumeid, scope, fence }, ctx) => keyed(ctx, volumeid, async () => {
        const data = fence === undefined ? dataClient(ctx.state.call) : fencedDataClient(ctx.state.call, fence);
        // The data service refuses an attached volume with ResourceInUseError (536) and frees the pool.
        await data.volumes.delete(scope, volumeid);
        return { volumeid };
      }),
      resizeVolume: ({ volumeid, size, shrinkok, scope, fence }, ctx) =>
        keyed(ctx, volumeid, () => opsFor(ctx, fence, poolCandidates).volumes.resize(scope, volumeid, size, shrinkok ?? false)),
      reimageVolume: ({ volumeid, templateid, fence }, ctx) =>
        keyed(ctx, volumeid, () => opsFor(ctx, fence, poolCandidates).volumes.reimage(volumeid, templateid)),
      createSnapshot: ({ snapshotid, fence, stage, physicalsize }, ctx) =>
        keyed(ctx, snapshotid, () => opsFor(ctx, fence, poolCandidates).snapshots.create(snapshotid, stage, physicalsize)),
      deleteSnapshot: ({ snapshotid, scope, fence, stage }, ctx) => keyed(ctx, snapshotid, async () => {
        await opsFor(ctx, fence, poolCandidates).snapshots.delete(scope, snapshotid, stage);
        return { snapshotid };
      }),
    },
  };
}
