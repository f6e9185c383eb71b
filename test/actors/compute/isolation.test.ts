import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { IsolationWatcher } from '../../../actors/compute/isolation.js';

function watcher(clock: SimulatedClock, live: { n: number }, fences: string[]): IsolationWatcher {
  return new IsolationWatcher({ clock, log: silentLogger, isolationFenceMs: 1000, checkIntervalMs: 100, liveOthers: () => live.n,
    fence: async (reason) => { fences.push(reason); } });
}

describe('fabric monitor: isolation response of a compute node', () => {
  it('fences once after seeing nobody for isolationFenceMs, having been part of a cluster', () => {
    const clock = new SimulatedClock();
    const live = { n: 0 };
    const fences: string[] = [];
    const w = watcher(clock, live, fences);
    w.start();
    clock.advance(5000);
    expect(fences, 'never joined anyone: not armed').to.have.length(0);
    live.n = 2;
    clock.advance(200);
    live.n = 0;
    clock.advance(900);
    expect(fences).to.have.length(0);
    clock.advance(300);
    expect(fences).to.have.length(1);
    expect(fences[0]).to.match(/isolated/);
    clock.advance(5000);
    expect(fences, 'once per isolation').to.have.length(1);
    w.stop();
  });

  it('keeps running while it still sees another member (a management node that died is not isolation)', () => {
    const clock = new SimulatedClock();
    const fences: string[] = [];
    const w = watcher(clock, { n: 1 }, fences);
    w.start();
    clock.advance(10_000);
    expect(fences).to.have.length(0);
    w.stop();
  });

  it('fences after waking from a stall longer than isolationFenceMs', () => {
    const clock = new SimulatedClock();
    const fences: string[] = [];
    const w = watcher(clock, { n: 3 }, fences);
    w.check();
    clock.advance(50);
    w.check();
    expect(fences).to.have.length(0);
    clock.advance(2000); // the process was stopped: no check ran for 2 s (no timer started here)
    w.check();
    expect(fences).to.have.length(1);
    expect(fences[0]).to.match(/stalled/);
  });
});
