import { expect } from 'chai';
import { Awareness } from '../../src/gossip/awareness.js';

describe('gossip/awareness (Lifeguard local health)', () => {
  it('starts healthy and does not stretch timeouts', () => {
    const a = new Awareness(8);
    expect(a.score).to.equal(0);
    expect(a.scale(500)).to.equal(500);
  });

  it('rises with bad evidence, stretches timeouts, and falls with good evidence', () => {
    const a = new Awareness(8);
    a.applyDelta(2);
    expect(a.score).to.equal(2);
    expect(a.scale(100)).to.equal(300);
    a.applyDelta(-1);
    expect(a.score).to.equal(1);
    expect(a.scale(100)).to.equal(200);
  });

  it('stays within [0, max − 1]', () => {
    const a = new Awareness(8);
    a.applyDelta(100);
    expect(a.score).to.equal(7);
    expect(a.scale(10)).to.equal(80);
    a.applyDelta(-100);
    expect(a.score).to.equal(0);
  });
});
