import { expect } from 'chai';
import fc from 'fast-check';
import { LimitExceededError } from '../../../src/errors.js';
import type { MockConfig } from '../../../actors/compute/protocol.js';
import {
  parseMockValue, scopeMatches, SimulatorMockTable, specificity, type MockScope,
} from '../../../actors/compute/simulator-mocks.js';
import { mock } from './fixtures.js';

const HOST: MockScope = { zone: 'z1', pod: 'p1', cluster: 'c1', hostIds: ['host-uuid-1', 'sim-h1'] };

describe('compute: simulator mock values', () => {
  it('reads result, wait, timeout and enabled, case-insensitively and in any order', () => {
    expect(parseMockValue('result:fail').options).to.deep.equal({ result: 'fail', waitMs: 0, timeout: undefined, enabled: true });
    expect(parseMockValue('WAIT:2000; Result:FAULT').options).to.deep.equal({ result: 'fault', waitMs: 2000, timeout: undefined, enabled: true });
    expect(parseMockValue('timeout:30;enabled:false;wait:5').options).to.deep.equal({ result: undefined, waitMs: 5, timeout: 30, enabled: false });
    expect(parseMockValue('').options).to.deep.equal({ result: undefined, waitMs: 0, timeout: undefined, enabled: true });
  });

  it('ignores what it cannot read and says why, as CloudStack logs and skips it', () => {
    const p = parseMockValue('result:explode;wait:soon;wait:-5;enabled:yes;colour:blue;nonsense');
    expect(p.options).to.deep.equal({ result: undefined, waitMs: 0, timeout: undefined, enabled: false });
    expect(p.problems).to.have.length(6);
    expect(p.problems.join('|')).to.contain('result:explode').and.contain('wait:soon').and.contain('colour')
      .and.contain('"nonsense" is not key:value').and.contain('enabled:yes');
  });

  it('lets the last of a repeated key win', () => {
    expect(parseMockValue('wait:10;wait:20;result:fail;result:fault').options).to.include({ waitMs: 20, result: 'fault' });
  });
});

describe('compute: simulator mock matching', () => {
  it('ranks scopes host > cluster > pod > zone > global', () => {
    expect(specificity({})).to.equal(0);
    expect(specificity({ zoneId: 'z1' })).to.equal(1);
    expect(specificity({ zoneId: 'z1', podId: 'p1' })).to.equal(2);
    expect(specificity({ clusterId: 'c1' })).to.equal(3);
    expect(specificity({ zoneId: 'z1', hostId: 'h' })).to.equal(4);
  });

  it('matches a host only when every scope field it sets agrees; hostId names the host by uuid or name', () => {
    expect(scopeMatches({}, HOST)).to.equal(true);
    expect(scopeMatches({ zoneId: 'z1', podId: 'p1', clusterId: 'c1' }, HOST)).to.equal(true);
    expect(scopeMatches({ zoneId: 'z2' }, HOST)).to.equal(false);
    expect(scopeMatches({ zoneId: 'z1', clusterId: 'c2' }, HOST)).to.equal(false);
    expect(scopeMatches({ hostId: 'host-uuid-1' }, HOST)).to.equal(true);
    expect(scopeMatches({ hostId: 'sim-h1' }, HOST)).to.equal(true);
    expect(scopeMatches({ hostId: 'sim-h2' }, HOST)).to.equal(false);
  });

  it('the most specific applicable mock wins, whatever the order they were installed in', () => {
    const table = new SimulatorMockTable();
    table.set([
      mock('global', 'StartCommand', 'result:fail'),
      mock('host', 'StartCommand', 'wait:1', { hostId: 'sim-h1' }),
      mock('zone', 'StartCommand', 'wait:2', { zoneId: 'z1' }),
      mock('cluster', 'StartCommand', 'wait:3', { zoneId: 'z1', podId: 'p1', clusterId: 'c1' }),
      mock('other-host', 'StartCommand', 'wait:4', { hostId: 'sim-h9' }),
    ]);
    expect(table.take('StartCommand', HOST)?.id).to.equal('host');
    expect(table.take('StartCommand', { ...HOST, hostIds: ['sim-h2'] })?.id).to.equal('cluster');
    expect(table.take('StartCommand', { ...HOST, cluster: 'c2', hostIds: ['sim-h2'] })?.id).to.equal('zone');
    expect(table.take('StartCommand', { zone: 'z2', pod: 'p', cluster: 'c', hostIds: ['x'] })?.id).to.equal('global');
    expect(table.take('StopCommand', HOST)).to.equal(undefined);
  });

  it('among equally specific mocks the first installed wins (CloudStack orders by id)', () => {
    const table = new SimulatorMockTable();
    table.set([mock('a', 'StopCommand', 'result:fail', { zoneId: 'z1' }), mock('b', 'StopCommand', 'result:fault', { zoneId: 'z1' })]);
    expect(table.take('StopCommand', HOST)?.id).to.equal('a');
  });

  it('compares command names without regard to case', () => {
    const table = new SimulatorMockTable();
    table.set([mock('m', 'startcommand', 'result:fail')]);
    expect(table.take('StartCommand', HOST)).to.deep.equal({ id: 'm', name: 'startcommand', result: 'fail', waitMs: 0 });
  });

  it('spends count once per use; a used-up or disabled mock no longer hides a less specific one', () => {
    const table = new SimulatorMockTable();
    table.set([
      mock('host', 'StartCommand', 'result:fail', { hostId: 'sim-h1', count: 2 }),
      mock('off', 'StartCommand', 'result:fail;enabled:false', { clusterId: 'c1' }),
      mock('zone', 'StartCommand', 'result:fault', { zoneId: 'z1', count: 1 }),
    ]);
    const ids = [1, 2, 3, 4].map(() => table.take('StartCommand', HOST)?.id);
    expect(ids).to.deep.equal(['host', 'host', 'zone', undefined]);
    expect(table.list().map((m) => [m.id, m.remaining, m.hits])).to.deep.equal([['host', 0, 2], ['off', null, 0], ['zone', 0, 1]]);
  });

  it('count 0 never fires; absent or null count fires forever', () => {
    const table = new SimulatorMockTable();
    table.set([mock('zero', 'PingCommand', 'result:fail', { count: 0, hostId: 'sim-h1' }), mock('forever', 'PingCommand', 'result:fail', { count: null })]);
    for (let i = 0; i < 50; i++) expect(table.take('PingCommand', HOST)?.id).to.equal('forever');
    expect(table.list().find((m) => m.id === 'forever')).to.include({ remaining: null, hits: 50 });
  });

  it('keeps consumption when the same id and revision is pushed again, restarts it on a new revision, drops absent ids', () => {
    const table = new SimulatorMockTable();
    const m = mock('m', 'StartCommand', 'result:fail', { count: 2 });
    table.set([m]);
    table.take('StartCommand', HOST);
    table.set([m]); // the same list pushed to a second host sharing this table
    expect(table.list()[0]).to.include({ remaining: 1, hits: 1 });
    table.set([{ ...m, revision: 2 }]); // configureSimulator again: counts afresh
    expect(table.list()[0]).to.include({ remaining: 2, hits: 0 });
    expect(table.set([])).to.equal(0);
    expect(table.take('StartCommand', HOST)).to.equal(undefined);
  });

  it('bounds the number of installed mocks', () => {
    const table = new SimulatorMockTable({ maxMocks: 2 });
    expect(() => table.set([mock('a', 'X', ''), mock('b', 'X', ''), mock('c', 'X', '')])).to.throw(LimitExceededError, /maxMocks/);
  });

  it('property: the chosen mock applies to the host and none that applies is more specific', () => {
    const scopeField = (vals: string[]): fc.Arbitrary<string | undefined> => fc.option(fc.constantFrom(...vals), { nil: undefined });
    const mockArb = fc.record({
      zoneId: scopeField(['z1', 'z2']), podId: scopeField(['p1', 'p2']), clusterId: scopeField(['c1', 'c2']),
      hostId: scopeField(['sim-h1', 'host-uuid-1', 'sim-h2']), count: fc.option(fc.nat(3), { nil: undefined }),
    });
    fc.assert(fc.property(fc.array(mockArb, { maxLength: 12 }), (specs) => {
      const configs: MockConfig[] = specs.map((s, i) => {
        const c: MockConfig = { id: `m${i}`, name: 'StartCommand', value: 'result:fail', revision: 0 };
        for (const k of ['zoneId', 'podId', 'clusterId', 'hostId', 'count'] as const) if (s[k] !== undefined) (c as Record<string, unknown>)[k] = s[k];
        return c;
      });
      const table = new SimulatorMockTable();
      table.set(configs);
      const live = configs.filter((c) => c.count !== 0 && scopeMatches(c, HOST));
      const hit = table.take('StartCommand', HOST);
      if (live.length === 0) return hit === undefined;
      const chosen = configs.find((c) => c.id === hit?.id)!;
      const best = Math.max(...live.map(specificity));
      return scopeMatches(chosen, HOST) && specificity(chosen) === best && live.find((c) => specificity(c) === best) === chosen;
    }));
  });
});
