import { expect } from 'chai';
import { DuplicateDetector } from '../../../actors/fabric-monitor/duplicates.js';

const set = (...v: string[]): Set<string> => new Set(v);

describe('fabric monitor: VM running on two hosts', () => {
  it('flags a VM one host held across two reports while another host reported it in between', () => {
    const d = new DuplicateDetector();
    expect(d.observe('x', set('v'), 0)).to.deep.equal([]);
    expect(d.observe('y', set('v'), 5)).to.deep.equal([]);
    expect(d.observe('x', set('v'), 10)).to.deep.equal([{ vm: 'v', other: 'y' }]);
  });

  it('does not flag a migration (gone from the source before it shows on the target)', () => {
    const d = new DuplicateDetector();
    d.observe('x', set('v'), 0);
    d.observe('y', set(), 1);
    d.observe('x', set(), 10);
    expect(d.observe('y', set('v'), 11)).to.deep.equal([]);
    expect(d.observe('y', set('v'), 21)).to.deep.equal([]);
    expect(d.observe('x', set(), 20)).to.deep.equal([]);
  });

  it('forgets a host that is declared Down (its last report is stale)', () => {
    const d = new DuplicateDetector();
    d.observe('x', set('v'), 0);
    d.forget('x');
    d.observe('y', set('v'), 5);
    expect(d.observe('y', set('v'), 10)).to.deep.equal([]);
  });
});
