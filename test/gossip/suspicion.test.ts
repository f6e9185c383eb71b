import { expect } from 'chai';
import { SimulatedClock } from '../../src/clock.js';
import { remainingSuspicionTime, Suspicion } from '../../src/gossip/suspicion.js';

function make(clock: SimulatedClock, k: number, min = 1000, max = 6000) {
  const fired: number[] = [];
  const s = new Suspicion({
    clock, from: 'origin', k, min, max, stallThreshold: 100, grace: 200, onTimeout: (n) => fired.push(n),
  });
  return { s, fired };
}

describe('gossip/suspicion (Lifeguard dogpile)', () => {
  it('computes memberlist\'s shrinking timeout: max − (max − min) × log(n + 1) / log(k + 1)', () => {
    expect(remainingSuspicionTime(0, 3, 0, 2000, 30_000)).to.equal(30_000);
    expect(remainingSuspicionTime(1, 3, 0, 2000, 30_000)).to.equal(16_000);
    expect(remainingSuspicionTime(3, 3, 0, 2000, 30_000)).to.equal(2000);
    expect(remainingSuspicionTime(3, 3, 500, 2000, 30_000)).to.equal(1500);
    expect(remainingSuspicionTime(1, 3, 20_000, 2000, 30_000)).to.equal(-4000);
  });

  it('starts at the maximum when confirmations are expected', () => {
    const clock = new SimulatedClock();
    const { fired } = make(clock, 2);
    clock.advance(5999);
    expect(fired).to.deep.equal([]);
    clock.advance(1);
    expect(fired).to.deep.equal([0]);
  });

  it('starts at the minimum when no confirmation is expected (k = 0)', () => {
    const clock = new SimulatedClock();
    const { fired } = make(clock, 0);
    clock.advance(1000);
    expect(fired).to.deep.equal([0]);
  });

  it('shrinks toward the minimum with each new independent confirmation', () => {
    const clock = new SimulatedClock();
    const { s, fired } = make(clock, 2);
    clock.advance(500);
    expect(s.confirm('b')).to.equal(true);
    // n = 1 of k = 2: 6000 − 5000 × log 2 / log 3 = 2845 ms from the start.
    expect(s.remaining()).to.equal(2845 - 500);
    expect(s.confirm('c')).to.equal(true);
    expect(s.remaining()).to.equal(1000 - 500);
    clock.advance(499);
    expect(fired).to.deep.equal([]);
    clock.advance(1);
    expect(fired).to.deep.equal([2]);
  });

  it('ignores the originator, repeated confirmers and confirmations beyond k', () => {
    const clock = new SimulatedClock();
    const { s } = make(clock, 2);
    expect(s.confirm('origin')).to.equal(false);
    expect(s.confirm('b')).to.equal(true);
    expect(s.confirm('b')).to.equal(false);
    expect(s.confirm('c')).to.equal(true);
    expect(s.confirm('d')).to.equal(false);
    expect(s.confirmations).to.equal(2);
  });

  it('fires at once when a confirmation arrives after the shrunken window has passed', () => {
    const clock = new SimulatedClock();
    const { s, fired } = make(clock, 2);
    clock.advance(3000);
    s.confirm('b');
    s.confirm('c');
    clock.advance(0);
    expect(fired).to.deep.equal([2]);
  });

  it('waits a grace period when its timer fires late (this node was stalled)', () => {
    const clock = new SimulatedClock();
    // Simulate a stall: nothing runs until 1500 ms although the timer was due at 1000 ms.
    const late: (() => void)[] = [];
    const stalled = {
      now: () => clock.now(),
      setTimeout: (fn: () => void, ms: number) => clock.setTimeout(() => (clock.now() < 1500 ? late.push(fn) : fn()), ms),
      setInterval: clock.setInterval.bind(clock),
    };
    const fired2: number[] = [];
    new Suspicion({ clock: stalled, from: 'x', k: 0, min: 1000, max: 1000, stallThreshold: 100, grace: 200, onTimeout: (n) => fired2.push(n) });
    clock.advance(1500);
    for (const fn of late) fn();
    expect(fired2).to.deep.equal([]);
    clock.advance(199);
    expect(fired2).to.deep.equal([]);
    clock.advance(1);
    expect(fired2).to.deep.equal([0]);
  });

  it('can be extended and cancelled', () => {
    const clock = new SimulatedClock();
    const { s, fired } = make(clock, 0);
    clock.advance(900);
    s.extend(1000);
    clock.advance(999);
    expect(fired).to.deep.equal([]);
    s.cancel();
    clock.advance(10_000);
    expect(fired).to.deep.equal([]);
  });
});
