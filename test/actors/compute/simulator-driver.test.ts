import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import {
  ConflictError, IllegalStateError, InsufficientCapacityError, InternalError, InterruptedError, NotFoundError, ResourceUnavailableError,
} from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/random.js';
import type { DriverOperation } from '../../../actors/compute/hypervisor-driver.js';
import { SimulatorMockTable } from '../../../actors/compute/simulator-mocks.js';
import { advance, flush, mock, outcome, simDriver, vmSpec } from './fixtures.js';

const OP: DriverOperation = { key: 'k', deadline: undefined };

describe('compute: simulator driver', () => {
  it('starts and stops VMs, idempotently by state', async () => {
    const d = simDriver(new SimulatedClock());
    expect(await d.start(vmSpec(1), OP)).to.deep.equal({ alreadyRunning: false });
    expect(await d.start(vmSpec(1), OP)).to.deep.equal({ alreadyRunning: true });
    expect(await d.queryPowerStates(['vm-1', 'vm-2'])).to.deep.equal({ 'vm-1': 'PowerOn', 'vm-2': 'PowerOff' });
    expect(await d.stop('vm-1', false, OP)).to.deep.equal({ wasRunning: true });
    expect(await d.stop('vm-1', true, OP)).to.deep.equal({ wasRunning: false });
    expect(await d.reportPowerStates()).to.deep.equal({});
    expect(d.vmCount).to.equal(0);
  });

  it('refuses to start a running VM with a different spec', async () => {
    const d = simDriver(new SimulatedClock());
    await d.start(vmSpec(1), OP);
    const err = await outcome(d.start(vmSpec(1, { memoryMiB: 1024 }), OP));
    expect(err).to.be.instanceOf(IllegalStateError).and.have.property('message').that.match(/different .*spec; stop it/);
    // user data or a password are not part of "the same spec"
    expect(await d.start(vmSpec(1, { userData: 'aGk=', password: 'x' }), OP)).to.deep.equal({ alreadyRunning: true });
  });

  it('reports capacity and what running VMs use', async () => {
    const d = simDriver(new SimulatedClock());
    await d.start(vmSpec(1, { cpuCores: 2, cpuSpeedMhz: 1000, memoryMiB: 2048 }), OP);
    await d.start(vmSpec(2), OP);
    expect(await d.describeHost()).to.deep.equal({
      cpuCores: 4, cpuSpeedMhz: 2000, memoryMiB: 8192,
      allocated: { vms: 2, cpuCores: 3, cpuMhz: 2500, memoryMiB: 2560 },
    });
  });

  it('takes its latency on the injected clock', async () => {
    const clock = new SimulatedClock();
    const d = simDriver(clock, { latency: { minMs: 3, maxMs: 3 } });
    let done = false;
    void d.start(vmSpec(1), OP).then(() => { done = true; });
    await flush();
    expect(done).to.equal(false);
    await advance(clock, 3);
    expect(done).to.equal(true);
    expect(clock.pending()).to.equal(0);
  });

  it('bounds the VMs a host holds', async () => {
    const d = simDriver(new SimulatedClock(), { maxVms: 2 });
    await d.start(vmSpec(1), OP);
    await d.start(vmSpec(2), OP);
    expect(await outcome(d.start(vmSpec(3), OP))).to.be.instanceOf(InsufficientCapacityError).and.have.property('message').that.contains('maxVms');
    expect(await d.start(vmSpec(2), OP)).to.deep.equal({ alreadyRunning: true });
  });

  it('reboots only a running VM', async () => {
    const d = simDriver(new SimulatedClock());
    expect(await outcome(d.reboot('vm-1', OP))).to.be.instanceOf(NotFoundError);
    await d.start(vmSpec(1), OP);
    await d.reboot('vm-1', OP);
    expect(await d.queryPowerStates(['vm-1'])).to.deep.equal({ 'vm-1': 'PowerOn' });
  });

  describe('mocks', () => {
    it('result:fail refuses the command and leaves the VM as it was', async () => {
      const d = simDriver(new SimulatedClock());
      d.mocks.set([mock('m1', 'StartCommand', 'result:fail', { count: 1 })]);
      const err = await outcome(d.start(vmSpec(1), OP));
      expect(err).to.be.instanceOf(ResourceUnavailableError).and.have.property('message', 'Simulated failure: StartCommand on host sim-h1 (simulator mock m1)');
      expect((err as ResourceUnavailableError).retryable).to.equal(true);
      expect(d.vmCount).to.equal(0);
      expect(await d.start(vmSpec(1), OP)).to.deep.equal({ alreadyRunning: false }); // count spent
    });

    it('result:fault raises an InternalError; a failed stop leaves the VM running', async () => {
      const d = simDriver(new SimulatedClock());
      await d.start(vmSpec(1), OP);
      d.mocks.set([mock('m1', 'StopCommand', 'result:fault')]);
      const err = await outcome(d.stop('vm-1', true, OP));
      expect(err).to.be.instanceOf(InternalError).and.have.property('message').that.match(/^Simulated fault: StopCommand/);
      expect(await d.reportPowerStates()).to.deep.equal({ 'vm-1': 'PowerOn' });
    });

    it('wait:<ms> delays the answer on the clock, then a combined result applies', async () => {
      const clock = new SimulatedClock();
      const d = simDriver(clock);
      d.mocks.set([mock('m1', 'RebootCommand', 'wait:1000;result:fail')]);
      await d.start(vmSpec(1), OP);
      let settled: unknown;
      void outcome(d.reboot('vm-1', OP)).then((v) => { settled = v; });
      await advance(clock, 999);
      expect(settled).to.equal(undefined);
      await advance(clock, 1);
      expect(settled).to.be.instanceOf(ResourceUnavailableError);
    });

    it('caps waits at maxMockWaitMs', async () => {
      const clock = new SimulatedClock();
      const d = simDriver(clock, { maxMockWaitMs: 50 });
      d.mocks.set([mock('m1', 'StartCommand', 'wait:3600000')]);
      let done = false;
      void d.start(vmSpec(1), OP).then(() => { done = true; });
      await advance(clock, 50);
      expect(done).to.equal(true);
    });

    it('a failed PingCommand makes ping reject; a failed CheckHealthCommand makes the host unhealthy', async () => {
      const d = simDriver(new SimulatedClock());
      d.mocks.set([mock('p', 'PingCommand', 'result:fail', { count: 1 }), mock('h', 'CheckHealthCommand', 'result:fault', { count: 1 })]);
      expect(await outcome(d.ping())).to.be.instanceOf(ResourceUnavailableError);
      expect(await d.ping()).to.equal(undefined);
      expect(await d.checkHealth()).to.equal('unhealthy');
      expect(await d.checkHealth()).to.equal('healthy');
    });

    it('uses the host scope it was placed in, and a table shared between hosts spends count once', async () => {
      const clock = new SimulatedClock();
      const shared = new SimulatorMockTable();
      const a = simDriver(clock, { mocks: shared });
      const b = simDriver(clock, { mocks: shared, host: { hostName: 'sim-h2', zone: 'z1', pod: 'p1', cluster: 'c2' } });
      shared.set([mock('m', 'StartCommand', 'result:fail', { zoneId: 'z1', count: 1 }), mock('h', 'StopCommand', 'result:fail', { hostId: 'uuid-b' })]);
      expect(await outcome(a.start(vmSpec(1), OP))).to.be.instanceOf(ResourceUnavailableError);
      expect(await b.start(vmSpec(1), OP)).to.deep.equal({ alreadyRunning: false });
      expect(await b.stop('vm-1', false, OP)).to.deep.equal({ wasRunning: true }); // b has no uuid-b yet
      b.setPlacement({ hostName: 'sim-h2', hostUuid: 'uuid-b', zone: 'z1', pod: 'p1', cluster: 'c2' });
      await b.start(vmSpec(1), OP);
      expect(await outcome(b.stop('vm-1', false, OP))).to.be.instanceOf(ResourceUnavailableError);
    });
  });

  describe('overlapping operations on one VM', () => {
    it('a repeated start joins the one in progress', async () => {
      const clock = new SimulatedClock();
      const d = simDriver(clock);
      d.mocks.set([mock('m', 'StartCommand', 'wait:100', { count: 1 })]);
      const first = d.start(vmSpec(1), OP);
      const second = d.start(vmSpec(1), OP);
      await advance(clock, 100);
      expect(await first).to.deep.equal({ alreadyRunning: false });
      expect(await second).to.deep.equal({ alreadyRunning: false });
      expect(d.mocks.list()[0]).to.include({ hits: 1 });
    });

    it('a stop cuts a slow start short at once: no VM appears when the wait ends', async () => {
      const clock = new SimulatedClock();
      const d = simDriver(clock);
      d.mocks.set([mock('m', 'StartCommand', 'wait:10000')]);
      const start = outcome(d.start(vmSpec(1), OP));
      await flush();
      expect(await d.stop('vm-1', true, OP)).to.deep.equal({ wasRunning: false });
      expect(await start).to.be.instanceOf(InterruptedError);
      expect(clock.pending()).to.equal(0); // the start's wait was cancelled with it
      await advance(clock, 20_000);
      expect(await d.queryPowerStates(['vm-1'])).to.deep.equal({ 'vm-1': 'PowerOff' });
    });

    it('a stop cuts a reboot short; other overlaps are refused with a retryable ConflictError', async () => {
      const clock = new SimulatedClock();
      const d = simDriver(clock);
      await d.start(vmSpec(1), OP);
      d.mocks.set([mock('m', 'RebootCommand', 'wait:500'), mock('g', 'MigrateCommand', 'wait:500')]);
      const reboot = outcome(d.reboot('vm-1', OP));
      await flush();
      const conflict = await outcome(d.migrateOut('vm-1', 'sim-h2', OP));
      expect(conflict).to.be.instanceOf(ConflictError).and.have.property('retryable', true);
      expect(await d.stop('vm-1', false, OP)).to.deep.equal({ wasRunning: true });
      expect(await reboot).to.be.instanceOf(InterruptedError);
      expect(await d.reportPowerStates()).to.deep.equal({});
    });
  });

  describe('migration', () => {
    it('prepare, migrate, finalize: never powered on in two places', async () => {
      const clock = new SimulatedClock();
      const src = simDriver(clock);
      const dst = simDriver(clock, { host: { hostName: 'sim-h2', zone: 'z1', pod: 'p1', cluster: 'c1' } });
      await src.start(vmSpec(1), OP);
      await dst.prepareMigration(vmSpec(1), 'sim-h1', OP);
      await dst.prepareMigration(vmSpec(1), 'sim-h1', OP); // idempotent
      expect(await dst.reportPowerStates()).to.deep.equal({});
      await src.migrateOut('vm-1', 'sim-h2', OP);
      expect(await src.reportPowerStates()).to.deep.equal({});
      await dst.finalizeMigration('vm-1', OP);
      await dst.finalizeMigration('vm-1', OP); // idempotent
      expect(await dst.reportPowerStates()).to.deep.equal({ 'vm-1': 'PowerOn' });
      expect(await outcome(src.migrateOut('vm-1', 'sim-h2', OP))).to.be.instanceOf(NotFoundError);
    });

    it('a failed MigrateCommand keeps the VM on the source; abort drops the prepared target', async () => {
      const clock = new SimulatedClock();
      const src = simDriver(clock);
      const dst = simDriver(clock, { host: { hostName: 'sim-h2', zone: 'z1', pod: 'p1', cluster: 'c1' } });
      await src.start(vmSpec(1), OP);
      await dst.prepareMigration(vmSpec(1), 'sim-h1', OP);
      src.mocks.set([mock('m', 'MigrateCommand', 'result:fail', { hostId: 'sim-h1' })]);
      expect(await outcome(src.migrateOut('vm-1', 'sim-h2', OP))).to.be.instanceOf(ResourceUnavailableError);
      expect(await src.reportPowerStates()).to.deep.equal({ 'vm-1': 'PowerOn' });
      await dst.abortMigration('vm-1', OP);
      await dst.abortMigration('vm-1', OP);
      expect(dst.vmCount).to.equal(0);
      expect(await outcome(dst.finalizeMigration('vm-1', OP))).to.be.instanceOf(NotFoundError);
    });
  });

  describe('fencing', () => {
    it('powers every VM off, cuts starts short, refuses work until unfenced, still answers stops', async () => {
      const clock = new SimulatedClock();
      const d = simDriver(clock);
      await d.start(vmSpec(1), OP);
      await d.start(vmSpec(2), OP);
      d.mocks.set([mock('m', 'StartCommand', 'wait:1000')]);
      const slow = outcome(d.start(vmSpec(3), OP));
      await flush();
      const r = await d.fence('host down');
      expect(r.alreadyFenced).to.equal(false);
      expect(r.stoppedVms.sort()).to.deep.equal(['vm-1', 'vm-2']);
      expect(await slow).to.be.instanceOf(InterruptedError).and.have.property('message').that.contains('fenced: host down');
      expect(await d.fence('again')).to.deep.equal({ alreadyFenced: true, stoppedVms: [] });
      expect(await d.checkHealth()).to.equal('fenced');
      expect(await outcome(d.start(vmSpec(4), OP))).to.be.instanceOf(IllegalStateError).and.have.property('message').that.contains('fenced');
      expect(await d.stop('vm-1', true, OP)).to.deep.equal({ wasRunning: false });
      expect(await d.unfence()).to.deep.equal({ wasFenced: true });
      expect(await d.unfence()).to.deep.equal({ wasFenced: false });
      d.mocks.set([]);
      expect(await d.start(vmSpec(4), OP)).to.deep.equal({ alreadyRunning: false });
      expect(await d.reportPowerStates()).to.deep.equal({ 'vm-4': 'PowerOn' });
      expect(clock.pending()).to.equal(0);
    });

    it('a FenceCommand failure means fencing is impossible: nothing changes', async () => {
      const d = simDriver(new SimulatedClock());
      await d.start(vmSpec(1), OP);
      d.mocks.set([mock('m', 'FenceCommand', 'result:fail')]);
      expect(await outcome(d.fence('x'))).to.be.instanceOf(ResourceUnavailableError);
      expect(d.isFenced).to.equal(false);
      expect(await d.reportPowerStates()).to.deep.equal({ 'vm-1': 'PowerOn' });
    });
  });

  it('draws latencies from the injected random source within bounds', async () => {
    const clock = new SimulatedClock();
    const d = simDriver(clock, { latency: { minMs: 2, maxMs: 4 }, random: createSeededRandom(1) });
    for (let i = 0; i < 20; i++) {
      const at = clock.now();
      let done = false;
      void d.start(vmSpec(i), OP).then(() => { done = true; });
      await flush();
      while (!done) await advance(clock, 1);
      expect(clock.now() - at).to.be.within(2, 4);
    }
  });
});
