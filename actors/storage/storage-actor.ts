import type { ActorDefinition } from '../../src/actor-types.js';
import type { ServiceLocator } from '../../src/locator.js';
import { DataProtocol, dataClient } from '../data/protocol.js';
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
  downloader: TemplateDownloader | undefined;
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
      const data = dataClient((body) => ctx.ask(options.locator.ref(DataProtocol), 'call', body));
      const downloader = options.downloads === false ? undefined
        : new TemplateDownloader(data, ctx.clock, ctx.log, { ...DEFAULT_DOWNLOAD_OPTIONS, ...options.downloads });
      return { volumes: new VolumeOps(data, poolCandidates), snapshots: new SnapshotOps(data), downloader };
    },
    started: async (ctx) => { await ctx.state.downloader?.start(); },
    stopping: (ctx) => { ctx.state.downloader?.stop(); },
    handlers: {
      prepareVolume: ({ volumeid, clusterid }, ctx) => ctx.state.volumes.prepare(volumeid, clusterid),
      destroyVolume: async ({ volumeid }, ctx) => {
        await ctx.state.volumes.destroy(volumeid);
        return { volumeid };
      },
      deleteVolume: async ({ volumeid, scope }, ctx) => {
        const data = dataClient((body) => ctx.ask(options.locator.ref(DataProtocol), 'call', body));
        // The data service refuses an attached volume with ResourceInUseError (536) and frees the pool.
        await data.volumes.delete(scope, volumeid);
        return { volumeid };
      },
      resizeVolume: ({ volumeid, size, shrinkok, scope }, ctx) => ctx.state.volumes.resize(scope, volumeid, size, shrinkok ?? false),
      reimageVolume: ({ volumeid, templateid }, ctx) => ctx.state.volumes.reimage(volumeid, templateid),
      createSnapshot: ({ snapshotid }, ctx) => ctx.state.snapshots.create(snapshotid),
      deleteSnapshot: async ({ snapshotid, scope }, ctx) => {
        await ctx.state.snapshots.delete(scope, snapshotid);
        return { snapshotid };
      },
    },
  };
}
