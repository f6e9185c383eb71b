import { expect } from 'chai';
import type { ComponentService } from '../../../actors/data/protocol.js';
import type { LauncherReport } from '../../../actors/launcher/protocol.js';
import { Autoscaler, recommend } from '../../../actors/service-framework/autoscale.js';
import { SimulatedClock } from '../../../src/clock.js';

function spec(desired: number, over: Partial<ComponentService> = {}): ComponentService {
  return { name: 'api', min: 1, max: 5, desired, fixed: false, labels: [], spread: true, args: [], state: 'Enabled', updated: '',
    policy: { metric: 'cpu', target: 50, stabilizationMs: 10_000, cooldownMs: 3_000 }, ...over };
}

function reports(n: number): LauncherReport[] {
  return [{ node: 'n1', labels: [], capacity: 10, free: 10 - n,
    instances: Array.from({ length: n }, (_, i) => ({ instance: `api-${i + 1}`, role: 'api', pid: i + 1, state: 'running', restarts: 0, startedAt: 0 })) }];
}

describe('service framework: autoscaler', () => {
  it('recommends ceil(current x metric / target), nothing within the tolerance', () => {
    expect(recommend(2, 54, 50, 0.1)).to.equal(2);
    expect(recommend(2, 80, 50, 0.1)).to.equal(4);
    expect(recommend(3, 10, 50, 0.1)).to.equal(1);
  });

  it('scales up at once by a bounded step, within max', () => {
    let cpu = 500;
    const s = new Autoscaler({ figure: () => cpu }, new SimulatedClock(0));
    expect(s.decide([spec(1)], reports(1), 0)).to.deep.equal([{ name: 'api', from: 1, desired: 3, why: 'cpu 500.0 per instance against a target of 50' }]);
    cpu = 100;
    expect(s.decide([spec(3, { max: 4 })], reports(3), 5_000)[0]!.desired, 'max holds').to.equal(4);
  });

  it('scales down only after the stabilization window, to the highest recommendation in it, never below min', () => {
    let cpu = 10;
    const s = new Autoscaler({ figure: () => cpu }, new SimulatedClock(0));
    expect(s.decide([spec(3)], reports(3), 0)).to.deep.equal([]);
    cpu = 30;
    expect(s.decide([spec(3)], reports(3), 5_000)).to.deep.equal([]);
    cpu = 10;
    const change = s.decide([spec(3)], reports(3), 10_001);
    expect(change.map((c) => c.desired)).to.deep.equal([2]);
    expect(s.decide([spec(2, { min: 2 })], reports(2), 30_000)).to.deep.equal([]);
  });

  it('makes at most one change per cooldown under load that oscillates faster', () => {
    const s = new Autoscaler({ figure: (_i, _m) => (Math.floor(t / 500) % 2 === 0 ? 200 : 5) }, new SimulatedClock(0));
    let t = 0;
    let desired = 2;
    const changes: number[] = [];
    for (t = 0; t <= 30_000; t += 250) {
      for (const c of s.decide([spec(desired)], reports(desired), t)) { desired = c.desired; changes.push(t); }
    }
    expect(changes.length).to.be.at.least(1);
    for (let i = 1; i < changes.length; i++) expect(changes[i]! - changes[i - 1]!).to.be.at.least(3_000);
    expect(changes.length).to.be.at.most(Math.floor(30_000 / 3_000) + 1);
  });

  it('leaves fixed counts, components without a policy and starting instances alone', () => {
    const s = new Autoscaler({ figure: () => 1_000 }, new SimulatedClock(0));
    const starting = reports(2);
    starting[0]!.instances[1]!.state = 'starting';
    const { policy: _none, ...noPolicy } = spec(1, { name: 'x' });
    expect(s.decide([spec(1, { fixed: true }), noPolicy], reports(1), 0)).to.deep.equal([]);
    expect(s.decide([spec(2)], starting, 0)).to.deep.equal([]);
  });
});
