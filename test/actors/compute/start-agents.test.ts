import { expect } from 'chai';
import type { ActorSystem } from '../../../src/actor-system.js';
import { SimulatedClock } from '../../../src/clock.js';
import { ConfigError, DeadLetterError, ResourceUnavailableError } from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/random.js';
import { COMPUTE_ROOT, ComputeDirectoryProtocol, type HeartbeatReport } from '../../../actors/compute/protocol.js';
import { SimulatorDriver } from '../../../actors/compute/simulator-driver.js';
import { startComputeAgents, type ComputeAgents } from '../../../actors/compute/start-agents.js';
import { advance, flush, hostConfig, mock, outcome, strictSystem, vmSpec } from './fixtures.js';

describe('compute: startComputeAgents', () => {
  let clock: SimulatedClock;
  let system: ActorSystem;
  let agents: ComputeAgents | undefined;
  beforeEach(() => { clock = new SimulatedClock(); system = strictSystem(clock); });
  afterEach(async () => { await agents?.stop(); agents = undefined; await system.shutdown(); });

  it('runs one agent per host under /compute, each with its own capacity, listed by the directory', async () => {
    agents = await startComputeAgents(system, [hostConfig(1), hostConfig(2, { cpuCores: 16 }), hostConfig(3)], { latency: { minMs: 0, maxMs: 0 } });
    const dir = system.ref(COMPUTE_ROOT, ComputeDirectoryProtocol);
    expect(await dir.ask('listHosts', {})).to.deep.equal({ hosts: ['sim-h1', 'sim-h2', 'sim-h3'] });
    const info = await agents.ref('sim-h2').ask('getHostInfo', {});
    expect(info).to.deep.include({ hostName: 'sim-h2', hostUuid: 'host-uuid-2', cluster: 'c0', cpuCores: 16 });
    expect(agents.hostNames()).to.deep.equal(['sim-h1', 'sim-h2', 'sim-h3']);
    expect(agents.driver('sim-h1')).to.be.instanceOf(SimulatorDriver);
  });

  it('spends a counted mock across the hosts of the process: StartCommand fail count=1 fails one host, the next succeeds', async () => {
    const hosts = [hostConfig(1), hostConfig(2), hostConfig(3), hostConfig(4)];
    agents = await startComputeAgents(system, hosts, { latency: { minMs: 0, maxMs: 0 } });
    const mocks = [mock('m1', 'StartCommand', 'result:fail', { zoneId: 'z1', count: 1 })];
    for (const h of hosts) await agents.ref(h.name).ask('setMocks', { mocks }); // pushed to every host: idempotent
    const first = await outcome(agents.ref('sim-h1').ask('startVm', { key: 'a', vm: vmSpec(1) }));
    expect(first).to.be.instanceOf(ResourceUnavailableError);
    expect(await agents.ref('sim-h2').ask('startVm', { key: 'b', vm: vmSpec(1) })).to.include({ alreadyRunning: false });
    expect(await agents.ref('sim-h3').ask('listMocks', {})).to.deep.equal({ mocks: [{ id: 'm1', name: 'StartCommand', value: 'result:fail', revision: 1, remaining: 0, hits: 1 }] });
  });

  it('spreads the first heartbeats over one interval, then each host beats once per interval', async () => {
    const reports: HeartbeatReport[] = [];
    agents = await startComputeAgents(system, [1, 2, 3, 4].map((i) => hostConfig(i)), {
      heartbeat: { intervalMs: 1_000, send: (r) => { reports.push(r); } }, random: createSeededRandom(5),
    });
    await flush();
    const timers = clock.pending();
    expect(timers).to.equal(4); // one per agent
    for (const at of [0, 250, 500, 750]) {
      clock.advance(at - clock.now());
      await flush();
    }
    expect(reports.map((r) => [r.hostName, r.sentAt])).to.deep.equal([['sim-h1', 0], ['sim-h2', 250], ['sim-h3', 500], ['sim-h4', 750]]);
    await advance(clock, 2_000, 250);
    const perHost = new Map<string, number[]>();
    for (const r of reports) perHost.set(r.hostName, [...(perHost.get(r.hostName) ?? []), r.seq]);
    expect([...perHost.values()]).to.deep.equal([[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    expect(clock.pending()).to.equal(timers);
  });

  it('adds and removes hosts; stop ends every agent and its heartbeat', async () => {
    const reports: HeartbeatReport[] = [];
    agents = await startComputeAgents(system, [hostConfig(1)], { heartbeat: { intervalMs: 100, send: (r) => { reports.push(r); } }, latency: { minMs: 0, maxMs: 0 } });
    const added = agents.add(hostConfig(2));
    expect(await added.ask('ping', {})).to.include({ hostName: 'sim-h2' });
    expect(() => agents!.add(hostConfig(2))).to.throw(ConfigError, /already has an agent/);
    const timers = clock.pending(); // one per agent, plus the runtime's ask-deadline wheel
    await agents.remove('sim-h1');
    expect(clock.pending()).to.equal(timers - 1);
    expect(await outcome(agents.ref('sim-h1').ask('ping', {}))).to.be.instanceOf(DeadLetterError);
    expect(await system.ref(COMPUTE_ROOT, ComputeDirectoryProtocol).ask('listHosts', {})).to.deep.equal({ hosts: ['sim-h2'] });
    await agents.stop();
    agents = undefined;
    const sent = reports.length;
    await advance(clock, 1_000, 100);
    expect(reports.length).to.equal(sent);
    expect(clock.pending()).to.equal(timers - 2);
  });

  it('when the directory is restarted it respawns the agents over the same drivers: VMs and bootIds survive', async () => {
    let crash = false;
    agents = await startComputeAgents(system, [hostConfig(1), hostConfig(2)], {
      latency: { minMs: 0, maxMs: 0 },
      createDriver: (h, shared) => {
        const d = new SimulatorDriver({
          host: { hostName: h.name, zone: h.zone, pod: h.pod, cluster: h.cluster }, capacity: h, clock: shared.clock,
          mocks: shared.mocks, latency: { minMs: 0, maxMs: 0 },
        });
        const set = d.mocks.set;
        (d.mocks as { set: typeof set }).set = (m) => { if (crash) throw new TypeError('driver bug'); return set(m); };
        return d;
      },
    });
    await agents.ref('sim-h2').ask('startVm', { key: 'a', vm: vmSpec(1) });
    const bootId = (await agents.ref('sim-h2').ask('getHostInfo', {})).bootId;
    crash = true;
    // An agent that keeps failing escalates to the directory, which restarts and respawns every agent.
    for (let i = 0; i < 8; i++) {
      await outcome(agents.ref('sim-h1').ask('setMocks', { mocks: [] }, { timeoutMs: 50 }));
      await advance(clock, 2_000, 100);
    }
    crash = false;
    expect(system.stats().actorRestarts).to.be.greaterThan(5);
    const info = await agents.ref('sim-h2').ask('getHostInfo', {});
    expect(info.bootId).to.equal(bootId);
    expect(await agents.ref('sim-h2').ask('queryPowerStates', {})).to.deep.include({ states: { 'vm-1': 'PowerOn' } });
    expect(await agents.ref('sim-h1').ask('ping', {})).to.include({ hostName: 'sim-h1' });
  });
});
