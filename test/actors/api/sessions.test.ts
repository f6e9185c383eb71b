import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import { ConfigError } from '../../../src/errors.js';
import { SessionStore } from '../../../actors/api/sessions.js';
import { ADMIN, USER } from './fixtures.js';

describe('api/sessions', () => {
  it('expires idle sessions and keeps used ones alive', () => {
    const clock = new SimulatedClock(1000);
    const store = new SessionStore(clock, { idleTimeoutMs: 1000, maxSessions: 10 });
    const a = store.create(ADMIN, 'admin');
    const b = store.create(USER, 'alice');
    expect(a.id).to.not.equal(b.id);
    expect(a.key).to.not.equal(b.key);
    clock.advance(600);
    expect(store.touch(a.id)).to.equal(a);
    clock.advance(600);
    expect(store.touch(b.id)).to.equal(undefined); // idle 1200 ms
    expect(store.touch(a.id)).to.equal(a); // used 600 ms ago
    clock.advance(1000);
    store.sweep();
    expect(store.size).to.equal(0);
  });

  it('is bounded: the least recently used session makes room', () => {
    const store = new SessionStore(new SimulatedClock(), { maxSessions: 3 });
    const s = [0, 1, 2].map((i) => store.create(USER, `u${i}`));
    store.touch(s[0]!.id);
    const d = store.create(USER, 'u3');
    expect(store.size).to.equal(3);
    expect(store.touch(s[1]!.id)).to.equal(undefined);
    expect(store.touch(s[0]!.id)).to.equal(s[0]);
    expect(store.touch(d.id)).to.equal(d);
  });

  it('refuses nonsensical options', () => {
    expect(() => new SessionStore(new SimulatedClock(), { maxSessions: 0 })).to.throw(ConfigError, /maxSessions/);
    expect(() => new SessionStore(new SimulatedClock(), { idleTimeoutMs: -1 })).to.throw(ConfigError, /idleTimeoutMs/);
  });
});
