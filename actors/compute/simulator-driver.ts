import type { Clock } from '../../src/clock.js';
import {
  ConfigError, ConflictError, IllegalStateError, InsufficientCapacityError, InternalError, InterruptedError, NotFoundError,
  ResourceUnavailableError, StoppedError,
} from '../../src/errors.js';
import { createRandom, type Random } from '../../src/random.js';
import type {
  DriverOperation, FenceOutcome, HostCapacity, HostDescription, HostPlacement, HypervisorDriver, MockControl,
  StartOutcome, StopOutcome,
} from './hypervisor-driver.js';
import { COMPUTE_DEFAULTS } from './config.js';
import { OpToken } from './op-token.js';
import type { HostHealth, PowerState, SimulatorCommand, VmSpec } from './protocol.js';
import { SimulatorMockTable, type MockScope } from './simulator-mocks.js';

export interface SimulatorDriverOptions {
  host: HostPlacement;
  capacity: HostCapacity;
  clock: Clock;
  /** Draws operation latencies. Default: an OS-seeded generator. */
  random?: Random;
  /**
   * Time each VM operation takes (start, stop, reboot, migration steps, queries), drawn uniformly in
   * [minMs, maxMs]. Default 0–5 ms. Pings, health checks and heartbeat reports take no time.
   */
  latency?: { minMs: number; maxMs: number };
  /** The mocks this host applies; share one table between the hosts of a process. Default: its own. */
  mocks?: SimulatorMockTable;
  /** Longest `wait:<ms>` honoured, ms (longer waits are cut to it). Default 600,000. */
  maxMockWaitMs?: number;
  /** Most VMs the host holds in any state; one more start is refused. Default 1,000. */
  maxVms?: number;
  /** Reported as the hypervisor version. Default '1.0'. */
  version?: string;
}

/** Reported as the hypervisor version. */
export const SIMULATOR_VERSION = '1.0';

type Phase = 'starting' | 'running' | 'stopping' | 'rebooting' | 'incoming' | 'migrating';
type OpKind = 'start' | 'stop' | 'reboot' | 'prepare' | 'migrate';

/** Whether a VM in each phase is powered on here (what reports say). */
const POWERED_ON: Record<Phase, boolean> = {
  starting: false, running: true, stopping: true, rebooting: true, incoming: false, migrating: true,
};

interface Pending {
  kind: OpKind;
  token: OpToken;
  promise: Promise<unknown>;
}

interface SimVm {
  spec: VmSpec;
  /** What "the same spec" compares: CPU, memory, NIC MACs and volume ids. */
  fp: string;
  phase: Phase;
  op: Pending | undefined;
}

function fingerprint(vm: VmSpec): string {
  const macs = vm.nics.map((n) => n.mac.toLowerCase()).sort().join(',');
  const vols = vm.volumes.map((v) => v.uuid).sort().join(',');
  return `${vm.cpuCores}/${vm.cpuSpeedMhz}/${vm.memoryMiB}|${macs}|${vols}`;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`simulator host ${name} must be a positive integer (got ${v})`);
  return v;
}

/**
 * The default hypervisor: a host that exists only in memory. It keeps each VM's power state, takes a
 * configurable time per operation, reports capacity and allocation, can be fenced, and applies
 * CloudStack-style mocks (simulator-mocks.ts) to every command it answers.
 */
export class SimulatorDriver implements HypervisorDriver {
  readonly hypervisor = 'Simulator';
  readonly version: string;
  readonly mocks: MockControl;
  private host: HostPlacement;
  private scope: MockScope;
  private readonly capacity: HostCapacity;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly latency: { minMs: number; maxMs: number };
  private readonly table: SimulatorMockTable;
  private readonly maxMockWaitMs: number;
  private readonly maxVms: number;
  private readonly vms = new Map<string, SimVm>();
  private fenced = false;
  private closed = false;

  constructor(options: SimulatorDriverOptions) {
    this.host = { ...options.host };
    this.scope = scopeOf(this.host);
    this.capacity = {
      cpuCores: positiveInt('cpuCores', options.capacity.cpuCores),
      cpuSpeedMhz: positiveInt('cpuSpeedMhz', options.capacity.cpuSpeedMhz),
      memoryMiB: positiveInt('memoryMiB', options.capacity.memoryMiB),
    };
    this.clock = options.clock;
    this.random = options.random ?? createRandom();
    this.latency = options.latency ?? COMPUTE_DEFAULTS.latency;
    if (!(this.latency.minMs >= 0 && this.latency.maxMs >= this.latency.minMs)) {
      throw new ConfigError(`simulator latency must satisfy 0 <= minMs <= maxMs (got ${this.latency.minMs}..${this.latency.maxMs})`);
    }
    this.table = options.mocks ?? new SimulatorMockTable();
    this.mocks = { set: (m) => this.table.set(m), list: () => this.table.list() };
    this.maxMockWaitMs = options.maxMockWaitMs ?? COMPUTE_DEFAULTS.maxMockWaitMs;
    this.maxVms = positiveInt('maxVms', options.maxVms ?? COMPUTE_DEFAULTS.maxVmsPerHost);
    this.version = options.version ?? SIMULATOR_VERSION;
  }

  setPlacement(placement: HostPlacement): void {
    this.host = { ...placement };
    this.scope = scopeOf(this.host);
  }

  /** Number of VMs the host holds in any phase (tests and the lab's memory figures). */
  get vmCount(): number {
    return this.vms.size;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  // ---- VM lifecycle ------------------------------------------------------------------------------

  async start(vm: VmSpec, _op: DriverOperation): Promise<StartOutcome> {
    this.assertUsable('start', vm.uuid);
    const fp = fingerprint(vm);
    const cur = this.vms.get(vm.uuid);
    if (cur !== undefined) {
      if (cur.phase === 'running' && cur.fp === fp) return { alreadyRunning: true };
      if (cur.op?.kind === 'start' && cur.fp === fp) { await cur.op.promise; return { alreadyRunning: false }; }
      if (cur.phase === 'running') {
        throw new IllegalStateError(`VM ${vm.uuid} already runs on host ${this.host.hostName} with a different CPU, memory, NIC or volume spec; stop it before starting it with the new one`);
      }
      throw this.busy(cur, vm.uuid, 'start');
    }
    this.assertRoom(vm.uuid);
    const entry: SimVm = { spec: vm, fp, phase: 'starting', op: undefined };
    this.vms.set(vm.uuid, entry);
    return this.track(vm.uuid, entry, 'start', async (token) => {
      await this.simulate('StartCommand', token, true);
      entry.phase = 'running';
      return { alreadyRunning: false };
    }, () => this.vms.delete(vm.uuid));
  }

  async stop(vmUuid: string, _forced: boolean, _op: DriverOperation): Promise<StopOutcome> {
    // A stop is answered even when fenced or closed: there is nothing running to stop then.
    const cur = this.vms.get(vmUuid);
    if (cur === undefined) return { wasRunning: false };
    if (cur.op?.kind === 'stop') return (await cur.op.promise) as StopOutcome;
    if (cur.phase === 'starting' || cur.phase === 'incoming') {
      // Never ran here: cut the start (or the prepared migration) short; the VM simply is not here.
      cur.op?.token.cancel(this.interrupted(cur.op.kind, vmUuid, 'a stop'));
      this.vms.delete(vmUuid);
      return { wasRunning: false };
    }
    if (cur.phase === 'migrating') throw this.busy(cur, vmUuid, 'stop');
    cur.op?.token.cancel(this.interrupted(cur.op.kind, vmUuid, 'a stop')); // a reboot in progress
    cur.phase = 'stopping';
    // Forced or not is the same here: a simulated guest has no shutdown to wait for.
    return this.track(vmUuid, cur, 'stop', async (token) => {
      await this.simulate('StopCommand', token, true);
      this.vms.delete(vmUuid);
      return { wasRunning: true };
    }, () => { cur.phase = 'running'; });
  }

  async reboot(vmUuid: string, _op: DriverOperation): Promise<void> {
    this.assertUsable('reboot', vmUuid);
    const cur = this.vms.get(vmUuid);
    if (cur === undefined || !POWERED_ON[cur.phase]) {
      throw new NotFoundError(`VM ${vmUuid} is not running on host ${this.host.hostName}, so it cannot be rebooted there`);
    }
    if (cur.op?.kind === 'reboot') { await cur.op.promise; return; }
    if (cur.phase !== 'running') throw this.busy(cur, vmUuid, 'reboot');
    cur.phase = 'rebooting';
    await this.track(vmUuid, cur, 'reboot', async (token) => {
      await this.simulate('RebootCommand', token, true);
      cur.phase = 'running';
    }, () => { cur.phase = 'running'; });
  }

  // ---- migration ---------------------------------------------------------------------------------

  async prepareMigration(vm: VmSpec, _sourceHost: string, _op: DriverOperation): Promise<void> {
    this.assertUsable('prepare a migration of', vm.uuid);
    const fp = fingerprint(vm);
    const cur = this.vms.get(vm.uuid);
    if (cur !== undefined) {
      if (cur.fp === fp && (cur.phase === 'running' || (cur.phase === 'incoming' && cur.op === undefined))) return;
      if (cur.fp === fp && cur.op?.kind === 'prepare') { await cur.op.promise; return; }
      throw this.busy(cur, vm.uuid, 'prepare a migration of');
    }
    this.assertRoom(vm.uuid);
    const entry: SimVm = { spec: vm, fp, phase: 'incoming', op: undefined };
    this.vms.set(vm.uuid, entry);
    await this.track(vm.uuid, entry, 'prepare', (token) => this.simulate('PrepareForMigrationCommand', token, true),
      () => this.vms.delete(vm.uuid));
  }

  async migrateOut(vmUuid: string, _targetHost: string, _op: DriverOperation): Promise<void> {
    this.assertUsable('migrate', vmUuid);
    const cur = this.vms.get(vmUuid);
    if (cur === undefined || !POWERED_ON[cur.phase]) {
      throw new NotFoundError(`VM ${vmUuid} is not running on host ${this.host.hostName}, so it cannot be migrated from there`);
    }
    if (cur.op?.kind === 'migrate') { await cur.op.promise; return; }
    if (cur.phase !== 'running') throw this.busy(cur, vmUuid, 'migrate');
    cur.phase = 'migrating';
    await this.track(vmUuid, cur, 'migrate', async (token) => {
      await this.simulate('MigrateCommand', token, true);
      this.vms.delete(vmUuid);
    }, () => { cur.phase = 'running'; });
  }

  async finalizeMigration(vmUuid: string, _op: DriverOperation): Promise<void> {
    this.assertUsable('finalize a migration of', vmUuid);
    let cur = this.vms.get(vmUuid);
    if (cur?.op?.kind === 'prepare') { await cur.op.promise; cur = this.vms.get(vmUuid); }
    if (cur === undefined) {
      throw new NotFoundError(`no migration of VM ${vmUuid} was prepared on host ${this.host.hostName}; prepare it first`);
    }
    if (cur.phase === 'running') return;
    if (cur.phase !== 'incoming' || cur.op !== undefined) throw this.busy(cur, vmUuid, 'finalize a migration of');
    await this.token().sleep(this.latencyMs());
    if (this.vms.get(vmUuid) === cur && cur.phase === 'incoming') cur.phase = 'running';
    else throw this.interrupted('finalize', vmUuid, 'a stop or a fence');
  }

  async abortMigration(vmUuid: string, _op: DriverOperation): Promise<void> {
    const cur = this.vms.get(vmUuid);
    if (cur === undefined) return;
    if (cur.phase === 'incoming') {
      cur.op?.token.cancel(this.interrupted('prepare', vmUuid, 'an abort'));
      this.vms.delete(vmUuid);
      return;
    }
    throw new IllegalStateError(`VM ${vmUuid} is ${cur.phase} on host ${this.host.hostName}, not an incoming migration; stop it instead of aborting`);
  }

  // ---- reports and host state --------------------------------------------------------------------

  async queryPowerStates(vmUuids?: readonly string[]): Promise<Record<string, PowerState>> {
    await this.simulate('CheckVirtualMachineCommand', this.token(), true);
    if (vmUuids === undefined) return this.powerStatesNow();
    const out: Record<string, PowerState> = {};
    for (const id of vmUuids) {
      const vm = this.vms.get(id);
      out[id] = vm !== undefined && POWERED_ON[vm.phase] ? 'PowerOn' : 'PowerOff';
    }
    return out;
  }

  async reportPowerStates(): Promise<Record<string, PowerState>> {
    return this.powerStatesNow();
  }

  async describeHost(): Promise<HostDescription> {
    await this.simulate('GetHostStatsCommand', this.token(), true);
    const allocated = { vms: 0, cpuCores: 0, cpuMhz: 0, memoryMiB: 0 };
    for (const vm of this.vms.values()) {
      if (!POWERED_ON[vm.phase]) continue;
      allocated.vms++;
      allocated.cpuCores += vm.spec.cpuCores;
      allocated.cpuMhz += vm.spec.cpuCores * vm.spec.cpuSpeedMhz;
      allocated.memoryMiB += vm.spec.memoryMiB;
    }
    return { ...this.capacity, allocated };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoppedError(`simulated host ${this.host.hostName} is closed`);
    await this.simulate('PingCommand', this.token(), false);
  }

  async checkHealth(): Promise<HostHealth> {
    if (this.fenced) return 'fenced';
    try {
      await this.simulate('CheckHealthCommand', this.token(), false);
    } catch {
      return 'unhealthy';
    }
    return this.fenced ? 'fenced' : 'healthy';
  }

  async fence(reason: string): Promise<FenceOutcome> {
    if (this.fenced) return { alreadyFenced: true, stoppedVms: [] };
    await this.simulate('FenceCommand', this.token(), false);
    if (this.fenced) return { alreadyFenced: true, stoppedVms: [] };
    this.fenced = true;
    return { alreadyFenced: false, stoppedVms: this.dropAll(() => new InterruptedError(`host ${this.host.hostName} was fenced: ${reason}`)) };
  }

  async unfence(): Promise<{ wasFenced: boolean }> {
    const wasFenced = this.fenced;
    this.fenced = false;
    return { wasFenced };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropAll(() => new StoppedError(`simulated host ${this.host.hostName} was closed`));
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** Registers an operation as the VM's in-progress one; `undo` runs on failure if it still owns the VM. */
  private track<T>(vmUuid: string, entry: SimVm, kind: OpKind, body: (token: OpToken) => Promise<T>, undo: () => void): Promise<T> {
    const pending: Pending = { kind, token: this.token(), promise: Promise.resolve() };
    const owns = (): boolean => entry.op === pending && this.vms.get(vmUuid) === entry;
    const run = async (): Promise<T> => {
      try {
        const result = await body(pending.token);
        pending.token.check();
        return result;
      } catch (err) {
        if (owns()) undo();
        throw err;
      } finally {
        if (entry.op === pending) entry.op = undefined;
      }
    };
    entry.op = pending;
    const promise = run();
    pending.promise = promise;
    promise.catch(() => undefined); // joiners and the caller observe the failure; never unhandled here
    return promise;
  }

  /** Applies the mock for `command` (wait, then fail or fault), then the operation's own latency. */
  private async simulate(command: SimulatorCommand, token: OpToken, withLatency: boolean): Promise<void> {
    const hit = this.table.size === 0 ? undefined : this.table.take(command, this.scope);
    if (hit !== undefined) {
      if (hit.waitMs > 0) await token.sleep(Math.min(hit.waitMs, this.maxMockWaitMs));
      const details = { command, mockId: hit.id, host: this.host.hostName };
      if (hit.result === 'fail') {
        throw new ResourceUnavailableError(`Simulated failure: ${command} on host ${this.host.hostName} (simulator mock ${hit.id})`, { details });
      }
      if (hit.result === 'fault') {
        throw new InternalError(`Simulated fault: ${command} on host ${this.host.hostName} (simulator mock ${hit.id})`, { details });
      }
    }
    if (withLatency) await token.sleep(this.latencyMs());
  }

  private powerStatesNow(): Record<string, PowerState> {
    const out: Record<string, PowerState> = {};
    for (const [id, vm] of this.vms) if (POWERED_ON[vm.phase]) out[id] = 'PowerOn';
    return out;
  }

  /** Cuts every operation short and forgets every VM; returns the VMs that were powered on. */
  private dropAll(reason: () => Error): string[] {
    const on: string[] = [];
    for (const [id, vm] of this.vms) {
      vm.op?.token.cancel(reason());
      if (POWERED_ON[vm.phase]) on.push(id);
    }
    this.vms.clear();
    return on;
  }

  private assertUsable(action: string, vmUuid: string): void {
    if (this.closed) throw new StoppedError(`simulated host ${this.host.hostName} is closed; cannot ${action} VM ${vmUuid}`);
    if (this.fenced) {
      throw new IllegalStateError(`host ${this.host.hostName} is fenced and refuses to ${action} VM ${vmUuid} until it is unfenced`);
    }
  }

  private assertRoom(vmUuid: string): void {
    if (this.vms.size >= this.maxVms) {
      throw new InsufficientCapacityError(`host ${this.host.hostName} already holds ${this.vms.size} VMs (maxVms); cannot take VM ${vmUuid}`);
    }
  }

  private busy(vm: SimVm, vmUuid: string, action: string): ConflictError {
    const what = vm.op ? `a ${vm.op.kind} is in progress` : `it is ${vm.phase}`;
    return new ConflictError(`cannot ${action} VM ${vmUuid} on host ${this.host.hostName}: ${what}; retry when it is done`);
  }

  private interrupted(kind: string, vmUuid: string, by: string): InterruptedError {
    return new InterruptedError(`${kind} of VM ${vmUuid} on host ${this.host.hostName} was cut short by ${by}`);
  }

  private token(): OpToken {
    return new OpToken(this.clock);
  }

  private latencyMs(): number {
    const { minMs, maxMs } = this.latency;
    return maxMs === 0 ? 0 : minMs + this.random.int(maxMs - minMs + 1);
  }
}

function scopeOf(h: HostPlacement): MockScope {
  const hostIds = h.hostUuid === undefined ? [h.hostName] : [h.hostUuid, h.hostName];
  return { zone: h.zone, pod: h.pod, cluster: h.cluster, hostIds };
}
