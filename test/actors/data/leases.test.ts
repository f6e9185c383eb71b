/**
 * Leases with fencing epochs in the data store, and the holder's side (LeaseKeeper): one holder at a
 * time, epochs that only grow, takeover only after expiry (or of one's own previous incarnation),
 * fenced writes refused once the lease moved on, jobs run oldest first per sync key, orphaned jobs.
 */
import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import { FencedError } from '../../../src/errors.js';
import { LeaseKeeper, RELEASE_WAIT_MS, type LeaseStore } from '../../../src/lease.js';
import { silentLogger } from '../../../src/logger.js';
import { DataStore, SYSTEM } from '../../../actors/data/store/index.js';
import { EpochGuard } from '../../../actors/compute/epoch-guard.js';
import { openTestStore } from '../../helpers/test-store.js';

describe('data store: leases and fencing', () => {
  let clock: SimulatedClock;
  let store: DataStore;
  beforeEach(() => {
    clock = new SimulatedClock(1_000_000);
    store = openTestStore({ clock });
  });
  afterEach(() => store.close());

  it('grants a lease to one holder at a time, renews it at the same epoch, and hands it over only after expiry', () => {
    const a = store.leases.claim('work', 'a/1', 1000);
    expect(a).to.include({ granted: true, takenOver: false });
    const epoch = (a as { epoch: number }).epoch;
    expect(store.leases.claim('work', 'b/1', 1000)).to.include({ granted: false, owner: 'a/1', epoch });
    clock.advance(900);
    expect(store.leases.claim('work', 'a/1', 1000)).to.include({ granted: true, epoch });
    clock.advance(900);
    expect(store.leases.claim('work', 'b/1', 1000)).to.include({ granted: false });
    clock.advance(200);
    const b = store.leases.claim('work', 'b/1', 1000) as { granted: true; epoch: number; takenOver: boolean };
    expect(b.granted && b.takenOver).to.equal(true);
    expect(b.epoch).to.be.greaterThan(epoch);
    expect(store.leases.renew('a/1', [{ name: 'work', epoch }], 1000).lost).to.deep.equal(['work']);
  });

  it('draws epochs from one counter, so a later grant of any lease has a higher epoch', () => {
    const e1 = (store.leases.claim('x', 'a', 1000) as { epoch: number }).epoch;
    const e2 = (store.leases.claim('y', 'b', 1000) as { epoch: number }).epoch;
    clock.advance(2000);
    const e3 = (store.leases.claim('x', 'c', 1000) as { epoch: number }).epoch;
    expect(e2).to.be.greaterThan(e1);
    expect(e3).to.be.greaterThan(e2);
  });

  it('lets a restarted process supersede its own previous incarnation at once, and nobody else', () => {
    store.leases.claim('job:1', 'orch-1/100', 10_000);
    expect(store.leases.claim('job:1', 'orch-2/200', 10_000, { supersede: 'orch-2/' })).to.include({ granted: false });
    expect(store.leases.claim('job:1', 'orch-1/300', 10_000, { supersede: 'orch-1/' })).to.include({ granted: true, takenOver: true });
  });

  it('refuses a fenced write once the lease has another holder or was released, inside the write\'s transaction', () => {
    const e = (store.leases.claim('job:z', 'a', 1000) as { epoch: number }).epoch;
    expect(() => store.leases.checkFence({ lease: 'job:z', owner: 'a', epoch: e })).to.not.throw();
    expect(() => store.leases.checkFence({ lease: 'job:z', owner: 'a', epoch: e - 1 })).to.throw(FencedError);
    expect(store.leases.release('job:z', 'a', e)).to.equal(true);
    expect(() => store.leases.checkFence({ lease: 'job:z', owner: 'a', epoch: e })).to.throw(FencedError, /nobody holds it/);
    expect(store.leases.claim('job:z', 'b', 1000)).to.include({ granted: true });
  });

  it('runs jobs of one sync key oldest first, and lists leased jobs whose lease ran out as orphans', () => {
    const input = { cmd: 'org.apache.cloudstack.api.command.user.vm.StartVMCmd', synckey: 'vm-1', cmdinfo: { op: 'startVm' } };
    const j1 = store.jobs.createOwned(SYSTEM, { ...input, accountid: store.accounts.list(SYSTEM).items[0]!.id }, 'o/1', 1000);
    const j2 = store.jobs.createOwned(SYSTEM, { ...input, accountid: store.accounts.list(SYSTEM).items[0]!.id }, 'o/1', 1000);
    expect(store.jobs.turn(j1.job.jobid)).to.equal(true);
    expect(store.jobs.turn(j2.job.jobid)).to.equal(false);
    expect(store.jobs.orphans(10)).to.deep.equal([]);
    clock.advance(1500);
    expect(store.jobs.orphans(10).map((r) => r.job.jobid)).to.deep.equal([j1.job.jobid, j2.job.jobid]);
    store.jobs.complete(j1.job.jobid, { status: 1 });
    expect(store.leases.get(`job:${j1.job.jobid}`)).to.equal(undefined);
    expect(store.jobs.turn(j2.job.jobid)).to.equal(true);
    expect(store.jobs.orphans(10).map((r) => r.job.jobid)).to.deep.equal([j2.job.jobid]);
  });
});

describe('lease keeper (the holder\'s side)', () => {
  function fakeStore(clock: SimulatedClock) {
    const held = new Map<string, { owner: string; epoch: number; expires: number }>();
    let next = 0;
    let down = false;
    const store: LeaseStore = {
      claim: async (name, owner, ttl) => {
        const cur = held.get(name);
        if (cur !== undefined && cur.owner !== owner && cur.expires > clock.now()) return { granted: false, ...cur };
        const epoch = cur?.owner === owner ? cur.epoch : ++next;
        held.set(name, { owner, epoch, expires: clock.now() + ttl });
        return { granted: true, epoch, expires: clock.now() + ttl, takenOver: cur !== undefined };
      },
      renew: async (owner, list, ttl) => {
        if (down) throw new Error('data service down');
        const lost = list.filter((l) => held.get(l.name)?.owner !== owner || held.get(l.name)?.epoch !== l.epoch).map((l) => l.name);
        for (const l of list) if (!lost.includes(l.name)) held.get(l.name)!.expires = clock.now() + ttl;
        return { expires: clock.now() + ttl, lost };
      },
      release: async (name) => held.delete(name),
    };
    return { store, held, setDown: (d: boolean) => { down = d; } };
  }

  it('stops treating a lease as held before it can expire when renewals fail (self-fencing), and reports it lost', async () => {
    const clock = new SimulatedClock(0);
    const f = fakeStore(clock);
    const keeper = new LeaseKeeper(f.store, 'me/1', { ttlMs: 3000, renewIntervalMs: 500, marginMs: 500 }, clock, silentLogger);
    const lost: string[] = [];
    keeper.onLost((n, why) => lost.push(`${n}:${why}`));
    await keeper.claim('job:a');
    expect(keeper.valid('job:a')).to.equal(true);
    f.setDown(true);
    clock.advance(2400);
    await keeper.tick();
    expect(keeper.valid('job:a')).to.equal(true);
    clock.advance(200);
    await keeper.tick();
    expect(keeper.valid('job:a')).to.equal(false);
    expect(lost).to.deep.equal(['job:a:expired']);
    // The data service still had it until 3000: the holder let go 500 ms earlier.
    expect(f.held.get('job:a')!.expires).to.equal(3000);
  });

  it('reports a lease taken by another holder at the next renewal', async () => {
    const clock = new SimulatedClock(0);
    const f = fakeStore(clock);
    const keeper = new LeaseKeeper(f.store, 'me/1', { ttlMs: 3000, renewIntervalMs: 500, marginMs: 500 }, clock, silentLogger);
    const lost: string[] = [];
    keeper.onLost((n, why) => lost.push(`${n}:${why}`));
    await keeper.claim('job:b');
    f.held.set('job:b', { owner: 'other/1', epoch: 99, expires: 10_000 });
    await keeper.tick();
    expect(lost).to.deep.equal(['job:b:taken']);
    expect(keeper.fence('job:b')).to.equal(undefined);
  });

  it('waits for a release at most RELEASE_WAIT_MS when the data service does not answer (a stopping process does not linger)', async () => {
    const clock = new SimulatedClock(0);
    const f = fakeStore(clock);
    const keeper = new LeaseKeeper({ ...f.store, release: () => new Promise<boolean>(() => undefined) }, 'me/1',
      { ttlMs: 3000, renewIntervalMs: 500, marginMs: 500 }, clock, silentLogger);
    await keeper.claim('job:c');
    let released = false;
    const p = keeper.release('job:c').then(() => { released = true; });
    clock.advance(RELEASE_WAIT_MS - 1);
    await Promise.resolve();
    expect(released).to.equal(false);
    clock.advance(1);
    await p;
    expect(released).to.equal(true);
    expect(keeper.valid('job:c')).to.equal(false);
  });
});

describe('compute agent epoch guard', () => {
  it('refuses a command with an epoch below the highest seen for that VM, and counts it', () => {
    const refused: string[] = [];
    const g = new EpochGuard(2, 'h1', (vm, e, hi) => refused.push(`${vm}@${e}<${hi}`));
    g.check('vm-1', 5);
    g.check('vm-1', 7);
    expect(() => g.check('vm-1', 6)).to.throw(FencedError, /epoch 7 was already seen/);
    g.check('vm-1', undefined);
    g.check('vm-2', 1);
    expect(g.refused).to.equal(1);
    expect(refused).to.deep.equal(['vm-1@6<7']);
  });
});
