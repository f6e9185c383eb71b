import type { HostHealth, MockConfig, MockState, PowerState, StorageReport, VmSpec } from './protocol.js';

/**
 * What the compute agent needs from a hypervisor. The agent (agent.ts) owns everything that is not
 * hypervisor-specific — the protocol, idempotency keys, ask deadlines, heartbeats, the host's identity
 * — so a new hypervisor (libvirt/QEMU, say) is one class implementing this interface, handed to
 * `computeAgent({ driver })`. Nothing in the orchestrator changes: it only speaks the compute protocol.
 *
 * Contract for implementers:
 * - Every method may be called while others are in progress (the agent does not wait for one VM's
 *   operation before handling another VM's). Operations on one VM must be coordinated by the driver:
 *   a `stop` cuts short a `start` or `reboot` of the same VM in progress (that operation then rejects
 *   with InterruptedError); other overlapping operations on one VM reject with ConflictError
 *   (retryable), except a repeat of the same operation with the same spec, which joins it.
 * - Operations are idempotent by state: `start` of a VM already running here with the same spec
 *   resolves `{ alreadyRunning: true }`; `stop` of a VM that is not here resolves `{ wasRunning: false }`;
 *   `finalizeMigration` of a VM already running here and `abortMigration` of one that never arrived
 *   resolve. The agent adds idempotency by key on top (see command-cache.ts).
 * - Failures are src/errors.ts classes and leave the VM as it was: ResourceUnavailableError when the
 *   hypervisor refused (retryable, the orchestrator tries another host), InternalError for a fault,
 *   IllegalStateError when fenced or when the VM is in the wrong state, NotFoundError for an unknown VM.
 *   Anything else a driver throws reaches the caller as InternalError.
 * - A fenced host refuses start, reboot and migration with IllegalStateError until `unfence`; `stop`
 *   still answers (there is nothing to stop), so compensations succeed.
 * - `op.deadline` is the asker's deadline; the agent stops waiting then and answers TimeoutError, but
 *   the driver's operation goes on: it must leave the VM in a consistent state whenever it ends.
 */
export interface HypervisorDriver {
  /** Hypervisor type as CloudStack names it: 'Simulator', 'KVM', ... */
  readonly hypervisor: string;
  /** Version of the hypervisor (or the driver, for the simulator). */
  readonly version: string;

  /** Defines and boots a VM on this host. */
  start(vm: VmSpec, op: DriverOperation): Promise<StartOutcome>;
  /** Shuts a VM down (`forced`: power off at once instead of an ACPI shutdown) and undefines it. */
  stop(vmUuid: string, forced: boolean, op: DriverOperation): Promise<StopOutcome>;
  /** Reboots a VM running here; NotFoundError when it is not running here. */
  reboot(vmUuid: string, op: DriverOperation): Promise<void>;

  /** Migration step 1, on the target: accept the VM's definition (not running here yet). */
  prepareMigration(vm: VmSpec, sourceHost: string, op: DriverOperation): Promise<void>;
  /** Migration step 2, on the source: move the VM to `targetHost`; afterwards it no longer runs here. */
  migrateOut(vmUuid: string, targetHost: string, op: DriverOperation): Promise<void>;
  /** Migration step 3, on the target: the VM runs here from now on. */
  finalizeMigration(vmUuid: string, op: DriverOperation): Promise<void>;
  /** Drops a prepared incoming VM after a failed step 2. */
  abortMigration(vmUuid: string, op: DriverOperation): Promise<void>;

  /**
   * An explicit power-state query (CheckVirtualMachineCommand). With `vmUuids`, one entry per listed VM
   * (PowerOff when it is not running here); without, every VM running here.
   */
  queryPowerStates(vmUuids?: readonly string[]): Promise<Record<string, PowerState>>;
  /** The VMs running here, for the heartbeat (no extra command: it rides on the ping). */
  reportPowerStates(): Promise<Record<string, PowerState>>;

  /** Capacity and what running VMs use (GetHostStatsCommand). */
  describeHost(): Promise<HostDescription>;
  /** Is the hypervisor reachable and answering (PingCommand)? Rejects when it is not. */
  ping(): Promise<void>;
  /** Host health as of now (CheckHealthCommand); 'fenced' while fenced. */
  checkHealth(): Promise<HostHealth>;

  /**
   * Powers off every VM and refuses VM work until `unfence` (FenceCommand). A real driver would use
   * out-of-band power control (IPMI, a PDU); rejects with ResourceUnavailableError when fencing is
   * impossible, so HA can wait and say why.
   */
  fence(reason: string): Promise<FenceOutcome>;
  unfence(): Promise<{ wasFenced: boolean }>;

  /**
   * Hot-plugs / unplugs a data volume of a running VM. Absent on drivers that model no disks (the
   * simulator): the agent then answers success, as the simulator's AttachCommand does.
   */
  attachVolume?(vmUuid: string, volume: VmSpec['volumes'][number], op: DriverOperation): Promise<void>;
  detachVolume?(vmUuid: string, volumeUuid: string, op: DriverOperation): Promise<{ wasAttached: boolean }>;
  /**
   * Removes the files of deleted volumes from the host's own storage; resolves with the ids whose file
   * was removed. Absent on drivers that keep no files (the simulator).
   */
  deleteVolumes?(volumeUuids: readonly string[]): Promise<string[]>;
  /**
   * Resizes a volume's file on the host, live when a guest running there has it; resolves false when the
   * host holds no file of it. Absent on drivers that keep no files (the simulator).
   */
  resizeVolume?(volumeUuid: string, sizeBytes: number, shrinkOk: boolean): Promise<boolean>;
  /**
   * Volume snapshots as files of the host's own storage (absent on drivers that keep no files: the
   * simulator's snapshots are records only, taken by the storage component alone, and it is never asked).
   * `snapshotVolume` copies a volume's file to a standalone snapshot file and resolves undefined when the
   * host holds no file of the volume; `volumeFromSnapshot` makes a new volume's file from a snapshot file
   * (undefined when the host holds no such snapshot); `deleteSnapshots` resolves with the ids whose file
   * was removed. A copy that fails leaves no file and rejects (ResourceUnavailableError).
   */
  snapshotVolume?(volumeUuid: string, snapshotUuid: string): Promise<SnapshotFile | undefined>;
  volumeFromSnapshot?(snapshotUuid: string, volumeUuid: string): Promise<SnapshotFile | undefined>;
  deleteSnapshots?(snapshotUuids: readonly string[]): Promise<string[]>;
  /**
   * Created templates as files of the host's own storage (absent on drivers that keep no files). `templateFile`
   * writes a standalone copy of a volume's or snapshot's file as the template's file and resolves undefined
   * when the host holds no file of the source; it refuses a volume a running guest has open. A copy that
   * fails leaves no file. `deleteTemplateFiles` resolves with the ids whose file was removed.
   */
  templateFile?(source: TemplateSource, templateUuid: string): Promise<SnapshotFile | undefined>;
  deleteTemplateFiles?(templateUuids: readonly string[]): Promise<string[]>;
  /**
   * The real capacity and usage of the file system under the host's primary storage, carried by every
   * heartbeat. Absent on drivers without storage of their own (the simulator: its pools are what the
   * admin booked).
   */
  storageCapacity?(): Promise<StorageReport>;
  /** The identifiers the management side admitted the host under (for mock scoping, logs). */
  setPlacement?(placement: HostPlacement): void;
  /** Present on drivers that support simulator failure injection. */
  readonly mocks?: MockControl;
  /** Releases what the driver holds (connections, timers). In-progress operations are interrupted. */
  close(): Promise<void>;
}

/** What the agent passes with each VM operation. */
export interface DriverOperation {
  /** The command's idempotency key (for logs and for hypervisors that deduplicate themselves). */
  readonly key: string;
  /** The asker's absolute deadline in clock ms, if any. */
  readonly deadline: number | undefined;
}

/** What a template is created from: a volume's file or a snapshot's. */
export type TemplateSource = { volumeUuid: string } | { snapshotUuid: string };

/** A snapshot (or a volume made from one) as a file: its bytes on disk and the disk size the guest sees, bytes. */
export interface SnapshotFile { physicalSize: number; virtualSize: number }

export interface StartOutcome {
  alreadyRunning: boolean;
}

export interface StopOutcome {
  wasRunning: boolean;
}

export interface FenceOutcome {
  alreadyFenced: boolean;
  /** VMs that were running and are now powered off. */
  stoppedVms: string[];
}

export interface HostCapacity {
  cpuCores: number;
  cpuSpeedMhz: number;
  memoryMiB: number;
}

export interface HostDescription extends HostCapacity {
  allocated: { vms: number; cpuCores: number; cpuMhz: number; memoryMiB: number };
}

export interface HostPlacement {
  hostName: string;
  hostUuid?: string;
  zone: string;
  pod: string;
  cluster: string;
}

/** Simulator failure injection (see simulator-mocks.ts for the semantics). */
export interface MockControl {
  /** Replaces the installed mocks; returns how many are installed. */
  set(mocks: readonly MockConfig[]): number;
  list(): MockState[];
}
