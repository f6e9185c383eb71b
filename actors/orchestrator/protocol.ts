import { ask, defineProtocol } from '../../src/protocol.js';
import { t, type Infer } from '../../src/schema.js';
import { CallerSchema } from '../data/protocol.js';
import { CLIENT_JOB_REQUESTS, CLIENT_SYNC_REQUESTS } from './client-requests.js';

/**
 * The orchestrator's protocol (service `orchestrator`, actor at ORCHESTRATOR_PATH). The API submits
 * every asynchronous command here; the orchestrator turns it into a durable job (an async_job row
 * whose step journal is saved through the data service after every step), runs it in the background
 * and answers at once with the job id — and, for CloudStack's "create" commands (deployVirtualMachine,
 * createVolume, createSnapshot, associateIpAddress), the id of the object it created synchronously.
 *
 * Requests are validated synchronously as far as CloudStack does (unknown or invisible ids, the create
 * phase of deployVirtualMachine) and fail the ask with the usual error classes (InvalidParameterError,
 * NotFoundError → 431, LimitExceededError → 532...). Everything later is reported in the job's result.
 */

export const ORCHESTRATOR_SERVICE = 'orchestrator';
export const ORCHESTRATOR_PATH = '/orchestrator';

const id = () => t.string({ minLength: 1, maxLength: 255 });
const str = (max = 255) => t.optional(t.string({ maxLength: max }));
const num = () => t.optional(t.number({ min: 0 }));

const vmOp = <L extends string>(op: L) => ({ op: t.literal(op), caller: CallerSchema, vmid: id() });

/** deployVirtualMachine's parameters (ids are UUIDs, sizes GiB, memory MiB, cpuspeed MHz). */
export const DeployInputSchema = t.object({
  zoneid: id(), serviceofferingid: id(), templateid: id(),
  name: str(63), displayname: str(), accountid: t.optional(id()), networkids: t.optional(t.array(id(), { maxItems: 64 })),
  diskofferingid: t.optional(id()), size: num(), rootdisksize: num(), keypair: str(), userdata: str(1_048_576),
  group: str(), hypervisor: str(), userdataid: t.optional(id()),
  affinitygroupids: t.optional(t.array(id(), { maxItems: 64 })), affinitygroupnames: t.optional(t.array(t.string({ maxLength: 255 }), { maxItems: 64 })), details: t.optional(t.record(t.string({ maxLength: 1024 }), { maxKeys: 64 })),
  cpunumber: num(), cpuspeed: num(), memory: num(),
});

export const JobRequestSchema = t.union(
  t.object({ op: t.literal('deployVm'), caller: CallerSchema, vm: DeployInputSchema, startvm: t.boolean(), hostid: t.optional(id()) }),
  t.object({ ...vmOp('startVm'), hostid: t.optional(id()), podid: t.optional(id()), clusterid: t.optional(id()) }),
  t.object({ ...vmOp('stopVm'), forced: t.optional(t.boolean()) }),
  t.object(vmOp('rebootVm')),
  t.object({ ...vmOp('destroyVm'), expunge: t.optional(t.boolean()) }),
  t.object(vmOp('expungeVm')),
  t.object({ ...vmOp('scaleVm'), serviceofferingid: id(), cpunumber: num(), cpuspeed: num(), memory: num() }),
  t.object({ ...vmOp('restoreVm'), templateid: t.optional(id()) }),
  t.object({ ...vmOp('migrateVm'), hostid: t.optional(id()) }),
  t.object(vmOp('resetPassword')),
  t.object({ op: t.literal('createVolume'), caller: CallerSchema, name: t.string({ minLength: 1, maxLength: 255 }), zoneid: id(),
    diskofferingid: t.optional(id()), size: num(), accountid: t.optional(id()), virtualmachineid: t.optional(id()), snapshotid: t.optional(id()) }),
  t.object({ op: t.literal('attachVolume'), caller: CallerSchema, volumeid: id(), vmid: id(), deviceid: num() }),
  t.object({ op: t.literal('detachVolume'), caller: CallerSchema, volumeid: id() }),
  t.object({ op: t.literal('resizeVolume'), caller: CallerSchema, volumeid: id(), size: t.number({ int: true, min: 1 }),
    shrinkok: t.optional(t.boolean()) }),
  t.object({ op: t.literal('createSnapshot'), caller: CallerSchema, volumeid: id(), name: str() }),
  t.object({ op: t.literal('deleteSnapshot'), caller: CallerSchema, snapshotid: id() }),
  t.object({ op: t.literal('deleteNetwork'), caller: CallerSchema, networkid: id() }),
  t.object({ op: t.literal('restartNetwork'), caller: CallerSchema, networkid: id() }),
  t.object({ op: t.literal('associateIp'), caller: CallerSchema, zoneid: t.optional(id()), networkid: t.optional(id()),
    accountid: t.optional(id()), ipaddress: str(64) }),
  t.object({ op: t.literal('disassociateIp'), caller: CallerSchema, ipid: id() }),
  ...CLIENT_JOB_REQUESTS,
);
export type JobRequest = Infer<typeof JobRequestSchema>;
export type JobOp = JobRequest['op'];

/** Synchronous commands that still go through the components (and the per-VM serialisation). */
export const SyncRequestSchema = t.union(
  t.object(vmOp('recoverVm')),
  t.object({ op: t.literal('deleteVolume'), caller: CallerSchema, volumeid: id() }),
  t.object({ op: t.literal('configureSimulator'), name: t.string({ minLength: 1, maxLength: 128 }), value: t.string({ maxLength: 1024 }),
    count: t.optional(t.number({ int: true, min: 0 })), zoneid: t.optional(id()), podid: t.optional(id()),
    clusterid: t.optional(id()), hostid: t.optional(id()), jsonresponse: str(65_536) }),
  t.object({ op: t.literal('querySimulatorMock'), id: id() }),
  t.object({ op: t.literal('cleanupSimulatorMock'), id: id() }),
  ...CLIENT_SYNC_REQUESTS,
);
export type SyncRequest = Infer<typeof SyncRequestSchema>;

export const SubmitReplySchema = t.object({ jobid: t.string(), id: t.optional(t.string()) });
export type SubmitReply = Infer<typeof SubmitReplySchema>;

export const OrchestratorStatsSchema = t.object({
  /** Jobs running or waiting for their VM's lock or a slot. */
  active: t.number(),
  succeeded: t.number(),
  failed: t.number(),
  /** Jobs of another incarnation or instance picked up (resumed, or failed as interrupted). */
  recovered: t.number(),
  /** Of those, jobs taken over because their owner's lease ran out (a dead or stalled orchestrator). */
  takenOver: t.optional(t.number()),
  /** Job leases this instance lost (taken over by another instance, or expired here). */
  lostLeases: t.optional(t.number()),
  /** This instance's lease owner id (node/incarnation) and the job leases it holds now. */
  owner: t.optional(t.string()),
  leases: t.optional(t.number()),
  /**
   * Time of the jobs this instance finished, from when it began running each (submitted here, or
   * resumed) to its completion: counts per bucket of `boundsMs` (the last bucket is everything above).
   */
  latency: t.optional(t.object({ boundsMs: t.array(t.number(), { maxItems: 32 }), counts: t.array(t.number(), { maxItems: 33 }), sumMs: t.number(), count: t.number() })),
});
export type OrchestratorStats = Infer<typeof OrchestratorStatsSchema>;

export const OrchestratorProtocol = defineProtocol(ORCHESTRATOR_SERVICE, '1.0', {
  /** Creates the job (and for create commands the object) and starts it. Reply: `{jobid, id?}`. */
  submit: ask(JobRequestSchema, SubmitReplySchema),
  /** Runs a synchronous command. Reply: the command's object (or `{}` for success-only commands). */
  execute: ask(SyncRequestSchema, t.type<Record<string, unknown>>()),
  /** Counters, and `active` = 0 once every job has finished. */
  stats: ask(t.object({}), OrchestratorStatsSchema),
});

export type OrchestratorProtocolType = typeof OrchestratorProtocol;
