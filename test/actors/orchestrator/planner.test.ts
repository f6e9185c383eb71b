import { expect } from 'chai';
import { InsufficientCapacityError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { createSeededRandom } from '../../../src/random.js';
import { createRealClock } from '../../../src/clock.js';
import { createComponents } from '../../../actors/orchestrator/components.js';
import { orchestratorTestConfig } from '../../../actors/orchestrator/config.js';
import { Planner } from '../../../actors/orchestrator/planner.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { startDataFixture, type DataFixture } from '../../helpers/data-fixture.js';

describe('orchestrator planner (host allocator)', () => {
  let f: DataFixture;
  let planner: Planner;

  const start = async (hosts: number, algorithm: string): Promise<void> => {
    f = await startDataFixture({ hosts });
    f.store.config.set('vm.allocation.algorithm', algorithm);
    planner = new Planner(createComponents({ locator: f.locator, clock: createRealClock(), random: createSeededRandom(1), log: silentLogger,
      config: orchestratorTestConfig() }));
  };
  const vm = async (extra: Record<string, unknown> = {}) => f.data.vms.get(SYSTEM, await f.createVm(undefined, extra));
  const hostName = (id: string): string => f.store.hosts.get(id).name;

  afterEach(async () => { await f?.stop(); });

  it('firstfit takes the first host with room and honours the avoid set', async () => {
    await start(3, 'firstfit');
    expect(hostName((await planner.reserveForStart(await vm(), { avoid: [] })).hostid)).to.equal('sim-host-1');
    expect(hostName((await planner.reserveForStart(await vm(), { avoid: [f.seed.hostids[0]!] })).hostid)).to.equal('sim-host-2');
  });

  it('firstfitleastconsumed takes the emptiest host', async () => {
    await start(3, 'firstfitleastconsumed');
    const used = new Set<string>();
    for (let i = 0; i < 3; i++) used.add((await planner.reserveForStart(await vm(), { avoid: [] })).hostid);
    expect(used.size).to.equal(3);
  });

  it('random spreads VMs over the zone', async () => {
    await start(10, 'random');
    const used = new Set<string>();
    for (let i = 0; i < 30; i++) used.add((await planner.reserveForStart(await vm(), { avoid: [] })).hostid);
    expect(used.size).to.be.greaterThan(5);
  });

  it('places a VM whose offering has a host tag only on hosts carrying it', async () => {
    await start(3, 'firstfit');
    f.store.hosts.update(f.seed.hostids[2]!, { hosttags: 'gpu,fast' });
    const so = await f.data.offerings.createService({ name: 'gpu', displaytext: 'gpu', cpunumber: 1, cpuspeed: 500, memory: 512, hosttags: 'gpu' });
    const tagged = await vm({ serviceofferingid: so.id });
    const k = { avoid: [], hosttag: 'gpu' };
    expect(hostName((await planner.reserveForStart(tagged, k)).hostid)).to.equal('sim-host-3');
  });

  it('never over-commits a host under concurrent reservations; what does not fit is 533', async () => {
    await start(2, 'random');
    // 8 GiB hosts, 512 MiB VMs: 16 fit on each.
    const vms = await Promise.all(Array.from({ length: 40 }, () => vm()));
    const results = await Promise.all(vms.map((v) => planner.reserveForStart(v, { avoid: [] }).then(() => 'ok', (e: Error) => e)));
    expect(results.filter((r) => r === 'ok')).to.have.length(32);
    expect(results.filter((r) => r instanceof InsufficientCapacityError)).to.have.length(8);
    const over = f.store.sql.one<{ n: number }>('SELECT count(*) AS n FROM host WHERE mem_allocated > memory OR cpu_allocated > cpu_cores * cpu_speed', [])!;
    expect(over.n).to.equal(0);
  });
});
