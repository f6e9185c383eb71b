import { ask, defineProtocol } from '../../src/protocol.js';
import { FenceSchema } from '../../src/lease.js';
import { t } from '../../src/schema.js';
import { ScopeSchema, SnapshotSchema, VolumeSchema, type Snapshot, type Volume } from '../data/protocol.js';

/**
 * The storage component's protocol (service `storage`, actor at STORAGE_PATH): volumes on primary
 * storage pools (from templates or disk offerings), resize, re-image and snapshots.
 *
 * Every command that changes something carries an idempotency `key` (and, from a job, the job's lease
 * `fence`: its data writes are refused once the job has another owner) and is idempotent by state: a
 * volume already Ready is not created again, an expunged volume is not expunged again. A command that
 * fails leaves the volume or snapshot in the state it started from, holding nothing new.
 *
 * Errors (src/errors.ts): NotFoundError; InsufficientCapacityError when no pool has room;
 * ResourceUnavailableError when a volume sits on a pool the requested cluster cannot reach;
 * ResourceInUseError when deleting a volume attached to a VM; IllegalStateError when a volume or
 * snapshot is busy with another operation; InvalidParameterError for a shrink without `shrinkok`.
 */

export const STORAGE_SERVICE = 'storage';
export const STORAGE_PATH = '/storage';

export type { Snapshot, Volume };

const id = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });

export const SnapshotStageSchema = t.literal('all', 'begin', 'finish', 'fail');

export const StorageProtocol = defineProtocol(STORAGE_SERVICE, '1.0', {
  /**
   * Creates an Allocated volume on a primary pool reachable from `clusterid` (a cluster-scoped pool of
   * that cluster, or a zone-wide one): Allocated → Creating → Ready. A ROOT volume is cloned from its
   * template's copy on the pool (the template is copied there the first time). A Ready volume is
   * answered as it is, or refused with ResourceUnavailableError when its pool is out of reach.
   */
  prepareVolume: ask(t.object({ key: id(), fence: t.optional(FenceSchema), volumeid: id(), clusterid: t.optional(id()) }), VolumeSchema),
  /** Destroys and expunges a volume (its bytes go back to the pool). An expunged volume answers at once. */
  destroyVolume: ask(t.object({ key: id(), fence: t.optional(FenceSchema), volumeid: id() }), t.object({ volumeid: t.string() })),
  /** deleteVolume for `scope`: refused with ResourceInUseError (536) while the volume is attached. */
  deleteVolume: ask(t.object({ key: id(), fence: t.optional(FenceSchema), volumeid: id(), scope: ScopeSchema }), t.object({ volumeid: t.string() })),
  /** Changes a volume's size (bytes); shrinking needs `shrinkok`. Growth must fit its pool. */
  resizeVolume: ask(t.object({
    key: id(), fence: t.optional(FenceSchema), volumeid: id(), size: t.number({ int: true, min: 1 }), shrinkok: t.optional(t.boolean()), scope: ScopeSchema,
  }), VolumeSchema),
  /** Clones a ROOT volume afresh from a template (restoreVirtualMachine); the volume keeps its id and pool. */
  reimageVolume: ask(t.object({ key: id(), fence: t.optional(FenceSchema), volumeid: id(), templateid: id() }), VolumeSchema),
  /**
   * Takes an Allocated snapshot through Creating and BackingUp to BackedUp; the volume is Snapshotting
   * meanwhile. With `stage`, in parts around a host's copy of the volume's file (KVM): `begin` (to
   * Creating), `finish` (to BackedUp, with the copy's `physicalsize` in bytes), `fail` (to Error, the
   * volume Ready again).
   */
  createSnapshot: ask(t.object({ key: id(), fence: t.optional(FenceSchema), snapshotid: id(), stage: t.optional(SnapshotStageSchema),
    physicalsize: t.optional(t.number({ int: true, min: 0 })) }), SnapshotSchema),
  /**
   * Destroys a snapshot for `scope`. A deleted snapshot answers at once. With `stage`, in parts around the
   * removal of its file on a host: `begin` (to Destroying), `finish` (removed), `fail` (BackedUp again).
   */
  deleteSnapshot: ask(t.object({ key: id(), fence: t.optional(FenceSchema), snapshotid: id(), scope: ScopeSchema,
    stage: t.optional(SnapshotStageSchema) }), t.object({ snapshotid: t.string() })),
});

export type StorageProtocolType = typeof StorageProtocol;
