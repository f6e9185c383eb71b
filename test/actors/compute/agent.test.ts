import { expect } from 'chai';
import type { ActorSystem } from '../../../src/actor-system.js';
import type { ActorRef } from '../../../src/actor-types.js';
import { SimulatedClock } from '../../../src/clock.js';
import {
  ConfigError, IllegalStateError, InternalError, InvalidParameterError, ResourceUnavailableError, TimeoutError, UnsupportedError,
} from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/random.js';
import { createComputeAgent, type ComputeAgent } from '../../../actors/compute/agent.js';
import type { HypervisorDriver } from '../../../actors/compute/hypervisor-driver.js';
import { ComputeProtocol, type HeartbeatReport } from '../../../actors/compute/protocol.js';
import type { SimulatorDriver } from '../../../actors/compute/simulator-driver.js';
import { advance, flush, mock, outcome, simDriver, strictSystem, vmSpec } from './fixtures.js';

const HOST = { name: 'sim-h1', uuid: 'host-uuid-1', zone: 'z1', pod: 'p1', cluster: 'c1' };

interface Rig {
  clock: SimulatedClock;
  system: ActorSystem;
  driver: SimulatorDriver;
  agent: ComputeAgent;
  ref: ActorRef<typeof ComputeProtocol>;
  reports: HeartbeatReport[];
}

/** One agent at /sim-h1 (a top-level path: the directory is start-agents' business) in a strict system. */
function rig(opts: { heartbeatMs?: number; driver?: HypervisorDriver; name?: string; clock?: SimulatedClock; system?: ActorSystem; slots?: number } = {}): Rig {
  const clock = opts.clock ?? new SimulatedClock();
  const system = opts.system ?? strictSystem(clock);
  const name = opts.name ?? HOST.name;
  const driver = simDriver(clock, { host: { hostName: name, zone: 'z1', pod: 'p1', cluster: 'c1' } });
  const reports: HeartbeatReport[] = [];
  const agent = createComputeAgent({
    host: { ...HOST, name }, driver: opts.driver ?? driver, random: createSeededRandom(3),
    ...(opts.slots === undefined ? {} : { maxConcurrentCommands: opts.slots }),
    ...(opts.heartbeatMs === undefined ? {} : { heartbeat: { intervalMs: opts.heartbeatMs, send: (r) => { reports.push(r); } } }),
  });
  const ref = system.spawn(`/${name}`, agent.definition);
  return { clock, system, driver, agent, ref, reports };
}

describe('compute: agent', () => {
  let systems: ActorSystem[] = [];
  const track = (r: Rig): Rig => { systems.push(r.system); return r; };
  afterEach(async () => { for (const s of systems) await s.shutdown(); systems = []; });

  it('answers every message of its protocol in strict mode (everything can travel)', async () => {
    const { ref, system, clock } = track(rig());
    const b = rig({ name: 'sim-h2', clock, system });
    await flush();
    expect(await ref.ask('startVm', { key: 's1', vm: vmSpec(1, { userData: 'aGVsbG8=', password: 'pw', haEnabled: true }) }))
      .to.deep.equal({ hostName: 'sim-h1', vmUuid: 'vm-1', power: 'PowerOn', alreadyRunning: false });
    expect(await ref.ask('rebootVm', { key: 'r1', vmUuid: 'vm-1' })).to.deep.equal({ hostName: 'sim-h1', vmUuid: 'vm-1', power: 'PowerOn' });
    expect(await ref.ask('queryPowerStates', {})).to.deep.equal({ hostName: 'sim-h1', hostUuid: 'host-uuid-1', states: { 'vm-1': 'PowerOn' } });
    const info = await ref.ask('getHostInfo', {});
    expect(info).to.deep.include({
      hostName: 'sim-h1', hostUuid: 'host-uuid-1', zone: 'z1', pod: 'p1', cluster: 'c1', hypervisor: 'Simulator', hypervisorVersion: '1.0',
      cpuCores: 4, cpuSpeedMhz: 2000, memoryMiB: 8192, health: 'healthy',
    });
    expect(info.allocated).to.deep.equal({ vms: 1, cpuCores: 1, cpuMhz: 500, memoryMiB: 512 });
    expect(info.bootId).to.match(/^sim-h1-/);
    // migration to the second agent
    expect(await b.ref.ask('migrateVm', { phase: 'prepare', key: 'm1', vm: vmSpec(1), sourceHost: 'sim-h1' })).to.deep.equal({ hostName: 'sim-h2', vmUuid: 'vm-1', phase: 'prepare', power: 'PowerOff' });
    expect(await ref.ask('migrateVm', { phase: 'migrate', key: 'm2', vmUuid: 'vm-1', targetHost: 'sim-h2' })).to.deep.equal({ hostName: 'sim-h1', vmUuid: 'vm-1', phase: 'migrate', power: 'PowerOff' });
    expect(await b.ref.ask('migrateVm', { phase: 'finalize', key: 'm3', vmUuid: 'vm-1' })).to.deep.equal({ hostName: 'sim-h2', vmUuid: 'vm-1', phase: 'finalize', power: 'PowerOn' });
    expect(await b.ref.ask('migrateVm', { phase: 'abort', key: 'm4', vmUuid: 'vm-9' })).to.deep.equal({ hostName: 'sim-h2', vmUuid: 'vm-9', phase: 'abort', power: 'PowerOff' });
    expect(await ref.ask('queryPowerStates', { vmUuids: ['vm-1'] })).to.deep.equal({ hostName: 'sim-h1', hostUuid: 'host-uuid-1', states: { 'vm-1': 'PowerOff' } });
    expect(await b.ref.ask('stopVm', { key: 'x1', vmUuid: 'vm-1', forced: true })).to.deep.equal({ hostName: 'sim-h2', vmUuid: 'vm-1', power: 'PowerOff', wasRunning: true });
    expect(await ref.ask('setMocks', { mocks: [mock('m', 'StartCommand', 'result:fail', { count: 3, zoneId: 'z1' })] })).to.deep.equal({ hostName: 'sim-h1', active: 1 });
    expect(await ref.ask('listMocks', {})).to.deep.equal({ mocks: [{ id: 'm', name: 'StartCommand', value: 'result:fail', revision: 1, remaining: 3, hits: 0 }] });
    expect(await ref.ask('setPlacement', { cluster: 'c9' })).to.deep.equal({ hostName: 'sim-h1', hostUuid: 'host-uuid-1', zone: 'z1', pod: 'p1', cluster: 'c9' });
    const ping = await ref.ask('ping', {});
    expect(ping).to.deep.equal({ hostName: 'sim-h1', bootId: info.bootId, at: clock.now() });
    expect(await ref.ask('fence', { reason: 'test' })).to.deep.equal({ hostName: 'sim-h1', alreadyFenced: false, stoppedVms: [] });
    expect(await ref.ask('unfence', {})).to.deep.equal({ hostName: 'sim-h1', wasFenced: true });
    ref.tell('reportNow', {});
    await flush();
    expect(system.recentDeadLetters()).to.deep.equal([]);
  });

  describe('idempotency keys', () => {
    it('a repeated key answers the recorded success without acting again, even after later commands', async () => {
      const { ref, driver } = track(rig());
      await flush();
      const first = await ref.ask('startVm', { key: 'k1', vm: vmSpec(1) });
      expect(await ref.ask('startVm', { key: 'k1', vm: vmSpec(1) })).to.deep.equal(first); // alreadyRunning stays false
      await ref.ask('stopVm', { key: 'k2', vmUuid: 'vm-1' });
      expect(await ref.ask('startVm', { key: 'k1', vm: vmSpec(1) })).to.deep.equal(first); // a late duplicate
      expect(driver.vmCount).to.equal(0); // ...did not start the VM again
      expect(await ref.ask('startVm', { key: 'k3', vm: vmSpec(1) })).to.include({ alreadyRunning: false });
    });

    it('a repeated key joins the command still in progress (after the first asker gave up)', async () => {
      const { ref, driver, clock } = track(rig());
      await flush();
      driver.mocks.set([mock('w', 'RebootCommand', 'wait:200')]);
      await ref.ask('startVm', { key: 's', vm: vmSpec(1) });
      const a = outcome(ref.ask('rebootVm', { key: 'r', vmUuid: 'vm-1' }, { timeoutMs: 50 }));
      await advance(clock, 50, 10);
      expect(await a).to.be.instanceOf(TimeoutError);
      let b: unknown;
      void ref.ask('rebootVm', { key: 'r', vmUuid: 'vm-1' }).then((v) => { b = v; });
      await advance(clock, 140, 10);
      expect(b).to.equal(undefined); // still the first reboot's wait
      await advance(clock, 20, 10);
      expect(b).to.deep.equal({ hostName: 'sim-h1', vmUuid: 'vm-1', power: 'PowerOn' });
      expect(driver.mocks.list()[0]).to.include({ hits: 1 }); // one reboot, not two
    });

    it('a failed command is forgotten, so retrying its key runs it again', async () => {
      const { ref, driver } = track(rig());
      await flush();
      driver.mocks.set([mock('f', 'StartCommand', 'result:fail', { count: 1 })]);
      const err = await outcome(ref.ask('startVm', { key: 'k', vm: vmSpec(1) }));
      expect(err).to.be.instanceOf(ResourceUnavailableError).and.have.property('retryable', true);
      expect(await ref.ask('startVm', { key: 'k', vm: vmSpec(1) })).to.include({ alreadyRunning: false });
    });

    it('refuses a key reused for another command', async () => {
      const { ref } = track(rig());
      await flush();
      await ref.ask('startVm', { key: 'k', vm: vmSpec(1) });
      const err = await outcome(ref.ask('stopVm', { key: 'k', vmUuid: 'vm-1' }));
      expect(err).to.be.instanceOf(InvalidParameterError).and.have.property('message').that.contains('already used for startVm vm-1');
    });
  });

  it('at the ask deadline a slow start answers TimeoutError and frees the mailbox; the stop that follows cuts it short', async () => {
    const { ref, driver, clock } = track(rig());
    await flush();
    driver.mocks.set([mock('w', 'StartCommand', 'wait:10000')]);
    const start = outcome(ref.ask('startVm', { key: 'k', vm: vmSpec(1) }, { timeoutMs: 100 }));
    await advance(clock, 100, 10);
    expect(await start).to.be.instanceOf(TimeoutError);
    const stop = ref.ask('stopVm', { key: 'undo', vmUuid: 'vm-1', forced: true });
    await flush();
    expect(await stop).to.deep.equal({ hostName: 'sim-h1', vmUuid: 'vm-1', power: 'PowerOff', wasRunning: false });
    await advance(clock, 10_000, 1_000);
    expect(await ref.ask('queryPowerStates', { vmUuids: ['vm-1'] })).to.deep.include({ states: { 'vm-1': 'PowerOff' } });
  });

  it('runs commands for different VMs side by side in its command slots; one still waiting for a slot at its deadline is not run', async () => {
    const { ref, driver, clock } = track(rig({ slots: 2 }));
    await flush();
    driver.mocks.set([mock('w', 'StartCommand', 'wait:1000')]);
    const settled = new Map<string, unknown>();
    const start = (n: number, timeoutMs: number): Promise<unknown> => {
      const p = outcome(ref.ask('startVm', { key: `s${n}`, vm: vmSpec(n) }, { timeoutMs }));
      void p.then((r) => settled.set(`vm-${n}`, r));
      return p;
    };
    const starts = [start(1, 5_000), start(2, 5_000), start(3, 5_000), start(4, 500)];
    // The mailbox is free while starts run: a query is answered at once.
    expect(await ref.ask('queryPowerStates', { vmUuids: ['vm-1'] })).to.have.property('hostName', 'sim-h1');
    await advance(clock, 600, 10);
    expect(settled.get('vm-4')).to.be.instanceOf(TimeoutError);
    await advance(clock, 500, 10);
    expect([...settled.keys()].sort()).to.deep.equal(['vm-1', 'vm-2', 'vm-4']);
    await advance(clock, 1_000, 10);
    await Promise.all(starts);
    expect(settled.get('vm-3')).to.deep.include({ power: 'PowerOn' });
    // vm-4 waited for a slot past its deadline and was never started.
    expect(await ref.ask('queryPowerStates', {})).to.deep.include({ states: { 'vm-1': 'PowerOn', 'vm-2': 'PowerOn', 'vm-3': 'PowerOn' } });
  });

  it('refuses bad command slot limits with the option named', () => {
    const clock = new SimulatedClock();
    expect(() => createComputeAgent({ host: HOST, driver: simDriver(clock), maxConcurrentCommands: 0 })).to.throw(ConfigError, 'maxConcurrentCommands');
    expect(() => createComputeAgent({ host: HOST, driver: simDriver(clock), maxWaitingCommands: -1 })).to.throw(ConfigError, 'maxWaitingCommands');
  });

  it('refuses VM work while fenced and reports it', async () => {
    const { ref } = track(rig());
    await flush();
    await ref.ask('startVm', { key: 'a', vm: vmSpec(1) });
    expect(await ref.ask('fence', {})).to.deep.equal({ hostName: 'sim-h1', alreadyFenced: false, stoppedVms: ['vm-1'] });
    expect(await ref.ask('fence', {})).to.deep.equal({ hostName: 'sim-h1', alreadyFenced: true, stoppedVms: [] });
    expect(await outcome(ref.ask('startVm', { key: 'b', vm: vmSpec(2) }))).to.be.instanceOf(IllegalStateError);
    expect(await ref.ask('getHostInfo', {})).to.include({ health: 'fenced' });
    expect(await ref.ask('queryPowerStates', {})).to.deep.include({ states: {} });
    await ref.ask('unfence', {});
    expect(await ref.ask('startVm', { key: 'b', vm: vmSpec(2) })).to.include({ alreadyRunning: false });
  });

  it('scopes mocks with the placement it is given', async () => {
    const { ref } = track(rig());
    await flush();
    await ref.ask('setMocks', { mocks: [mock('m', 'StartCommand', 'result:fail', { clusterId: 'c7' })] });
    await ref.ask('startVm', { key: 'a', vm: vmSpec(1) });
    await ref.ask('setPlacement', { cluster: 'c7', hostUuid: 'h-new' });
    expect(await outcome(ref.ask('startVm', { key: 'b', vm: vmSpec(2) }))).to.be.instanceOf(ResourceUnavailableError);
    expect((await ref.ask('getHostInfo', {})).hostUuid).to.equal('h-new');
  });

  it('says when its driver has no mocks, and turns a driver crash into InternalError without dying', async () => {
    const clock = new SimulatedClock();
    const inner = simDriver(clock);
    const plain = new Proxy(inner, {
      get: (target, p) => {
        if (p === 'mocks') return undefined;
        if (p === 'reboot') return () => Promise.reject(new TypeError('libvirt connection reset'));
        return Reflect.get(target, p, target) as unknown;
      },
    }) as HypervisorDriver;
    const { ref, system } = track(rig({ clock, driver: plain }));
    await flush();
    expect(await outcome(ref.ask('setMocks', { mocks: [] }))).to.be.instanceOf(UnsupportedError);
    expect(await ref.ask('listMocks', {})).to.deep.equal({ mocks: [] });
    const crash = await outcome(ref.ask('rebootVm', { key: 'r', vmUuid: 'vm-1' }));
    expect(crash).to.be.instanceOf(InternalError).and.have.property('message', 'hypervisor driver failed: libvirt connection reset');
    expect(await ref.ask('startVm', { key: 's', vm: vmSpec(1) })).to.include({ alreadyRunning: false });
    expect(system.stats().actorRestarts).to.equal(0);
  });

  it('refuses host names that cannot be part of an actor path', () => {
    expect(() => createComputeAgent({ host: { ...HOST, name: 'bad/name' }, driver: simDriver(new SimulatedClock()) })).to.throw(ConfigError);
  });

  describe('heartbeat', () => {
    it('reports host, sequence, health and power states on every interval of the clock', async () => {
      const { ref, reports, clock, agent } = track(rig({ heartbeatMs: 1_000 }));
      await flush(); // the agent has started
      clock.advance(0);
      await flush();
      expect(reports.map((r) => r.seq)).to.deep.equal([1]);
      expect(reports[0]).to.deep.equal({
        hostName: 'sim-h1', hostUuid: 'host-uuid-1', bootId: agent.bootId, seq: 1, sentAt: 0, health: 'healthy', powerStates: {},
      });
      await ref.ask('startVm', { key: 'a', vm: vmSpec(1) });
      await ref.ask('startVm', { key: 'b', vm: vmSpec(2) });
      await advance(clock, 999);
      expect(reports).to.have.length(1);
      await advance(clock, 1);
      expect(reports[1]).to.deep.include({ seq: 2, sentAt: 1_000, powerStates: { 'vm-1': 'PowerOn', 'vm-2': 'PowerOn' } });
      await ref.ask('stopVm', { key: 'c', vmUuid: 'vm-1' });
      await advance(clock, 3_000, 1_000);
      expect(reports.map((r) => [r.seq, r.sentAt])).to.deep.equal([[1, 0], [2, 1_000], [3, 2_000], [4, 3_000], [5, 4_000]]);
      expect(reports[4]!.powerStates).to.deep.equal({ 'vm-2': 'PowerOn' });
      expect(agent.heartbeatStats()).to.deep.equal({ sent: 5, failed: 0, skipped: 0 });
    });

    it('a failed PingCommand leaves a gap in the sequence; CheckHealthCommand and fencing show in health', async () => {
      const { ref, reports, clock, agent } = track(rig({ heartbeatMs: 100 }));
      await ref.ask('setMocks', { mocks: [mock('p', 'PingCommand', 'result:fail', { count: 2 }), mock('h', 'CheckHealthCommand', 'result:fail', { count: 1 })] });
      clock.advance(0);
      await advance(clock, 400, 100);
      expect(reports.map((r) => [r.seq, r.health])).to.deep.equal([[3, 'unhealthy'], [4, 'healthy'], [5, 'healthy']]);
      expect(agent.heartbeatStats()).to.deep.include({ sent: 3, failed: 2 });
      await ref.ask('fence', {});
      await advance(clock, 100);
      expect(reports.at(-1)).to.deep.include({ seq: 6, health: 'fenced', powerStates: {} });
    });

    it('a slow ping delays its report and the beats due meanwhile are skipped, not piled up', async () => {
      const { ref, reports, clock, agent } = track(rig({ heartbeatMs: 100 }));
      await ref.ask('setMocks', { mocks: [mock('p', 'PingCommand', 'wait:250', { count: 1 })] });
      clock.advance(0);
      await advance(clock, 200, 100);
      expect(reports).to.have.length(0);
      await advance(clock, 50);
      expect(reports.map((r) => [r.seq, r.sentAt])).to.deep.equal([[1, 250]]);
      await advance(clock, 50);
      expect(reports.map((r) => r.seq)).to.deep.equal([1, 2]);
      expect(agent.heartbeatStats()).to.deep.include({ skipped: 2 });
    });

    it('reportNow sends one report outside the cadence', async () => {
      const { ref, reports, clock } = track(rig({ heartbeatMs: 10_000 }));
      await flush();
      clock.advance(0);
      await flush();
      ref.tell('reportNow', {});
      await flush();
      expect(reports.map((r) => r.seq)).to.deep.equal([1, 2]);
    });

    it('uses one timer and stops it when the agent stops; nothing is sent afterwards', async () => {
      const { reports, clock, system } = track(rig({ heartbeatMs: 100 }));
      await flush();
      const before = clock.pending();
      clock.advance(0);
      await flush();
      expect(clock.pending()).to.equal(before); // the first timeout became the interval
      await system.stop('/sim-h1');
      const sent = reports.length;
      expect(clock.pending()).to.equal(before - 1);
      await advance(clock, 1_000, 100);
      expect(reports.length).to.equal(sent);
    });
  });
});
