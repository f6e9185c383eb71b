import { expect } from 'chai';
import { fabricTestConfig } from '../../../actors/fabric-monitor/config.js';
import type { MonitorDeps } from '../../../actors/fabric-monitor/deps.js';
import { PoolCapacityBook, sumDistinct } from '../../../actors/fabric-monitor/pool-capacity.js';
import type { StorageReport } from '../../../actors/compute/protocol.js';
import { SimulatedClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';

interface Pool { id: string; scope: 'CLUSTER' | 'ZONE'; zoneid: string; clusterid?: string; disksizetotal: number; disksizeused: number }

const fs = (fsid: string, totalBytes: number, usedBytes: number): StorageReport => ({ fsid, totalBytes, usedBytes, availableBytes: totalBytes - usedBytes });

describe('fabric monitor: pool capacity from the hosts\' storage reports', () => {
  let clock: SimulatedClock;
  let pools: Pool[];
  let writes: { id: string; capacitybytes?: number; usedbytes?: number }[];
  let states: Map<string, string>;
  let book: PoolCapacityBook;

  beforeEach(() => {
    clock = new SimulatedClock();
    pools = [
      { id: 'p-c1', scope: 'CLUSTER', zoneid: 'z', clusterid: 'c1', disksizetotal: 999, disksizeused: 0 },
      { id: 'p-c2', scope: 'CLUSTER', zoneid: 'z', clusterid: 'c2', disksizetotal: 999, disksizeused: 0 },
      { id: 'p-z', scope: 'ZONE', zoneid: 'z', disksizetotal: 999, disksizeused: 0 },
    ];
    writes = [];
    states = new Map([['h1', 'Up'], ['h2', 'Up'], ['h3', 'Up'], ['h4', 'Up']]);
    const storage = {
      listPools: async (q: { clusterid?: string; zoneid?: string; scope?: string }) => ({
        items: pools.filter((p) => (q.clusterid === undefined || p.clusterid === q.clusterid) && (q.scope === undefined || p.scope === q.scope)
          && (q.zoneid === undefined || p.zoneid === q.zoneid)),
      }),
      updatePool: async (id: string, patch: { capacitybytes?: number; usedbytes?: number }) => {
        writes.push({ id, ...patch });
        const p = pools.find((x) => x.id === id)!;
        p.disksizetotal = patch.capacitybytes ?? p.disksizetotal;
        p.disksizeused = patch.usedbytes ?? p.disksizeused;
        return p;
      },
    };
    const deps = { data: { storage }, clock, log: silentLogger, config: fabricTestConfig() } as unknown as MonitorDeps;
    book = new PoolCapacityBook(deps, (id) => states.get(id));
  });

  it('counts a file system shared by hosts once and adds up separate ones', () => {
    expect(sumDistinct([fs('m1:1', 100, 10), fs('m1:1', 100, 12), fs('m2:1', 50, 5)])).to.deep.equal({ total: 150, used: 17 });
  });

  it('books a cluster pool with its Up hosts\' distinct file systems, and the zone pool with every reporting host of the zone', async () => {
    await book.record({ id: 'h1', zoneid: 'z', clusterid: 'c1' }, fs('m1:1', 100, 10));
    expect(pools[0]).to.include({ disksizetotal: 100, disksizeused: 10 });
    clock.advance(fabricTestConfig().poolStatsIntervalMs);
    await book.record({ id: 'h2', zoneid: 'z', clusterid: 'c1' }, fs('m1:1', 100, 11)); // same machine, same disk
    expect(pools[0]).to.include({ disksizetotal: 100, disksizeused: 11 });
    clock.advance(fabricTestConfig().poolStatsIntervalMs);
    await book.record({ id: 'h3', zoneid: 'z', clusterid: 'c1' }, fs('m2:1', 40, 4)); // another machine
    expect(pools[0]).to.include({ disksizetotal: 140, disksizeused: 15 });
    expect(pools[1]).to.include({ disksizetotal: 999 }); // no host of c2 reported: what the admin booked
    expect(pools[2]).to.include({ disksizetotal: 140, disksizeused: 15 });
  });

  it('writes a cluster\'s pools at most once per interval and only when the figures change; a Down host no longer counts', async () => {
    await book.record({ id: 'h1', zoneid: 'z', clusterid: 'c1' }, fs('m1:1', 100, 10));
    await book.record({ id: 'h3', zoneid: 'z', clusterid: 'c1' }, fs('m2:1', 40, 4));
    expect(writes.filter((w) => w.id === 'p-c1')).to.have.length(1); // the second report waits for the interval
    clock.advance(fabricTestConfig().poolStatsIntervalMs);
    await book.record({ id: 'h3', zoneid: 'z', clusterid: 'c1' }, fs('m2:1', 40, 4));
    expect(pools[0]).to.include({ disksizetotal: 140, disksizeused: 14 });
    const before = writes.length;
    clock.advance(fabricTestConfig().poolStatsIntervalMs);
    await book.record({ id: 'h3', zoneid: 'z', clusterid: 'c1' }, fs('m2:1', 40, 4));
    expect(writes.length).to.equal(before); // unchanged: not written
    states.set('h1', 'Down');
    clock.advance(fabricTestConfig().poolStatsIntervalMs);
    await book.record({ id: 'h3', zoneid: 'z', clusterid: 'c1' }, fs('m2:1', 40, 4));
    expect(pools[0]).to.include({ disksizetotal: 40, disksizeused: 4 });
  });
});
