import { FenceSchema } from '../../src/lease.js';
import { ask } from '../../src/protocol.js';
import { t, type Infer } from '../../src/schema.js';
import { VolumeSchema } from './records.js';

/**
 * The data service's operations on a VM deploy's hot path, as named messages with their own request and
 * reply schemas. Each one is what a step of the deploy does, in one round trip and one transaction,
 * where the generic `call` took several (reads that always go together, or a query followed by the
 * reservation it leads to). Replies are plain records declared here; the store is held to them at
 * compile time by the data actor's handlers (deploy-handlers.ts), whose return types are these.
 */

const uuid = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });
const text = (): ReturnType<typeof t.string> => t.string({ maxLength: 4096 });
const opt = t.optional;

export const VM_STATES = ['Starting', 'Running', 'Stopping', 'Stopped', 'Destroyed', 'Expunging', 'Migrating',
  'Error', 'Unknown', 'Shutdown'] as const;

/** A VM's volume as a start step needs it (sizes in bytes; the pool's scope, cluster and state when placed). */
export const VmVolumeSchema = t.object({
  id: uuid(), name: text(), type: text(), deviceid: opt(t.number({ int: true, min: 0 })), size: t.number({ min: 0 }), state: text(),
  storageid: opt(uuid()), poolscope: opt(text()), poolclusterid: opt(uuid()), poolstate: opt(text()), path: opt(text()),
});
export type VmVolume = Infer<typeof VmVolumeSchema>;

/** What the VM's affinity groups require of its placement (see the store's affinityGroups.constraints). */
export const AffinityConstraintsSchema = t.object({
  /** Hosts running a VM that shares a host anti-affinity group with this one. */
  avoidHosts: t.array(uuid(), { maxItems: 100_000 }),
  /** The host every other VM of a host affinity group runs on, if any runs. */
  requiredHost: opt(uuid()),
  /** Two members of host affinity groups run on different hosts: nowhere satisfies both. */
  conflict: opt(text()),
});
export type AffinityConstraints = Infer<typeof AffinityConstraintsSchema>;

/** The VM's fields a start uses (placement size, networks), not the whole listVirtualMachines object. */
export const VmStartViewSchema = t.object({
  id: uuid(), name: text(), instancename: text(), state: t.literal(...VM_STATES), zoneid: uuid(), zonename: text(),
  serviceofferingid: uuid(), cpunumber: t.number({ int: true, min: 0 }), cpuspeed: t.number({ min: 0 }), memory: t.number({ min: 0 }),
  hypervisor: opt(text()), nic: t.array(t.object({ id: uuid(), networkid: uuid() }), { maxItems: 64 }),
});
export type VmStartView = Infer<typeof VmStartViewSchema>;

/** Everything a VM start reads before it places the VM, in one read. */
export const VmStartContextSchema = t.object({
  vm: VmStartViewSchema,
  /** The service offering's comma-separated host tags. */
  hosttags: opt(text()),
  volumes: t.array(VmVolumeSchema, { maxItems: 64 }),
  affinity: AffinityConstraintsSchema,
});
export type VmStartContext = Infer<typeof VmStartContextSchema>;

/** Which hosts may take a VM, and in what order they are tried (see the store's orchestration.hostCandidates). */
export const HostPickQuerySchema = t.object({
  zoneid: uuid(),
  /** MHz and bytes. */
  cpu: t.number({ min: 0 }), memory: t.number({ min: 0 }),
  podid: opt(uuid()), clusterid: opt(uuid()), hypervisor: opt(text()), hosttag: opt(text()),
  avoid: opt(t.array(uuid(), { maxItems: 100_000 })),
  /** 'firstfit': lowest ids first; 'leastconsumed': least allocated CPU first; 'random': from a random host on. */
  order: t.literal('firstfit', 'leastconsumed', 'random'),
  /** For 'random': where in the host list to start, in [0, 1). */
  pivot: opt(t.number({ min: 0, max: 1 })),
  limit: t.number({ int: true, min: 1, max: 10_000 }),
});
export type HostPickQuery = Infer<typeof HostPickQuerySchema>;

/** The host a VM holds capacity on. */
export const PlacementSchema = t.object({ hostid: uuid(), hostname: text(), clusterid: opt(uuid()) });
export type Placement = Infer<typeof PlacementSchema>;

export const DEPLOY_OPERATIONS = {
  /** A start's reads: the VM, its volumes, its offering's host tags and its affinity constraints. */
  startContext: ask(t.object({ vmid: uuid() }), VmStartContextSchema),
  /**
   * Places a VM for a start: releases any capacity it still holds (a leftover of an interrupted step),
   * then reserves its size on a candidate host of `query` with room, trying them from `spread` on (an
   * atomic compare-and-add per host, in the same transaction as the query). No `host` when none has room.
   */
  reserveHostForStart: ask(t.object({
    vmid: uuid(), query: HostPickQuerySchema,
    /**
     * Which candidate is tried first, as a fraction of the list in [0, 1) (the others follow in order,
     * wrapping round): with the 'random' order, a random value spreads VMs over the candidates as
     * CloudStack's random allocator does instead of filling the host after the pivot first. Default 0.
     */
    spread: opt(t.number({ min: 0, max: 1 })),
    fence: opt(FenceSchema),
  }), t.object({ host: opt(PlacementSchema) })),
  /**
   * A volume's creation up to Creating: an Allocated volume without a pool is placed on the first of
   * the `poolCandidates` Up pools reachable from `clusterid` with room (or, on a pool already, checked
   * for reach), then moved to Creating. A Ready volume is answered as it is once checked for reach
   * (ResourceUnavailableError when out of reach); any other state is answered as it is.
   */
  beginVolumeCreate: ask(t.object({
    volumeid: uuid(), clusterid: opt(uuid()), poolCandidates: t.number({ int: true, min: 1, max: 1_000 }), fence: opt(FenceSchema),
  }), VolumeSchema),
  /**
   * A Creating volume's data is in place: for a volume cloned from `templateid`, the template's copy is
   * made on the volume's pool (once per pool); the volume becomes Ready with `path` and `format` (absent:
   * the template's format).
   */
  completeVolumeCreate: ask(t.object({
    volumeid: uuid(), path: text(), format: opt(t.string({ maxLength: 32 })), templateid: opt(uuid()), fence: opt(FenceSchema),
  }), VolumeSchema),
};

/** Deploy operations that only read (safe to send again when the data instance was lost after sending). */
export const DEPLOY_READS: ReadonlySet<string> = new Set(['startContext']);
