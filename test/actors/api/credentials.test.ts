/**
 * The data-backed Credentials: found API keys are cached for ttlMs (by the injected clock), bounded in
 * number, dropped when their user's keys change, and unknown keys are never cached.
 */
import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import type { DataApi } from '../../../actors/data/protocol.js';
import { createDataCredentials } from '../../../actors/api/credentials.js';

function fakeData(keys: Map<string, string>): { data: DataApi; calls: string[] } {
  const calls: string[] = [];
  const identity = (apiKey: string, userId: string) => ({
    caller: { accountId: `acc-${userId}`, userId, domainId: 'dom', domainPath: 'ROOT', role: 'user' as const },
    secretkey: `secret-${apiKey}`, user: { account: `account-${userId}` },
  });
  const data = {
    users: {
      authenticateApiKey: async (apiKey: string) => {
        calls.push(apiKey);
        const userId = keys.get(apiKey);
        // The data actor answers "nothing" as null.
        return userId === undefined ? null : identity(apiKey, userId);
      },
      login: async (username: string, password: string) => (password === 'right' ? identity('k', username) : null),
    },
  };
  return { data: data as unknown as DataApi, calls };
}

describe('api/credentials (data-backed, cached)', () => {
  it('caches a found key until ttlMs passes, and never caches an unknown key', async () => {
    const keys = new Map([['k1', 'u1']]);
    const { data, calls } = fakeData(keys);
    const clock = new SimulatedClock(0);
    const creds = createDataCredentials(data, clock, { ttlMs: 1_000 });
    const first = await creds.findByApiKey('k1');
    expect(first).to.deep.include({ secretKey: 'secret-k1' });
    expect(first!.caller).to.deep.equal({ accountId: 'acc-u1', userId: 'u1', domainId: 'dom', domainPath: 'ROOT', role: 'user', accountName: 'account-u1' });
    await creds.findByApiKey('k1');
    clock.advance(999);
    await creds.findByApiKey('k1');
    expect(calls).to.deep.equal(['k1']);
    clock.advance(1);
    await creds.findByApiKey('k1');
    expect(calls).to.deep.equal(['k1', 'k1']);
    expect(await creds.findByApiKey('nope')).to.equal(undefined);
    keys.set('nope', 'u2');
    expect(await creds.findByApiKey('nope')).to.not.equal(undefined);
  });

  it('drops a user\'s cached keys on invalidateUser, so an old key fails at once', async () => {
    const keys = new Map([['old', 'u1'], ['other', 'u2']]);
    const { data, calls } = fakeData(keys);
    const creds = createDataCredentials(data, new SimulatedClock(0));
    await creds.findByApiKey('old');
    await creds.findByApiKey('other');
    keys.delete('old');
    creds.invalidateUser('u1');
    expect(creds.size).to.equal(1);
    expect(await creds.findByApiKey('old')).to.equal(undefined);
    await creds.findByApiKey('other');
    expect(calls).to.deep.equal(['old', 'other', 'old']);
  });

  it('does not cache what a lookup found when an invalidation happened meanwhile', async () => {
    const keys = new Map([['k', 'u1']]);
    const { data } = fakeData(keys);
    const creds = createDataCredentials(data, new SimulatedClock(0));
    const pending = creds.findByApiKey('k');
    creds.invalidateUser('u1');
    expect(await pending).to.not.equal(undefined);
    expect(creds.size).to.equal(0);
  });

  it('keeps at most maxEntries keys, dropping the least recently used', async () => {
    const keys = new Map([['a', 'ua'], ['b', 'ub'], ['c', 'uc']]);
    const { data, calls } = fakeData(keys);
    const creds = createDataCredentials(data, new SimulatedClock(0), { maxEntries: 2 });
    await creds.findByApiKey('a');
    await creds.findByApiKey('b');
    await creds.findByApiKey('a'); // a is now the most recent
    await creds.findByApiKey('c'); // evicts b
    expect(creds.size).to.equal(2);
    await creds.findByApiKey('a');
    await creds.findByApiKey('b');
    expect(calls).to.deep.equal(['a', 'b', 'c', 'b']);
  });

  it('checks passwords through the data service', async () => {
    const { data } = fakeData(new Map());
    const creds = createDataCredentials(data, new SimulatedClock(0));
    expect(await creds.checkPassword('alice', 'wrong', '/')).to.equal(undefined);
    expect((await creds.checkPassword('alice', 'right', '/'))!.caller.userId).to.equal('alice');
  });

  it('refuses a negative ttl or size', () => {
    const { data } = fakeData(new Map());
    expect(() => createDataCredentials(data, new SimulatedClock(0), { ttlMs: -1 })).to.throw(/ttlMs/);
    expect(() => createDataCredentials(data, new SimulatedClock(0), { maxEntries: 1.5 })).to.throw(/maxEntries/);
  });
});
