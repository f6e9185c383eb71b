import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec } from '../../bin/up-spec.js';
import { projectRoot } from '../helpers/paths.js';

const ALL = { api: { count: 1 }, orchestrator: { count: 1 }, network: { count: 1 }, storage: { count: 1 }, 'fabric-monitor': { count: 1 },
  'fabric-admin': { count: 1 }, compute: { count: 1 } };
const parse = (o: unknown) => parseSpec(JSON.stringify(o), 'spec.json');

describe('cloudstackd up: the deployment spec', () => {
  it('reads examples/cloud.json: fixed counts, bounds and a policy; data and the framework added', () => {
    const s = parseSpec(readFileSync(join(projectRoot(), 'examples', 'cloud.json'), 'utf8'), 'cloud.json');
    const by = Object.fromEntries(s.services.map((x) => [x.name, x]));
    expect(by.api).to.include({ min: 2, max: 4, desired: 2, fixed: false });
    expect(by.api!.policy).to.include({ metric: 'cpu', target: 60 });
    expect(by.data).to.include({ min: 1, max: 1, fixed: true });
    expect(by['service-framework']).to.include({ min: 2, max: 2, fixed: true });
    expect(by.compute).to.include({ desired: 3, fixed: true });
  });

  it('refuses what cannot be run, saying what to change', () => {
    expect(() => parse({ components: { ...ALL, frob: { count: 1 } } })).to.throw(/unknown component "frob"/);
    expect(() => parse({ components: { ...ALL, 'fabric-monitor': { min: 1, max: 3 } } })).to.throw(/fixed count .*give "count"/);
    expect(() => parse({ components: { ...ALL, orchestrator: { count: 2, policy: { metric: 'cpu', target: 50 } } } })).to.throw(/scaling policy needs min and max/);
    expect(() => parse({ components: { ...ALL, data: { count: 2 } } })).to.throw(/data.count must be a whole number 1..1/);
    const { compute: _c, ...noCompute } = ALL;
    expect(() => parse({ components: noCompute })).to.throw(/components compute are missing/);
    expect(() => parse({ components: ALL, colour: 'blue' })).to.throw(/unknown field colour/);
    expect(() => parseSpec('{', 'x.json')).to.throw(/x.json is not JSON/);
  });
});
