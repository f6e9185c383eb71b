import type { ActorContext, ActorDefinition } from '../../src/actor-types.js';
import type { Clock } from '../../src/clock.js';
import { CloudstackdError, ConfigError, InternalError, TimeoutError, UnsupportedError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { createRandom, type Random } from '../../src/random.js';
import { replyLater } from '../../src/reply-later.js';
import { CommandCache } from './command-cache.js';
import { CommandSlots } from './command-slots.js';
import { COMPUTE_DEFAULTS } from './config.js';
import { EpochGuard } from './epoch-guard.js';
import { Heartbeat, type HeartbeatOptions, type HeartbeatStats } from './heartbeat.js';
import type { DriverOperation, HostPlacement, HypervisorDriver, SnapshotFile } from './hypervisor-driver.js';
import {
  ComputeProtocol, HOST_NAME_PATTERN, type ComputeProtocolType, type HeartbeatReport, type HostIdentity,
  type MigrateVmReply, type MigrateVmRequest, type SnapshotFileReply, type StorageReport,
} from './protocol.js';

/** Where a host sits, as the management side knows it. */
export interface ComputeHostConfig {
  /** Host name; also the last segment of the agent's path (`/compute/<name>`). */
  name: string;
  /** The host's uuid once admitted (setPlacement can give it later). */
  uuid?: string;
  zone: string;
  pod: string;
  cluster: string;
}

export interface ComputeAgentOptions {
  host: ComputeHostConfig;
  driver: HypervisorDriver;
  /** Heartbeat cadence and sink. Without it the agent sends no heartbeats (it still answers asks). */
  heartbeat?: HeartbeatOptions;
  /** Idempotency keys remembered per host (oldest dropped first). Default COMPUTE_DEFAULTS (256). */
  maxRememberedCommands?: number;
  /** Source of the bootId. Default: OS-seeded. */
  random?: Random;
  /** VMs whose highest command epoch is remembered (fencing). Default COMPUTE_DEFAULTS (10,000). */
  maxFencedVms?: number;
  /** VM commands run at once. Default COMPUTE_DEFAULTS (5, CloudStack's agent `workers`). */
  maxConcurrentCommands?: number;
  /** VM commands that may wait for a slot. Default COMPUTE_DEFAULTS (1,000). */
  maxWaitingCommands?: number;
}

export interface ComputeAgentState {
  commands: CommandCache;
}

/** An agent definition plus what the lab and tests may observe of it. */
export interface ComputeAgent {
  readonly definition: ActorDefinition<ComputeProtocolType, ComputeAgentState>;
  readonly bootId: string;
  identity(): HostIdentity;
  heartbeatStats(): HeartbeatStats | undefined;
}

/**
 * The compute agent of one hypervisor host: it turns the compute protocol into driver calls and adds
 * what every driver needs — idempotency keys, the ask deadline (the mailbox never waits past it: a
 * slow hypervisor answers TimeoutError and keeps going, so a following stop is handled at once), the
 * host identity, and the heartbeat. The definition may be spawned again over the same driver (after a
 * supervisor restart): the bootId and the heartbeat sequence carry on, because the host did not reboot.
 */
export function createComputeAgent(options: ComputeAgentOptions): ComputeAgent {
  const { driver } = options;
  if (!HOST_NAME_PATTERN.test(options.host.name)) {
    throw new ConfigError(`host name "${options.host.name}" must be 1-128 letters, digits or . _ : @ + - (it is part of the agent's path)`);
  }
  const maxKeys = options.maxRememberedCommands ?? COMPUTE_DEFAULTS.maxRememberedCommands;
  if (!(Number.isSafeInteger(maxKeys) && maxKeys > 0)) throw new ConfigError(`maxRememberedCommands must be a positive integer (got ${maxKeys})`);
  const slotLimit = options.maxConcurrentCommands ?? COMPUTE_DEFAULTS.maxConcurrentCommands;
  const maxWaiting = options.maxWaitingCommands ?? COMPUTE_DEFAULTS.maxWaitingCommands;
  if (!(Number.isSafeInteger(slotLimit) && slotLimit > 0)) throw new ConfigError(`maxConcurrentCommands must be a positive integer (got ${slotLimit})`);
  if (!(Number.isSafeInteger(maxWaiting) && maxWaiting >= 0)) throw new ConfigError(`maxWaitingCommands must be a non-negative integer (got ${maxWaiting})`);
  const random = options.random ?? createRandom();
  const bootId = `${options.host.name}-${random.int(0x7fffffff).toString(36)}${random.int(0x7fffffff).toString(36)}`;
  let identity: HostIdentity = toIdentity(options.host);
  driver.setPlacement?.(toPlacement(identity));
  let clock: Clock | undefined;
  let slots: CommandSlots | undefined;

  /** The storage figures ride on the heartbeat; one that cannot be read is left out (the host is still alive). */
  const storageOf = async (): Promise<StorageReport | undefined> => {
    try {
      return await driver.storageCapacity?.();
    } catch (err) {
      agentLog?.warn('cannot read the primary storage capacity; the heartbeat goes without it', { error: (err as Error).message });
      return undefined;
    }
  };
  const produce = async (seq: number): Promise<HeartbeatReport> => {
    await driver.ping();
    const [health, powerStates, storage] = await Promise.all([driver.checkHealth(), driver.reportPowerStates(), storageOf()]);
    const report: HeartbeatReport = {
      hostName: identity.hostName, bootId, seq, sentAt: clock?.now() ?? 0, health, powerStates,
    };
    if (storage !== undefined) report.storage = storage;
    if (identity.hostUuid !== undefined) report.hostUuid = identity.hostUuid;
    return report;
  };
  let heartbeat: Heartbeat | undefined;
  let agentLog: Logger | undefined;
  const epochs = new EpochGuard(options.maxFencedVms ?? COMPUTE_DEFAULTS.maxFencedVms, options.host.name, (vm, epoch, highest) => {
    agentLog?.warn('refused a command from a stale job owner', { vm, epoch, highest });
  });

  type Ctx = ActorContext<ComputeAgentState>;
  const host = (): string => identity.hostName;
  /**
   * Runs a keyed VM command once per key, bounded by the ask's deadline, in one of the host's command
   * slots: the mailbox takes the next message at once, so commands for other VMs run beside it. The
   * slot is held until the command ends or its ask's deadline passes, whichever is first (a hung
   * hypervisor call does not keep a slot: a stop can still cut it short).
   */
  const keyed = <T>(ctx: Ctx, key: string, signature: string, fn: (op: DriverOperation) => Promise<T>): T => {
    const op: DriverOperation = { key, deadline: ctx.deadline };
    slots ??= new CommandSlots(ctx.clock, slotLimit, maxWaiting, host);
    const pool = slots;
    return replyLater(ctx, () => pool.run(signature, ctx.deadline, () => bounded(ctx, signature, ctx.state.commands.run(key, signature, () => guard(fn(op))))));
  };
  const bounded = <T>(ctx: Ctx, what: string, p: Promise<T>): Promise<T> => withinDeadline(ctx.clock, ctx.deadline, p, what, host());
  /** Runs an unkeyed command (queries, fence), bounded by the ask's deadline. */
  const act = <T>(ctx: Ctx, what: string, fn: () => Promise<T>): Promise<T> => bounded(ctx, what, guard(fn()));

  const definition: ActorDefinition<ComputeProtocolType, ComputeAgentState> = {
    protocol: ComputeProtocol,
    init: () => ({ commands: new CommandCache(maxKeys) }),
    started: (ctx) => {
      clock = ctx.clock;
      agentLog = ctx.log;
      if (options.heartbeat !== undefined) {
        heartbeat ??= new Heartbeat(ctx.clock, options.heartbeat, produce);
        heartbeat.start(ctx.log);
      }
    },
    stopping: () => { heartbeat?.stop(); },
    handlers: {
      startVm: ({ key, epoch, vm }, ctx) => keyed(ctx, key, `startVm ${vm.uuid}`, async (op) => {
        epochs.check(vm.uuid, epoch);
        const r = await driver.start(vm, op);
        return { hostName: host(), vmUuid: vm.uuid, power: 'PowerOn' as const, alreadyRunning: r.alreadyRunning };
      }),
      stopVm: ({ key, epoch, vmUuid, forced }, ctx) => keyed(ctx, key, `stopVm ${vmUuid}`, async (op) => {
        epochs.check(vmUuid, epoch);
        const r = await driver.stop(vmUuid, forced ?? false, op);
        return { hostName: host(), vmUuid, power: 'PowerOff' as const, wasRunning: r.wasRunning };
      }),
      rebootVm: ({ key, epoch, vmUuid }, ctx) => keyed(ctx, key, `rebootVm ${vmUuid}`, async (op) => {
        epochs.check(vmUuid, epoch);
        await driver.reboot(vmUuid, op);
        return { hostName: host(), vmUuid, power: 'PowerOn' as const };
      }),
      migrateVm: (body, ctx) => {
        const vmUuid = body.phase === 'prepare' ? body.vm.uuid : body.vmUuid;
        return keyed(ctx, body.key, `migrateVm ${body.phase} ${vmUuid}`, (op) => {
          epochs.check(vmUuid, body.epoch);
          return migrate(driver, body, op, host());
        });
      },
      queryPowerStates: ({ vmUuids }, ctx) => act(ctx, 'queryPowerStates', async () => {
        const states = await driver.queryPowerStates(vmUuids);
        return identity.hostUuid === undefined
          ? { hostName: host(), states }
          : { hostName: host(), hostUuid: identity.hostUuid, states };
      }),
      getHostInfo: (_b, ctx) => act(ctx, 'getHostInfo', async () => {
        const d = await driver.describeHost();
        const health = await driver.checkHealth();
        return {
          ...identity, hypervisor: driver.hypervisor, hypervisorVersion: driver.version,
          cpuCores: d.cpuCores, cpuSpeedMhz: d.cpuSpeedMhz, memoryMiB: d.memoryMiB, allocated: d.allocated, health, bootId,
          fencedCommands: epochs.refused,
        };
      }),
      fence: ({ reason }, ctx) => act(ctx, 'fence', async () => {
        const r = await driver.fence(reason ?? 'fenced by the management server');
        ctx.log.info('host fenced', { host: host(), alreadyFenced: r.alreadyFenced, stoppedVms: r.stoppedVms.length });
        return { hostName: host(), alreadyFenced: r.alreadyFenced, stoppedVms: r.stoppedVms };
      }),
      attachVolume: ({ key, vmUuid, volume }, ctx) => keyed(ctx, key, `attachVolume ${vmUuid} ${volume.uuid}`, async (op) => {
        await driver.attachVolume?.(vmUuid, volume, op);
        return { hostName: host(), vmUuid };
      }),
      detachVolume: ({ key, vmUuid, volumeUuid }, ctx) => keyed(ctx, key, `detachVolume ${vmUuid} ${volumeUuid}`, async (op) => {
        const r = driver.detachVolume === undefined ? { wasAttached: true } : await driver.detachVolume(vmUuid, volumeUuid, op);
        return { hostName: host(), vmUuid, wasAttached: r.wasAttached };
      }),
      deleteVolumes: ({ key, volumeUuids }, ctx) => keyed(ctx, key, `deleteVolumes ${volumeUuids.join(',')}`, async () => {
        // A driver without files of its own (the simulator) has nothing to remove.
        const deleted = driver.deleteVolumes === undefined ? [] : await driver.deleteVolumes(volumeUuids);
        return { hostName: host(), deleted };
      }),
      snapshotVolume: ({ key, volumeUuid, snapshotUuid }, ctx) => keyed(ctx, key, `snapshotVolume ${volumeUuid} ${snapshotUuid}`, async () =>
        fileReply(host(), await driver.snapshotVolume?.(volumeUuid, snapshotUuid))),
      volumeFromSnapshot: ({ key, snapshotUuid, volumeUuid }, ctx) => keyed(ctx, key, `volumeFromSnapshot ${snapshotUuid} ${volumeUuid}`, async () =>
        fileReply(host(), await driver.volumeFromSnapshot?.(snapshotUuid, volumeUuid))),
      templateFile: ({ key, templateUuid, source }, ctx) =>
        keyed(ctx, key, `templateFile ${templateUuid} ${'volumeUuid' in source ? source.volumeUuid : source.snapshotUuid}`, async () =>
          fileReply(host(), await driver.templateFile?.(source, templateUuid))),
      deleteTemplateFiles: ({ key, templateUuids }, ctx) => keyed(ctx, key, `deleteTemplateFiles ${templateUuids.join(',')}`, async () => {
        const deleted = driver.deleteTemplateFiles === undefined ? [] : await driver.deleteTemplateFiles(templateUuids);
        return { hostName: host(), deleted };
      }),
      deleteSnapshots: ({ key, snapshotUuids }, ctx) => keyed(ctx, key, `deleteSnapshots ${snapshotUuids.join(',')}`, async () => {
        const deleted = driver.deleteSnapshots === undefined ? [] : await driver.deleteSnapshots(snapshotUuids);
        return { hostName: host(), deleted };
      }),
      resizeVolume: ({ key, volumeUuid, sizeBytes, shrinkOk }, ctx) => keyed(ctx, key, `resizeVolume ${volumeUuid} ${sizeBytes}`, async () => {
        // A driver without files of its own (the simulator) holds none of this volume.
        const resized = driver.resizeVolume === undefined ? false : await driver.resizeVolume(volumeUuid, sizeBytes, shrinkOk ?? false);
        return { hostName: host(), resized };
      }),
      unfence: (_b, ctx) => act(ctx, 'unfence', async () => ({ hostName: host(), wasFenced: (await driver.unfence()).wasFenced })),
      setMocks: ({ mocks }) => {
        if (driver.mocks === undefined) {
          throw new UnsupportedError(`the ${driver.hypervisor} driver of host ${host()} has no simulator mocks; configureSimulator applies to Simulator hosts only`);
        }
        return { hostName: host(), active: driver.mocks.set(mocks) };
      },
      listMocks: () => ({ mocks: driver.mocks?.list() ?? [] }),
      setPlacement: (body) => {
        const next: HostIdentity = {
          hostName: identity.hostName, zone: body.zone ?? identity.zone, pod: body.pod ?? identity.pod,
          cluster: body.cluster ?? identity.cluster,
        };
        const uuid = body.hostUuid ?? identity.hostUuid;
        if (uuid !== undefined) next.hostUuid = uuid;
        identity = next;
        driver.setPlacement?.(toPlacement(identity));
        // Report at once under the admitted identity, so a newly admitted host is Up within a moment.
        heartbeat?.beat();
        return { ...identity };
      },
      ping: (_b, ctx) => act(ctx, 'ping', async () => {
        await driver.ping();
        return { hostName: host(), bootId, at: ctx.clock.now() };
      }),
      reportNow: (_b, ctx) => {
        if (heartbeat === undefined) ctx.log.debug('reportNow ignored: this agent has no heartbeat configured');
        else heartbeat.beat();
      },
    },
  };
  return {
    definition, bootId,
    identity: () => ({ ...identity }),
    heartbeatStats: () => (heartbeat === undefined ? undefined : { ...heartbeat.stats }),
  };
}

/** The agent definition alone, for callers that spawn it themselves. */
export function computeAgent(options: ComputeAgentOptions): ActorDefinition<ComputeProtocolType, ComputeAgentState> {
  return createComputeAgent(options).definition;
}

async function migrate(driver: HypervisorDriver, body: MigrateVmRequest, op: DriverOperation, hostName: string): Promise<MigrateVmReply> {
  switch (body.phase) {
    case 'prepare':
      await driver.prepareMigration(body.vm, body.sourceHost, op);
      return { hostName, vmUuid: body.vm.uuid, phase: 'prepare', power: 'PowerOff' };
    case 'migrate':
      await driver.migrateOut(body.vmUuid, body.targetHost, op);
      return { hostName, vmUuid: body.vmUuid, phase: 'migrate', power: 'PowerOff' };
    case 'finalize':
      await driver.finalizeMigration(body.vmUuid, op);
      return { hostName, vmUuid: body.vmUuid, phase: 'finalize', power: 'PowerOn' };
    case 'abort':
      await driver.abortMigration(body.vmUuid, op);
      return { hostName, vmUuid: body.vmUuid, phase: 'abort', power: 'PowerOff' };
  }
}

/**
 * Settles with `p`, or with TimeoutError at the ask's deadline, whichever is first, so the mailbox is
 * free again once the asker has stopped waiting. The operation itself goes on.
 */
function withinDeadline<T>(clock: Clock, deadline: number | undefined, p: Promise<T>, what: string, host: string): Promise<T> {
  if (deadline === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(new TimeoutError(`${what} is still in progress on host ${host} at the ask's deadline; it goes on and ends done or cut short by a later stop`));
    }, deadline - clock.now());
    p.then((v) => { timer.cancel(); resolve(v); }, (e: unknown) => { timer.cancel(); reject(e); });
  });
}

/** Driver errors that are not CloudstackdErrors (a real driver's I/O errors) reach the caller typed. */
async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof CloudstackdError) throw err;
    throw new InternalError(`hypervisor driver failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A driver without files of its own (the simulator) holds no snapshot file: `held` false. */
function fileReply(hostName: string, f: SnapshotFile | undefined): SnapshotFileReply {
  return f === undefined ? { hostName, held: false } : { hostName, held: true, physicalSize: f.physicalSize, virtualSize: f.virtualSize };
}

function toIdentity(h: ComputeHostConfig): HostIdentity {
  const id: HostIdentity = { hostName: h.name, zone: h.zone, pod: h.pod, cluster: h.cluster };
  if (h.uuid !== undefined) id.hostUuid = h.uuid;
  return id;
}

function toPlacement(id: HostIdentity): HostPlacement {
  const p: HostPlacement = { hostName: id.hostName, zone: id.zone, pod: id.pod, cluster: id.cluster };
  if (id.hostUuid !== undefined) p.hostUuid = id.hostUuid;
  return p;
}
