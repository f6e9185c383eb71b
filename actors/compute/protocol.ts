import { ask, defineProtocol, tell } from '../../src/protocol.js';
import { t, type Infer } from '../../src/schema.js';

/**
 * The compute agent's protocol: one agent actor per hypervisor host, at `computeAgentPath(host)`.
 *
 * Every command that changes a VM carries an idempotency `key`. The orchestrator sends its job steps
 * at least once, so the agent remembers recent keys: a repeated key joins the operation still in
 * progress or answers the recorded success without acting again. Commands are also idempotent by
 * state: starting a VM already running here with the same spec, or stopping a VM that is not here,
 * answers success. A failed command is not remembered, so retrying its key runs it again (a failure
 * leaves the host as it was).
 *
 * Errors (src/errors.ts): ResourceUnavailableError (retryable) when the hypervisor refused an
 * operation (a simulator `result:fail` mock); InternalError for a hypervisor fault (`result:fault`);
 * IllegalStateError when the host is fenced or the VM is not in a state the command needs;
 * ConflictError (retryable) when another operation on the same VM is in progress; NotFoundError for a
 * VM this host does not have; InterruptedError for a start or reboot cut short by a stop or a fence;
 * TimeoutError when the ask's deadline passes while the operation is still running here (it goes on
 * and either completes or is superseded by a later stop).
 */

/** Service name other nodes look the compute agents up by. */
export const COMPUTE_SERVICE = 'compute';
/** Path under which every agent of a node lives; the agent of host `h` is at `/compute/h`. */
export const COMPUTE_ROOT = '/compute';
/** Host names are used in actor paths, so they are limited to the characters paths allow. */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9._:@+-]{1,128}$/;

export function computeAgentPath(hostName: string): string {
  return `${COMPUTE_ROOT}/${hostName}`;
}

/** Most bytes of base64 user data a start carries (well under the 1 MiB frame limit). */
export const MAX_USER_DATA_CHARS = 524_288;
/** Most NICs and volumes per VM. */
export const MAX_NICS = 64;
export const MAX_VOLUMES = 64;
/** Most mocks one setMocks may install. */
export const MAX_MOCKS = 1_000;

const id = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });
const key = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });
const int = (min: number, max: number): ReturnType<typeof t.number> => t.number({ int: true, min, max });

export const PowerStateSchema = t.literal('PowerOn', 'PowerOff');
/** What a host reports for a VM: running on this host, or not running on it. */
export type PowerState = Infer<typeof PowerStateSchema>;

export const HostHealthSchema = t.literal('healthy', 'unhealthy', 'fenced');
/** `unhealthy`: the host's health check failed (CheckHealthCommand); `fenced`: it refuses all work. */
export type HostHealth = Infer<typeof HostHealthSchema>;

export const NicSpecSchema = t.object({
  /** Position of the NIC in the VM (0 = first). */
  deviceId: int(0, 255),
  mac: t.string({ pattern: /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/ }),
  ip: t.optional(t.string({ maxLength: 64 })),
  ip6: t.optional(t.string({ maxLength: 64 })),
  netmask: t.optional(t.string({ maxLength: 64 })),
  gateway: t.optional(t.string({ maxLength: 64 })),
  networkUuid: t.optional(id()),
  /** e.g. `vlan://100`, `vxlan://5000`, `vlan://untagged`. */
  broadcastUri: t.optional(t.string({ maxLength: 255 })),
  isDefault: t.boolean(),
});
export type NicSpec = Infer<typeof NicSpecSchema>;

export const VolumeSpecSchema = t.object({
  uuid: id(),
  deviceId: int(0, 255),
  type: t.literal('ROOT', 'DATADISK'),
  sizeBytes: t.number({ int: true, min: 0 }),
  poolUuid: t.optional(id()),
  path: t.optional(t.string({ maxLength: 1024 })),
  /**
   * True: this command creates the volume (the management side has it Allocated or Creating and made it
   * Ready for this command); a host that keeps files makes its file (a root disk cloned from the
   * template, an empty data disk), or uses the one an earlier try of the same creation left. False: the
   * volume exists (Ready) and its file must be found in the host's primary storage; a missing file
   * fails the command (never a fresh disk in place of the volume's data).
   */
  isNew: t.boolean(),
});
export type VolumeSpec = Infer<typeof VolumeSpecSchema>;

export const VmSpecSchema = t.object({
  uuid: id(),
  /** Internal name on the hypervisor, e.g. `i-2-10-VM`. */
  name: id(),
  displayName: t.optional(t.string({ maxLength: 255 })),
  cpuCores: int(1, 1_024),
  cpuSpeedMhz: int(1, 1_000_000),
  memoryMiB: int(1, 16 * 1024 * 1024),
  nics: t.array(NicSpecSchema, { maxItems: MAX_NICS }),
  volumes: t.array(VolumeSpecSchema, { maxItems: MAX_VOLUMES }),
  /** Base64 user data served to the guest. */
  userData: t.optional(t.string({ maxLength: MAX_USER_DATA_CHARS })),
  /** Password served to a password-enabled template on first boot. */
  password: t.optional(t.string({ maxLength: 255 })),
  sshPublicKey: t.optional(t.string({ maxLength: 16_384 })),
  templateUuid: t.optional(id()),
  /**
   * The template's image. Registered by URL: its URL, checksum and format; a real hypervisor downloads it
   * to its pool once. Created from a volume or snapshot (createTemplate): its `uuid`; it has no URL, and
   * its file is the one the host that held the source wrote into the pool (`templateFile`).
   */
  template: t.optional(t.union(
    t.object({
      url: t.string({ maxLength: 2_048 }),
      checksum: t.optional(t.string({ maxLength: 255 })),
      format: t.string({ maxLength: 32 }),
    }),
    t.object({
      uuid: id(),
      format: t.string({ maxLength: 32 }),
    }),
  )),
  osType: t.optional(t.string({ maxLength: 255 })),
  haEnabled: t.optional(t.boolean()),
});
export type VmSpec = Infer<typeof VmSpecSchema>;

/**
 * A simulator mock as the management side stores it (configureSimulator). Scope fields hold the same
 * identifiers the agents were given for their zone, pod, cluster and host (uuid or name); an absent
 * field matches every host. `revision` changes whenever the mock is (re)configured: pushing the same
 * id and revision again keeps the count already consumed, a new revision starts counting afresh.
 */
export const MockConfigSchema = t.object({
  id: id(),
  /** Agent command class name, e.g. StartCommand, StopCommand, PingCommand. */
  name: t.string({ minLength: 1, maxLength: 128 }),
  /** `;`-separated `key:value` options: `result:fail`, `result:fault`, `wait:<ms>`, `enabled:false`, `timeout:<n>`. */
  value: t.string({ maxLength: 1_024 }),
  /** Times the mock fires before it is used up; absent or null: every time. */
  count: t.optional(t.nullable(t.number({ int: true, min: 0 }))),
  zoneId: t.optional(id()),
  podId: t.optional(id()),
  clusterId: t.optional(id()),
  hostId: t.optional(id()),
  revision: t.number({ int: true, min: 0 }),
});
export type MockConfig = Infer<typeof MockConfigSchema>;

export const MockStateSchema = t.object({
  id: id(),
  name: t.string(),
  value: t.string(),
  revision: t.number(),
  /** Firings left; null: unlimited. */
  remaining: t.nullable(t.number()),
  /** Times the mock fired since this revision was installed. */
  hits: t.number(),
});
export type MockState = Infer<typeof MockStateSchema>;

const hostIdentity = {
  hostName: t.string(),
  hostUuid: t.optional(t.string()),
  zone: t.string(),
  pod: t.string(),
  cluster: t.string(),
};

export const HostIdentitySchema = t.object(hostIdentity);
export type HostIdentity = Infer<typeof HostIdentitySchema>;

export const HostInfoSchema = t.object({
  ...hostIdentity,
  /** e.g. 'Simulator', 'KVM'. */
  hypervisor: t.string(),
  hypervisorVersion: t.string(),
  cpuCores: t.number(),
  cpuSpeedMhz: t.number(),
  memoryMiB: t.number(),
  /** What the VMs running here use (not counting over-provisioning: that is the allocator's business). */
  allocated: t.object({ vms: t.number(), cpuCores: t.number(), cpuMhz: t.number(), memoryMiB: t.number() }),
  health: HostHealthSchema,
  /** Changes every time the agent starts: a new bootId means the host's earlier VMs are gone. */
  bootId: t.string(),
  /** VM commands refused since the agent started because they carried a stale lease epoch (fencing). */
  fencedCommands: t.optional(t.number()),
});
export type HostInfo = Infer<typeof HostInfoSchema>;

/**
 * The file system under a host's primary storage as `df` shows it, bytes. `fsid` names the file system
 * (machine and device), so hosts whose storage directories share one file system are counted once.
 */
export const StorageReportSchema = t.object({
  fsid: t.string({ maxLength: 255 }),
  totalBytes: t.number({ min: 0 }),
  usedBytes: t.number({ min: 0 }),
  availableBytes: t.number({ min: 0 }),
});
export type StorageReport = Infer<typeof StorageReportSchema>;

/**
 * What an agent sends on every heartbeat (the fabric monitor declares a tell with this schema).
 * `seq` counts heartbeat attempts from 1 per bootId: a gap means reports that failed (a PingCommand
 * mock) or were lost. `powerStates` lists every VM running on the host; a VM it does not list is not
 * running there.
 */
export const HeartbeatReportSchema = t.object({
  hostName: t.string(),
  hostUuid: t.optional(t.string()),
  bootId: t.string(),
  seq: t.number({ int: true, min: 1 }),
  /** Agent clock, ms. */
  sentAt: t.number(),
  health: HostHealthSchema,
  powerStates: t.record(PowerStateSchema),
  /** The host's own primary storage (a driver that keeps files: KVM); the monitor books it on the pools. */
  storage: t.optional(StorageReportSchema),
});
export type HeartbeatReport = Infer<typeof HeartbeatReportSchema>;

const vmReply = { hostName: t.string(), vmUuid: t.string() };

export const StartVmReplySchema = t.object({ ...vmReply, power: t.literal('PowerOn'), alreadyRunning: t.boolean() });
export const StopVmReplySchema = t.object({ ...vmReply, power: t.literal('PowerOff'), wasRunning: t.boolean() });
export const RebootVmReplySchema = t.object({ ...vmReply, power: t.literal('PowerOn') });

/**
 * Migration in three steps, each an ask with its own key:
 * 1. `prepare` on the target: it accepts the VM's spec (not running there yet);
 * 2. `migrate` on the source: the VM leaves the source (reported PowerOff there from then on);
 * 3. `finalize` on the target: the VM runs there.
 * `abort` on the target drops a prepared VM that never arrived (after a failed step 2).
 * Between 2 and 3 the VM runs on neither host in the reports: never on two at once.
 */
export const MigrateVmRequestSchema = t.union(
  t.object({ phase: t.literal('prepare'), key: key(), epoch: t.optional(t.number()), vm: VmSpecSchema, sourceHost: t.string() }),
  t.object({ phase: t.literal('migrate'), key: key(), epoch: t.optional(t.number()), vmUuid: id(), targetHost: t.string() }),
  t.object({ phase: t.literal('finalize'), key: key(), epoch: t.optional(t.number()), vmUuid: id() }),
  t.object({ phase: t.literal('abort'), key: key(), epoch: t.optional(t.number()), vmUuid: id() }),
);
export type MigrateVmRequest = Infer<typeof MigrateVmRequestSchema>;
export type MigrationPhase = MigrateVmRequest['phase'];
export const MigrateVmReplySchema = t.object({
  ...vmReply,
  phase: t.literal('prepare', 'migrate', 'finalize', 'abort'),
  power: PowerStateSchema,
});

/** A file a snapshot command made (or found made), sizes in bytes; `held` false when the host had no source file. */
export const SnapshotFileReplySchema = t.object({
  hostName: t.string(),
  held: t.boolean(),
  physicalSize: t.optional(t.number({ min: 0 })),
  virtualSize: t.optional(t.number({ min: 0 })),
});
export type SnapshotFileReply = Infer<typeof SnapshotFileReplySchema>;

/**
 * VM commands from a job carry the job lease's fencing `epoch`: the agent refuses (FencedError) one whose
 * epoch is lower than the highest it has seen for that VM, i.e. one from an orchestrator that lost the job.
 */
export const ComputeProtocol = defineProtocol(COMPUTE_SERVICE, '1.0', {
  /** Starts a VM here (StartCommand). Running here already with the same spec → success, alreadyRunning. */
  startVm: ask(t.object({ key: key(), epoch: t.optional(t.number()), vm: VmSpecSchema }), StartVmReplySchema),
  /** Stops a VM (StopCommand); cuts short a start or reboot in progress. Not here → success, wasRunning false. */
  stopVm: ask(t.object({ key: key(), epoch: t.optional(t.number()), vmUuid: id(), forced: t.optional(t.boolean()) }), StopVmReplySchema),
  /** Reboots a VM running here (RebootCommand). */
  rebootVm: ask(t.object({ key: key(), epoch: t.optional(t.number()), vmUuid: id() }), RebootVmReplySchema),
  /** One step of a migration (PrepareForMigrationCommand on the target, MigrateCommand on the source). */
  migrateVm: ask(MigrateVmRequestSchema, MigrateVmReplySchema),
  /**
   * Power states (CheckVirtualMachineCommand). With `vmUuids`: exactly those VMs (PowerOff when not
   * running here); without: every VM running here.
   */
  queryPowerStates: ask(
    t.object({ vmUuids: t.optional(t.array(id(), { maxItems: 10_000 })) }),
    t.object({ hostName: t.string(), hostUuid: t.optional(t.string()), states: t.record(PowerStateSchema) }),
  ),
  /** Capacity, hypervisor type and version, allocation and health (GetHostStatsCommand). */
  getHostInfo: ask(t.object({}), HostInfoSchema),
  /**
   * Fences the host (FenceCommand): every VM is powered off at once, in-flight starts are cut short,
   * and the host refuses VM work until `unfence`. Fencing a fenced host answers alreadyFenced.
   */
  fence: ask(
    t.object({ reason: t.optional(t.string({ maxLength: 1_024 })) }),
    t.object({ hostName: t.string(), alreadyFenced: t.boolean(), stoppedVms: t.array(t.string()) }),
  ),
  /** Hot-plugs a data volume into a VM running here (AttachCommand); attached already → success. */
  attachVolume: ask(t.object({ key: key(), vmUuid: id(), volume: VolumeSpecSchema }), t.object({ hostName: t.string(), vmUuid: t.string() })),
  /** Hot-unplugs a data volume from a VM running here (DettachCommand); not attached → success, wasAttached false. */
  detachVolume: ask(t.object({ key: key(), vmUuid: id(), volumeUuid: id() }),
    t.object({ hostName: t.string(), vmUuid: t.string(), wasAttached: t.boolean() })),
  /**
   * Removes the files of deleted volumes from this host's primary storage (DeleteCommand of a local
   * pool). Volumes with no file here are skipped; `deleted` names those whose file was removed.
   */
  deleteVolumes: ask(t.object({ key: key(), volumeUuids: t.array(id(), { maxItems: MAX_VOLUMES }) }),
    t.object({ hostName: t.string(), deleted: t.array(t.string()) })),
  /**
   * Resizes a volume's file on this host (ResizeVolumeCommand): `virsh blockresize` when a guest running
   * here has it (the guest sees the new size at once; it cannot shrink), else qemu-img resize (shrinking
   * only with shrinkOk). A volume with no file here answers resized false.
   */
  resizeVolume: ask(t.object({ key: key(), volumeUuid: id(), sizeBytes: t.number({ int: true, min: 1 }), shrinkOk: t.optional(t.boolean()) }),
    t.object({ hostName: t.string(), resized: t.boolean() })),
  /**
   * Copies a volume's file to a standalone snapshot file of this host's pool (CreateObjectCommand and the
   * snapshot's backup, in one). `held` false: this host holds no file of the volume (nothing was made).
   */
  snapshotVolume: ask(t.object({ key: key(), volumeUuid: id(), snapshotUuid: id() }), SnapshotFileReplySchema),
  /** Makes a new volume's file from a snapshot file of this host's pool; `held` false: no such snapshot here. */
  volumeFromSnapshot: ask(t.object({ key: key(), snapshotUuid: id(), volumeUuid: id() }), SnapshotFileReplySchema),
  /**
   * Writes a new template's file into this host's pool, a standalone copy of a volume's file (the volume of
   * a stopped VM, or a detached one) or of a snapshot's (CreatePrivateTemplateFromVolumeCommand /
   * FromSnapshotCommand). `held` false: this host holds no file of the source (nothing was made).
   */
  templateFile: ask(t.object({ key: key(), templateUuid: id(), source: t.union(t.object({ volumeUuid: id() }), t.object({ snapshotUuid: id() })) }),
    SnapshotFileReplySchema),
  /** Removes the files of created templates from this host's pool; `deleted` names those whose file was removed. */
  deleteTemplateFiles: ask(t.object({ key: key(), templateUuids: t.array(id(), { maxItems: MAX_VOLUMES }) }),
    t.object({ hostName: t.string(), deleted: t.array(t.string()) })),
  /** Removes snapshot files from this host's pool; `deleted` names those whose file was removed. */
  deleteSnapshots: ask(t.object({ key: key(), snapshotUuids: t.array(id(), { maxItems: MAX_VOLUMES }) }),
    t.object({ hostName: t.string(), deleted: t.array(t.string()) })),
  /** Lets a fenced host take work again (it comes back with no VMs). */
  unfence: ask(t.object({}), t.object({ hostName: t.string(), wasFenced: t.boolean() })),
  /** Replaces the simulator mocks this agent applies (UnsupportedError on a driver without mocks). */
  setMocks: ask(t.object({ mocks: t.array(MockConfigSchema, { maxItems: MAX_MOCKS }) }), t.object({ hostName: t.string(), active: t.number() })),
  /** The installed mocks with their remaining counts and hits (for querySimulatorMock). */
  listMocks: ask(t.object({}), t.object({ mocks: t.array(MockStateSchema) })),
  /**
   * Tells the agent the identifiers the management side admitted it under (host uuid, zone, pod,
   * cluster), used in heartbeats and to scope mocks. Absent fields keep their value.
   */
  setPlacement: ask(
    t.object({ hostUuid: t.optional(id()), zone: t.optional(id()), pod: t.optional(id()), cluster: t.optional(id()) }),
    HostIdentitySchema,
  ),
  /** Liveness check through the hypervisor (PingCommand mocks apply: a failed ping is an error). */
  ping: ask(t.object({}), t.object({ hostName: t.string(), bootId: t.string(), at: t.number() })),
  /** Sends one heartbeat report now, outside the cadence (e.g. after a management restart). */
  reportNow: tell(t.object({})),
});

export type ComputeProtocolType = typeof ComputeProtocol;
export type StartVmReply = Infer<typeof StartVmReplySchema>;
export type StopVmReply = Infer<typeof StopVmReplySchema>;
export type RebootVmReply = Infer<typeof RebootVmReplySchema>;
export type MigrateVmReply = Infer<typeof MigrateVmReplySchema>;

/**
 * The actor at COMPUTE_ROOT on a node that runs compute agents: it supervises them and lists them
 * (the fabric admin uses it to find the hosts a compute node serves).
 */
export const ComputeDirectoryProtocol = defineProtocol('compute-directory', '1.0', {
  /**
   * Names of the hosts whose agents run under this directory, in the order they were added, a page at
   * a time (a node may simulate thousands; one reply must fit a frame): up to `limit` (default and
   * most 1,000) after position `after`; `next` is the position to continue from when there are more.
   */
  listHosts: ask(t.object({ after: t.optional(t.number({ int: true, min: 0 })), limit: t.optional(t.number({ int: true, min: 1, max: 1_000 })) }),
    t.object({ hosts: t.array(t.string(), { maxItems: 1_000 }), next: t.optional(t.number()) })),
});

/**
 * Reads a mock's `value` as the simulator will (`;`-separated key:value options) and lists what it
 * would ignore, so configureSimulator can refuse a malformed value up front. Re-exported here because
 * other components may import only this file.
 */
export { parseMockValue, type MockOptions, type ParsedMockValue } from './simulator-mocks.js';

/** Agent command names simulator mocks can target in this implementation. */
export const SIMULATOR_COMMANDS = [
  'StartCommand', 'StopCommand', 'RebootCommand', 'PrepareForMigrationCommand', 'MigrateCommand',
  'CheckVirtualMachineCommand', 'GetHostStatsCommand', 'PingCommand', 'CheckHealthCommand', 'FenceCommand',
] as const;
export type SimulatorCommand = (typeof SIMULATOR_COMMANDS)[number];
