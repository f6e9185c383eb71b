/**
 * The KVM hypervisor driver: real guests through libvirt, driven by `virsh` with generated domain XML
 * (execFile, never blocking the agent; every call timed, see CommandRunner.timings). Disks live in the
 * cluster's primary storage directory, shared by every host of the cluster (kvm-pool.ts), NICs on a bridge per guest network (kvm-networks.ts). A guest's
 * serial console is logged to <dataDir>/console/<instance>.log.
 *
 * Power state: the driver's own view (it started and stopped the guests), corrected by libvirt's
 * lifecycle events and a periodic `virsh list` for guests that power off or crash by themselves, or
 * that someone started behind its back (`virsh start`): every running domain that carries a cloudstackd
 * spec in its metadata is reported, so that the management side can reconcile it. A restarted agent
 * re-adopts the running domains it defined the same way, without restarting them.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../../src/clock.js';
import {
  ConfigError, ConflictError, IllegalStateError, InsufficientCapacityError, InterruptedError, InvalidParameterError, NotFoundError,
  ResourceUnavailableError, StoppedError, UnsupportedError,
} from '../../../src/errors.js';
import type { Logger } from '../../../src/logger.js';
import type {
  DriverOperation, FenceOutcome, HostDescription, HostPlacement, HypervisorDriver, SnapshotFile, StartOutcome, StopOutcome, TemplateSource,
} from '../hypervisor-driver.js';
import { OpToken } from '../op-token.js';
import type { HostHealth, PowerState, VmSpec } from '../protocol.js';
import { CommandError, CommandRunner, execProgram, type CallStats, type ExecFn } from './command-runner.js';
import { DomainEventStream } from './domain-events.js';
import { diskDev, domainXml, METADATA_NS, specFromXml, xmlEscape } from './domain-xml.js';
import type { KvmDriverConfig } from './kvm-config.js';
import { KvmNetworks } from './kvm-networks.js';
import { KvmPool, type PoolCapacity } from './kvm-pool.js';
import { liveSnapshot } from './live-snapshot.js';

export interface KvmDriverOptions {
  host: HostPlacement;
  clock: Clock;
  config: KvmDriverConfig;
  log: Logger;
  /** Runs programs. Default: execFile. */
  exec?: ExecFn;
  /** Follow `virsh event --loop`. Default true. */
  events?: boolean;
}

type Phase = 'starting' | 'running' | 'stopping' | 'rebooting';
interface Guest {
  spec: VmSpec;
  fp: string;
  phase: Phase;
  op: { kind: 'start' | 'stop' | 'reboot'; token: OpToken; promise: Promise<unknown> } | undefined;
  /** `opsEnded` when its last operation ended: a `virsh list` read before then says nothing of it. */
  settled?: number;
}

function fingerprint(vm: VmSpec): string {
  const macs = vm.nics.map((n) => n.mac.toLowerCase()).sort().join(',');
  const vols = vm.volumes.map((v) => v.uuid).sort().join(',');
  return `${vm.cpuCores}/${vm.cpuSpeedMhz}/${vm.memoryMiB}|${macs}|${vols}`;
}

const POWERED_ON: Record<Phase, boolean> = { starting: false, running: true, stopping: true, rebooting: true };

/** `virsh` said the domain does not exist (it is off and undefined already). */
function noDomain(err: unknown): boolean {
  return err instanceof CommandError && /failed to get domain|Domain not found|domain is not running|not found/i.test(err.stderr);
}

export class KvmDriver implements HypervisorDriver {
  readonly hypervisor = 'KVM';
  private libvirtVersion = 'unknown';
  private host: HostPlacement;
  private readonly clock: Clock;
  private readonly cfg: KvmDriverConfig;
  private readonly log: Logger;
  private readonly run: CommandRunner;
  readonly pool: KvmPool;
  readonly networks: KvmNetworks;
  private readonly guests = new Map<string, Guest>();
  private readonly byName = new Map<string, string>();
  private ready: Promise<void> | undefined;
  private node = { cpuCores: 1, cpuSpeedMhz: 1_000, memoryMiB: 1 };
  private events: DomainEventStream | undefined;
  private poller: TimerHandle | undefined;
  private lastPollError: string | undefined;
  /** Running domains without a cloudstackd spec (not ours), by name: not read again while they run. */
  private readonly foreign = new Set<string>();
  private pollChain: Promise<void> = Promise.resolve();
  private pollQueued: Promise<void> | undefined;
  /** Operations ended so far (see Guest.settled). */
  private opsEnded = 0;
  private fenced = false;
  private closed = false;

  constructor(private readonly o: KvmDriverOptions) {
    this.host = { ...o.host };
    this.clock = o.clock;
    this.cfg = o.config;
    if (this.cfg.acceleration !== 'kvm' && this.cfg.acceleration !== 'tcg') throw new ConfigError(`acceleration must be kvm or tcg (got ${String(this.cfg.acceleration)})`);
    if (!(this.cfg.maxGuests > 0)) throw new ConfigError(`maxGuests must be positive (got ${this.cfg.maxGuests})`);
    this.log = o.log.child({ driver: 'kvm', host: o.host.hostName });
    this.run = new CommandRunner(o.exec ?? execProgram, o.clock, this.cfg.commandTimeoutMs, this.cfg.netns);
    this.pool = new KvmPool(this.cfg.storageDir, this.run, undefined, this.cfg.copyTimeoutMs);
    this.networks = new KvmNetworks(this.run, join(this.cfg.dataDir, 'dhcp'), this.cfg.underlay, o.clock);
  }

  get version(): string {
    return this.libvirtVersion;
  }

  /** Connects to libvirt, reads the node's capacity and re-adopts the running guests. Retried by the next call after a failure. */
  init(): Promise<void> {
    if (this.ready === undefined) {
      this.ready = this.connect();
      this.ready.catch(() => { this.ready = undefined; });
    }
    return this.ready;
  }

  private async connect(): Promise<void> {
    await Promise.all([this.pool.init(), mkdir(join(this.cfg.dataDir, 'console'), { recursive: true }),
      mkdir(join(this.cfg.dataDir, 'domains'), { recursive: true })]);
    const info = await this.virsh(['nodeinfo']);
    const num = (label: string): number => Number(new RegExp(`^${label}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    this.node = { cpuCores: num('CPU\\(s\\)'), cpuSpeedMhz: num('CPU frequency') || 1_000, memoryMiB: Math.floor(num('Memory size') / 1024) };
    const ver = await this.virsh(['version', '--daemon']).catch(() => '');
    this.libvirtVersion = /Running hypervisor: (.+)/.exec(ver)?.[1]?.trim() ?? /library: libvirt (\S+)/.exec(ver)?.[1] ?? 'unknown';
    await this.adopt();
    if (this.o.events !== false && this.events === undefined) {
      this.events = new DomainEventStream(this.cfg.uri, this.clock, (e) => {
        // A start of a domain the driver does not track was made behind its back: reported at once, not at the next poll.
        if (e.event === 'Stopped' || e.event === 'Shutdown' || e.event === 'Crashed' || (e.event === 'Started' && !this.byName.has(e.domain))) void this.poll();
      });
      this.events.start();
    }
    this.poller ??= this.clock.setInterval(() => { void this.poll(); }, this.cfg.pollIntervalMs);
    this.log.info('kvm driver ready', { uri: this.cfg.uri, acceleration: this.cfg.acceleration, libvirt: this.libvirtVersion,
      adopted: this.guests.size, isolation: 'vxlan', kernel8021q: this.networks.has8021q, ...this.node });
  }

  /** Takes over the running domains this driver defined (an agent restart): no restart, no loss. */
  private async adopt(): Promise<void> {
    const names = (await this.virsh(['list', '--name'])).split('\n').map((s) => s.trim()).filter((s) => s !== '');
    for (const name of names) await this.adoptDomain(name, 're-adopted a running guest');
  }

  /**
   * Tracks running domain `name` as a running guest when it carries a cloudstackd spec and its VM is not
   * tracked yet. Besides an agent restart, this is how a guest started out of band (`virsh define` of the
   * XML this driver wrote and `virsh start`, on this host or another one of the cluster) gets into the
   * power reports: the management side then decides whether it may run here (the fabric monitor stops a
   * copy the database does not place on this host) and a stopVm finds it to destroy.
   */
  private async adoptDomain(name: string, why: string): Promise<void> {
    const xml = await this.virsh(['dumpxml', name]).catch((err: unknown) => { if (noDomain(err)) return undefined; throw err; });
    if (xml === undefined) return; // gone meanwhile
    const spec = specFromXml(xml);
    if (spec === undefined) { this.foreign.add(name); return; }
    // Re-checked after the await: a start of this VM may have taken it meanwhile.
    if (this.guests.has(spec.uuid) || this.byName.has(spec.name)) return;
    const g: Guest = { spec, fp: fingerprint(spec), phase: 'running', op: undefined };
    this.guests.set(spec.uuid, g);
    this.byName.set(spec.name, spec.uuid);
    try {
      for (const nic of spec.nics) await this.networks.plug(nic);
    } catch (err) {
      this.forget(spec.uuid, g); // taken again, and plugged, by the next try
      throw err;
    }
    this.log.info(why, { vm: spec.uuid, domain: name });
  }

  /**
   * Reconciles the driver's view with `virsh list`: guests that powered off or crashed by themselves are no
   * longer running here (their domain undefined and their DHCP lease dropped, as a stop does), and running
   * domains of ours it does not track (started out of band) are.
   */
  private poll(): Promise<void> {
    // One pass at a time: a pass acting on a `virsh list` read before another pass changed the guests
    // would forget a guest that one just took. Calls made while a pass waits to run share it.
    if (this.pollQueued !== undefined) return this.pollQueued;
    const pass: Promise<void> = this.pollChain.then(() => {
      if (this.pollQueued === pass) this.pollQueued = undefined;
      return this.pollOnce();
    });
    this.pollQueued = pass;
    this.pollChain = pass.catch(() => undefined);
    return pass;
  }

  private async pollOnce(): Promise<void> {
    if (this.closed) return;
    const readAt = this.opsEnded;
    let running: Set<string>;
    try {
      running = new Set((await this.virsh(['list', '--name'])).split('\n').map((s) => s.trim()).filter((s) => s !== ''));
      this.lastPollError = undefined;
    } catch (err) {
      this.lastPollError = (err as Error).message;
      return;
    }
    for (const [id, g] of this.guests) {
      // A guest whose start (or reboot) ended after the list was read may be missing from it yet running.
      if (g.phase !== 'running' || g.op !== undefined || (g.settled ?? 0) > readAt || running.has(g.spec.name)) continue;
      this.log.info('guest is no longer running (powered off or crashed)', { vm: id, domain: g.spec.name });
      this.forget(id, g);
      await this.virsh(['undefine', g.spec.name]).catch(() => undefined);
      for (const n of g.spec.nics) await this.networks.unplug(n).catch(() => undefined);
    }
    for (const name of this.foreign) if (!running.has(name)) this.foreign.delete(name);
    for (const name of running) {
      if (this.byName.has(name) || this.foreign.has(name)) continue;
      await this.adoptDomain(name, 'found a guest started out of band; reporting it').catch((err: Error) => {
        this.log.warn('could not take over a guest started out of band; the next poll retries', { domain: name, error: err.message });
      });
    }
  }

  setPlacement(placement: HostPlacement): void {
    this.host = { ...placement };
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  async start(vm: VmSpec, _op: DriverOperation): Promise<StartOutcome> {
    await this.init();
    this.assertUsable('start', vm.uuid);
    const fp = fingerprint(vm);
    const cur = this.guests.get(vm.uuid);
    if (cur !== undefined) {
      if (cur.phase === 'running' && cur.fp === fp) return { alreadyRunning: true };
      if (cur.op?.kind === 'start' && cur.fp === fp) { await cur.op.promise; return { alreadyRunning: false }; }
      if (cur.phase === 'running') {
        throw new IllegalStateError(`VM ${vm.uuid} already runs on host ${this.host.hostName} with a different spec; stop it before starting it with the new one`);
      }
      throw this.busy(cur, vm.uuid, 'start');
    }
    if (this.guests.size >= this.cfg.maxGuests) {
      throw new InsufficientCapacityError(`host ${this.host.hostName} already runs ${this.guests.size} guests (maxGuests); cannot take VM ${vm.uuid}`);
    }
    const g: Guest = { spec: vm, fp, phase: 'starting', op: undefined };
    this.guests.set(vm.uuid, g);
    this.byName.set(vm.name, vm.uuid);
    return this.track(vm.uuid, g, 'start', async (token) => {
      try {
        const disks: { file: string; dev: string }[] = [];
        for (const v of [...vm.volumes].sort((a, b) => a.deviceId - b.deviceId)) {
          let d: { file: string; created: boolean };
          if (v.type === 'ROOT') {
            if (vm.template === undefined) throw new InvalidParameterError(`VM ${vm.uuid} has no template image to clone its root disk from; register the template with a URL, or create it from a volume or snapshot of this cluster`);
            d = await this.pool.rootDisk(v, await this.pool.template(vm.template));
          } else {
            d = await this.pool.dataDisk(v);
          }
          disks.push({ file: d.file, dev: diskDev(v.deviceId) });
          token.check();
        }
        const nics: { bridge: string; mac: string }[] = [];
        for (const n of [...vm.nics].sort((a, b) => a.deviceId - b.deviceId)) nics.push({ bridge: await this.networks.plug(n), mac: n.mac });
        token.check();
        const xmlFile = join(this.cfg.dataDir, 'domains', `${vm.name}.xml`);
        await writeFile(xmlFile, domainXml({ spec: vm, type: this.cfg.acceleration === 'kvm' ? 'kvm' : 'qemu', disks, nics,
          consoleLog: this.consolePath(vm.name), tbCacheMiB: this.cfg.tbCacheMiB }));
        await this.virsh(['define', xmlFile]);
        token.check();
        await this.virsh(['start', vm.name]);
        token.check();
        g.phase = 'running';
        return { alreadyRunning: false };
      } catch (err) {
        // No domain is left. The disks this start made are kept: the management side has their volumes
        // Ready from now on, and the next start (here or on another host of the cluster) uses them.
        await this.virsh(['destroy', vm.name]).catch(() => undefined);
        await this.virsh(['undefine', vm.name]).catch(() => undefined);
        throw err instanceof CommandError ? new ResourceUnavailableError(`libvirt refused to start VM ${vm.uuid} on host ${this.host.hostName}: ${err.message}`) : err;
      }
    }, () => this.forget(vm.uuid, g));
  }

  async stop(vmUuid: string, forced: boolean, _op: DriverOperation): Promise<StopOutcome> {
    await this.init().catch(() => undefined); // a stop answers even when libvirt is unreachable: nothing runs then
    const cur = this.guests.get(vmUuid);
    if (cur === undefined) return { wasRunning: false };
    if (cur.op?.kind === 'stop') return (await cur.op.promise) as StopOutcome;
    if (cur.phase === 'starting') {
      const start = cur.op;
      start?.token.cancel(new InterruptedError(`start of VM ${vmUuid} on host ${this.host.hostName} was cut short by a stop`));
      await start?.promise.catch(() => undefined); // its cleanup removes the domain
      this.forget(vmUuid, cur);
      return { wasRunning: false };
    }
    cur.op?.token.cancel(new InterruptedError(`reboot of VM ${vmUuid} on host ${this.host.hostName} was cut short by a stop`));
    cur.phase = 'stopping';
    return this.track(vmUuid, cur, 'stop', async (token) => {
      const name = cur.spec.name;
      if (!forced) {
        // ACPI first, as CloudStack's KVM agent does; a guest that ignores it is destroyed after stopTimeoutMs.
        const acpi = await this.virsh(['shutdown', name]).then(() => true, (err: unknown) => { if (noDomain(err)) return false; throw err; });
        if (acpi) {
          const until = this.clock.now() + this.cfg.stopTimeoutMs;
          while (this.clock.now() < until && await this.isActive(name)) await token.sleep(this.cfg.stopPollMs);
        }
      }
      await this.virsh(['destroy', name]).catch((err: unknown) => { if (!noDomain(err)) throw err; });
      await this.virsh(['undefine', name]).catch((err: unknown) => { if (!noDomain(err)) throw err; });
      for (const n of cur.spec.nics) await this.networks.unplug(n);
      this.forget(vmUuid, cur);
      return { wasRunning: true };
    }, () => { cur.phase = 'running'; });
  }

  async reboot(vmUuid: string, _op: DriverOperation): Promise<void> {
    await this.init();
    this.assertUsable('reboot', vmUuid);
    const cur = this.guests.get(vmUuid);
    if (cur === undefined || !POWERED_ON[cur.phase]) throw new NotFoundError(`VM ${vmUuid} is not running on host ${this.host.hostName}, so it cannot be rebooted there`);
    if (cur.op?.kind === 'reboot') { await cur.op.promise; return; }
    if (cur.phase !== 'running') throw this.busy(cur, vmUuid, 'reboot');
    cur.phase = 'rebooting';
    // A hardware reset: the guest boots again at once whatever its OS does with ACPI reboot requests.
    await this.track(vmUuid, cur, 'reboot', async () => { await this.virsh(['reset', cur.spec.name]); cur.phase = 'running'; },
      () => { cur.phase = 'running'; });
  }

  async prepareMigration(vm: VmSpec): Promise<void> {
    throw new UnsupportedError(`live migration of VM ${vm.uuid} between KVM hosts is not implemented; stop it and start it on the other host`);
  }

  async migrateOut(vmUuid: string): Promise<void> {
    throw new UnsupportedError(`live migration of VM ${vmUuid} between KVM hosts is not implemented; stop it and start it on the other host`);
  }

  async finalizeMigration(vmUuid: string): Promise<void> {
    throw new NotFoundError(`no migration of VM ${vmUuid} was prepared on KVM host ${this.host.hostName}`);
  }

  async abortMigration(): Promise<void> {
    // Nothing is ever prepared here (prepareMigration refuses), so there is nothing to drop.
  }

  // ---- reports -----------------------------------------------------------------------------------

  async queryPowerStates(vmUuids?: readonly string[]): Promise<Record<string, PowerState>> {
    await this.init();
    await this.poll();
    if (vmUuids === undefined) return this.powerStatesNow();
    const out: Record<string, PowerState> = {};
    for (const id of vmUuids) { const g = this.guests.get(id); out[id] = g !== undefined && POWERED_ON[g.phase] ? 'PowerOn' : 'PowerOff'; }
    return out;
  }

  async reportPowerStates(): Promise<Record<string, PowerState>> {
    return this.powerStatesNow();
  }

  async describeHost(): Promise<HostDescription> {
    await this.init();
    const allocated = { vms: 0, cpuCores: 0, cpuMhz: 0, memoryMiB: 0 };
    for (const g of this.guests.values()) {
      if (!POWERED_ON[g.phase]) continue;
      allocated.vms++; allocated.cpuCores += g.spec.cpuCores; allocated.cpuMhz += g.spec.cpuCores * g.spec.cpuSpeedMhz; allocated.memoryMiB += g.spec.memoryMiB;
    }
    return { ...this.node, allocated };
  }

  /** The pool's real capacity and usage (statfs of the storage directory). */
  storageCapacity(): Promise<PoolCapacity> {
    return this.pool.capacity();
  }

  async ping(): Promise<void> {
    if (this.closed) throw new StoppedError(`KVM host ${this.host.hostName} is closed`);
    await this.init();
    if (this.lastPollError !== undefined) throw new ResourceUnavailableError(`libvirt at ${this.cfg.uri} does not answer: ${this.lastPollError}`);
  }

  async checkHealth(): Promise<HostHealth> {
    if (this.fenced) return 'fenced';
    return this.ready !== undefined && this.lastPollError === undefined ? 'healthy' : 'unhealthy';
  }

  /** Destroys every guest of this host and refuses VM work until unfenced. */
  async fence(reason: string): Promise<FenceOutcome> {
    if (this.fenced) return { alreadyFenced: true, stoppedVms: [] };
    this.fenced = true;
    await this.init().catch((err: Error) => {
      throw new ResourceUnavailableError(`cannot fence KVM host ${this.host.hostName}: libvirt does not answer (${err.message})`);
    });
    const stopped: string[] = [];
    for (const [id, g] of [...this.guests]) {
      g.op?.token.cancel(new InterruptedError(`host ${this.host.hostName} was fenced: ${reason}`));
      await this.virsh(['destroy', g.spec.name]).catch((err: unknown) => {
        if (!noDomain(err)) throw new ResourceUnavailableError(`cannot fence KVM host ${this.host.hostName}: destroy of ${g.spec.name} failed: ${(err as Error).message}`);
      });
      await this.virsh(['undefine', g.spec.name]).catch(() => undefined);
      if (POWERED_ON[g.phase]) stopped.push(id);
      this.forget(id, g);
    }
    this.log.warn('host fenced: every guest destroyed', { reason, destroyed: stopped.length });
    return { alreadyFenced: false, stoppedVms: stopped };
  }

  async unfence(): Promise<{ wasFenced: boolean }> {
    const wasFenced = this.fenced;
    this.fenced = false;
    return { wasFenced };
  }

  /** Stops following libvirt; the guests keep running (a restarted agent re-adopts them). */
  async close(): Promise<void> {
    this.closed = true;
    this.events?.close();
    this.poller?.cancel();
    for (const g of this.guests.values()) g.op?.token.cancel(new StoppedError(`KVM driver of host ${this.host.hostName} was closed`));
  }

  // ---- console and timings -----------------------------------------------------------------------

  consolePath(instanceName: string): string {
    return consoleLogPath(this.cfg.dataDir, instanceName);
  }

  /** The last `lines` lines of a guest's serial console. */
  async consoleTail(instanceName: string, lines = this.cfg.consoleTailLines): Promise<string> {
    return tailLines(await readFile(this.consolePath(instanceName), 'utf8'), lines);
  }

  /** Removes a volume's file (the volume was deleted). */
  deleteVolume(volumeUuid: string): Promise<boolean> {
    return this.pool.deleteVolume(volumeUuid);
  }

  /** Hot-plugs a data disk (made with its size when the volume is new) into a running guest. */
  async attachVolume(vmUuid: string, vol: VmSpec['volumes'][number], _op: DriverOperation): Promise<void> {
    await this.init();
    this.assertUsable('attach a volume to', vmUuid);
    const g = this.runningGuest(vmUuid, 'attach a volume to');
    if (g.spec.volumes.some((v) => v.uuid === vol.uuid)) return;
    if (g.spec.volumes.some((v) => v.deviceId === vol.deviceId)) {
      throw new IllegalStateError(`VM ${vmUuid} already has a disk at device ${vol.deviceId}; detach it first`);
    }
    const d = await this.pool.dataDisk(vol);
    try {
      await this.virsh(['attach-disk', g.spec.name, d.file, diskDev(vol.deviceId), '--driver', 'qemu', '--subdriver', 'qcow2', '--targetbus', 'virtio', '--live', '--config']);
    } catch (err) {
      // A disk made here is kept: its volume is Ready on the management side (a later attach uses it).
      throw err instanceof CommandError ? new ResourceUnavailableError(`libvirt refused to attach volume ${vol.uuid} to VM ${vmUuid}: ${err.message}`) : err;
    }
    g.spec = { ...g.spec, volumes: [...g.spec.volumes, { ...vol, type: 'DATADISK' }] };
    g.fp = fingerprint(g.spec);
    await this.saveSpec(g);
  }

  async detachVolume(vmUuid: string, volumeUuid: string, _op: DriverOperation): Promise<{ wasAttached: boolean }> {
    await this.init();
    const g = this.guests.get(vmUuid);
    const vol = g?.spec.volumes.find((v) => v.uuid === volumeUuid);
    if (g === undefined || vol === undefined) return { wasAttached: false };
    if (vol.type === 'ROOT') throw new IllegalStateError(`volume ${volumeUuid} is the root disk of VM ${vmUuid}; it cannot be detached`);
    await this.virsh(['detach-disk', g.spec.name, diskDev(vol.deviceId), '--live', '--config']).catch((err: unknown) => {
      throw err instanceof CommandError ? new ResourceUnavailableError(`libvirt refused to detach volume ${volumeUuid} from VM ${vmUuid}: ${err.message}`) : err;
    });
    g.spec = { ...g.spec, volumes: g.spec.volumes.filter((v) => v.uuid !== volumeUuid) };
    g.fp = fingerprint(g.spec);
    await this.saveSpec(g);
    return { wasAttached: true };
  }

  /** The domain's metadata follows hot-plugs, so a restarted agent re-adopts the guest with its disks. */
  private async saveSpec(g: Guest): Promise<void> {
    const meta = `<vm uuid='${xmlEscape(g.spec.uuid)}'>${Buffer.from(JSON.stringify(g.spec)).toString('base64')}</vm>`;
    await this.virsh(['metadata', g.spec.name, METADATA_NS, '--key', 'csd', '--set', meta, '--live', '--config']);
  }

  private runningGuest(vmUuid: string, action: string): Guest {
    const g = this.guests.get(vmUuid);
    if (g === undefined || g.phase !== 'running') throw new IllegalStateError(`VM ${vmUuid} is not running on host ${this.host.hostName}; cannot ${action} it`);
    if (g.op !== undefined) throw this.busy(g, vmUuid, action);
    return g;
  }

  async deleteVolumes(volumeUuids: readonly string[]): Promise<string[]> {
    const inUse = new Set([...this.guests.values()].flatMap((g) => g.spec.volumes.map((v) => v.uuid)));
    const busy = volumeUuids.filter((id) => inUse.has(id));
    if (busy.length > 0) throw new IllegalStateError(`volumes ${busy.join(', ')} belong to a guest running on host ${this.host.hostName}; stop it first`);
    const deleted: string[] = [];
    for (const id of volumeUuids) if (await this.pool.deleteVolume(id)) deleted.push(id);
    return deleted;
  }

  async resizeVolume(volumeUuid: string, sizeBytes: number, shrinkOk: boolean): Promise<boolean> {
    await this.init();
    const g = [...this.guests.values()].find((x) => x.spec.volumes.some((v) => v.uuid === volumeUuid));
    if (g === undefined) return this.pool.resize(volumeUuid, sizeBytes, shrinkOk);
    const vmUuid = g.spec.uuid;
    if (g.phase !== 'running' || g.op !== undefined) throw this.busy(g, vmUuid, `resize volume ${volumeUuid} of`);
    const vol = g.spec.volumes.find((v) => v.uuid === volumeUuid)!;
    // What the running qemu has (the image itself is locked by it).
    const info = await this.virsh(['domblkinfo', g.spec.name, diskDev(vol.deviceId)]);
    const now = Number(/Capacity:\s+(\d+)/.exec(info)?.[1] ?? NaN);
    if (!Number.isFinite(now)) throw new ResourceUnavailableError(`libvirt did not say the size of volume ${volumeUuid} of VM ${vmUuid}: ${info.trim()}`);
    if (sizeBytes < now) {
      throw new IllegalStateError(`volume ${volumeUuid} is in use by VM ${vmUuid} running on host ${this.host.hostName}; a disk in use cannot shrink, stop the VM first`);
    }
    // The running qemu resizes the image and tells the guest (virtio-blk capacity change).
    if (sizeBytes > now) {
      await this.virsh(['blockresize', g.spec.name, diskDev(vol.deviceId), `${sizeBytes}B`]).catch((err: unknown) => {
        throw err instanceof CommandError ? new ResourceUnavailableError(`libvirt refused to resize volume ${volumeUuid} of VM ${vmUuid}: ${err.message}`) : err;
      });
    }
    g.spec = { ...g.spec, volumes: g.spec.volumes.map((v) => (v.uuid === volumeUuid ? { ...v, sizeBytes } : v)) };
    await this.saveSpec(g);
    return true;
  }

  /**
   * Copies a volume's file to a snapshot file of this host's pool (CreateObjectCommand of a snapshot, then
   * its backup: here one standalone copy). A running guest's disk is copied without stopping the guest, as
   * of one instant (crash-consistent, see live-snapshot.ts). Undefined when this host holds no file of it.
   */
  async snapshotVolume(volumeUuid: string, snapshotUuid: string): Promise<SnapshotFile | undefined> {
    await this.init();
    const g = [...this.guests.values()].find((x) => x.spec.volumes.some((v) => v.uuid === volumeUuid));
    if (g !== undefined) {
      const vmUuid = g.spec.uuid;
      if (g.phase !== 'running' || g.op !== undefined) throw this.busy(g, vmUuid, `snapshot volume ${volumeUuid} of`);
      const vol = g.spec.volumes.find((v) => v.uuid === volumeUuid)!;
      return liveSnapshot({ run: this.run, pool: this.pool, log: this.log, uri: this.cfg.uri, domain: g.spec.name, dev: diskDev(vol.deviceId),
        otherDevs: g.spec.volumes.filter((v) => v.uuid !== volumeUuid).map((v) => diskDev(v.deviceId)), volumeUuid, snapshotUuid,
        timeoutMs: this.cfg.copyTimeoutMs, hostName: this.host.hostName });
    }
    return this.pool.snapshot(volumeUuid, snapshotUuid, false).catch((err: unknown) => {
      throw err instanceof CommandError
        ? new ResourceUnavailableError(`host ${this.host.hostName} could not copy volume ${volumeUuid} to snapshot ${snapshotUuid}: ${err.message}`) : err;
    });
  }

  /** Removes snapshot files; resolves with the ids whose file was removed. */
  async deleteSnapshots(snapshotUuids: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const id of snapshotUuids) if (await this.pool.deleteSnapshot(id)) deleted.push(id);
    return deleted;
  }

  /** A new volume's file copied from a snapshot file of this pool; undefined when this host holds no such snapshot. */
  async volumeFromSnapshot(snapshotUuid: string, volumeUuid: string): Promise<SnapshotFile | undefined> {
    await this.init();
    if ([...this.guests.values()].some((g) => g.spec.volumes.some((v) => v.uuid === volumeUuid))) {
      throw new IllegalStateError(`volume ${volumeUuid} is in use by a guest on host ${this.host.hostName}; a volume from a snapshot must be new`);
    }
    return this.pool.volumeFromSnapshot(snapshotUuid, volumeUuid).catch((err: unknown) => {
      throw err instanceof CommandError
        ? new ResourceUnavailableError(`host ${this.host.hostName} could not copy snapshot ${snapshotUuid} to volume ${volumeUuid}: ${err.message}`) : err;
    });
  }

  /**
   * Writes a created template's file from a volume's or snapshot's file of this pool. A volume a guest
   * running here has is refused (CloudStack requires its VM stopped); one a guest on another host of the
   * cluster writes fails the copy on QEMU's image lock. Undefined when this host holds no file of the source.
   */
  async templateFile(source: TemplateSource, templateUuid: string): Promise<SnapshotFile | undefined> {
    await this.init();
    const what = 'volumeUuid' in source ? `volume ${source.volumeUuid}` : `snapshot ${source.snapshotUuid}`;
    const g = 'volumeUuid' in source ? [...this.guests.values()].find((x) => x.spec.volumes.some((v) => v.uuid === source.volumeUuid)) : undefined;
    if (g !== undefined) {
      throw new IllegalStateError(`${what} is in use by VM ${g.spec.uuid} on host ${this.host.hostName}; stop the VM before creating a template from the volume`);
    }
    return this.pool.templateFile(source, templateUuid).catch((err: unknown) => {
      throw err instanceof CommandError
        ? new ResourceUnavailableError(`host ${this.host.hostName} could not copy ${what} to template ${templateUuid}: ${err.message}`) : err;
    });
  }

  /** Removes created templates' files; resolves with the ids whose file was removed. */
  async deleteTemplateFiles(templateUuids: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const id of templateUuids) if (await this.pool.deleteTemplateFile(id)) deleted.push(id);
    return deleted;
  }

  /** Time spent in each kind of virsh / qemu-img / ip call so far. */
  timings(): Record<string, CallStats> {
    return this.run.timings();
  }

  /** Removes the console log of a guest that is gone. */
  async dropConsole(instanceName: string): Promise<void> {
    await rm(this.consolePath(instanceName), { force: true });
  }

  // ---- internals ---------------------------------------------------------------------------------

  private virsh(args: string[]): Promise<string> {
    return this.run.run('virsh', ['-q', '-c', this.cfg.uri, ...args], { kind: `virsh ${args[0]}` });
  }

  private async isActive(name: string): Promise<boolean> {
    const state = await this.virsh(['domstate', name]).catch((err: unknown) => { if (noDomain(err)) return 'shut off'; throw err; });
    return !/shut off|crashed/.test(state);
  }

  private powerStatesNow(): Record<string, PowerState> {
    const out: Record<string, PowerState> = {};
    for (const [id, g] of this.guests) if (POWERED_ON[g.phase]) out[id] = 'PowerOn';
    return out;
  }

  private forget(vmUuid: string, g: Guest): void {
    if (this.guests.get(vmUuid) === g) this.guests.delete(vmUuid);
    if (this.byName.get(g.spec.name) === vmUuid) this.byName.delete(g.spec.name);
  }

  private track<T>(vmUuid: string, g: Guest, kind: 'start' | 'stop' | 'reboot', body: (token: OpToken) => Promise<T>, undo: () => void): Promise<T> {
    const op = { kind, token: new OpToken(this.clock), promise: Promise.resolve() as Promise<unknown> };
    const run = async (): Promise<T> => {
      try {
        return await body(op.token);
      } catch (err) {
        if (g.op === op && this.guests.get(vmUuid) === g) undo();
        throw err;
      } finally {
        if (g.op === op) { g.op = undefined; g.settled = ++this.opsEnded; }
      }
    };
    g.op = op;
    const promise = run();
    op.promise = promise;
    promise.catch(() => undefined);
    return promise;
  }

  private assertUsable(action: string, vmUuid: string): void {
    if (this.closed) throw new StoppedError(`KVM host ${this.host.hostName} is closed; cannot ${action} VM ${vmUuid}`);
    if (this.fenced) throw new IllegalStateError(`host ${this.host.hostName} is fenced and refuses to ${action} VM ${vmUuid} until it is unfenced`);
  }

  private busy(g: Guest, vmUuid: string, action: string): ConflictError {
    return new ConflictError(`cannot ${action} VM ${vmUuid} on host ${this.host.hostName}: ${g.op ? `a ${g.op.kind} is in progress` : `it is ${g.phase}`}; retry when it is done`);
  }
}

/** Where a host keeps a guest's serial console log: <dataDir>/console/<instance>.log. */
export function consoleLogPath(dataDir: string, instanceName: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(instanceName)) throw new InvalidParameterError(`instance name ${instanceName} cannot name a console log`);
  return join(dataDir, 'console', `${instanceName}.log`);
}

export function tailLines(text: string, lines: number): string {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-Math.max(1, lines)).join('\n');
}
