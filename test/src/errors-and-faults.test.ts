import { expect } from 'chai';
import { SimulatedClock } from '../../src/clock.js';
import { createSeededRandom, shuffle } from '../../src/random.js';
import { fromWire, toWire, PeerDownError, NotFoundError, InternalError, CloudstackdError, TimeoutError } from '../../src/errors.js';
import { decodeFrame, encodeFrame } from '../../src/codec.js';
import { FaultInjector } from '../../transports/fault/fault-injector.js';

describe('errors', () => {
  it('cross the wire as the same class with code, retryable flag and cause', () => {
    const original = new PeerDownError('node x is unreachable', { cause: new NotFoundError('vm 1'), details: { node: 'x' } });
    const frame = encodeFrame([{ kind: 'error', id: '1', toNode: 'a', to: '/p', fromNode: 'b', from: '', type: 't', body: toWire(original) }]);
    const rebuilt = fromWire(decodeFrame(frame)[0]!.body as never);
    expect(rebuilt).to.be.instanceOf(PeerDownError);
    expect(rebuilt.retryable).to.equal(true);
    expect(rebuilt.code).to.equal('PEER_DOWN');
    expect(rebuilt.details).to.deep.equal({ node: 'x' });
    expect(rebuilt.cause).to.be.instanceOf(NotFoundError);
  });

  it('turns foreign errors into INTERNAL without stack traces', () => {
    const w = toWire(new TypeError('x is undefined'));
    expect(w).to.deep.equal({ code: 'INTERNAL', message: 'x is undefined', retryable: false });
    expect(fromWire(w)).to.be.instanceOf(InternalError);
    const unknown = fromWire({ code: 'SOMETHING_NEW', message: 'm', retryable: true });
    expect(unknown).to.be.instanceOf(CloudstackdError);
    expect(unknown.code).to.equal('SOMETHING_NEW');
    expect(new TimeoutError('t').retryable).to.equal(true);
  });
});

describe('fault injector', () => {
  function trace(seed: number): string[] {
    const f = new FaultInjector(createSeededRandom(seed), new SimulatedClock(), { loss: 0.1, duplicate: 0.1, delay: 0.2, reorder: 0.05 });
    return Array.from({ length: 500 }, () => JSON.stringify(f.decide('a', 'b')));
  }

  it('reproduces the same decisions from the same seed', () => {
    expect(trace(7)).to.deep.equal(trace(7));
    expect(trace(7)).to.not.deep.equal(trace(8));
  });

  it('applies one-way and two-way partitions', () => {
    const f = new FaultInjector(createSeededRandom(1), new SimulatedClock());
    f.partition(['a'], ['b'], { oneWay: true });
    expect(f.decide('a', 'b').drop).to.equal(true);
    expect(f.decide('b', 'a').drop).to.equal(false);
    f.partition(['a'], ['c']);
    expect(f.decide('c', 'a').drop).to.equal(true);
    f.heal();
    expect(f.decide('a', 'b').drop).to.equal(false);
  });

  it('refuses rates outside [0, 1]', () => {
    expect(() => new FaultInjector(createSeededRandom(1), new SimulatedClock(), { loss: 2 })).to.throw(/loss/);
  });
});

describe('clock and random', () => {
  it('the simulated clock fires timers in time then creation order and cancels', () => {
    const c = new SimulatedClock();
    const log: string[] = [];
    c.setTimeout(() => log.push('b'), 20);
    c.setTimeout(() => log.push('a'), 10);
    c.setTimeout(() => log.push('a2'), 10);
    const x = c.setTimeout(() => log.push('never'), 15);
    x.cancel();
    const iv = c.setInterval(() => log.push('i'), 8);
    c.advance(20);
    iv.cancel();
    c.advance(100);
    expect(log).to.deep.equal(['i', 'a', 'a2', 'i', 'b']);
  });

  it('a seed reproduces a shuffle', () => {
    const a = shuffle([1, 2, 3, 4, 5, 6, 7, 8], createSeededRandom(3));
    const b = shuffle([1, 2, 3, 4, 5, 6, 7, 8], createSeededRandom(3));
    expect(a).to.deep.equal(b);
  });
});
