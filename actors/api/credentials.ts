/**
 * The API's Credentials backed by the data service: API keys and passwords are checked by the data
 * component (which also refuses disabled users, accounts and domains). Every signed request needs the
 * secret key of its API key, so found keys are cached for a short time; the cache is bounded, and an
 * entry is dropped at once when its user's keys are re-registered through this API. Changes made
 * elsewhere (another API node, an account disabled by a component) are seen within `ttlMs`.
 */
import type { Clock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import type { DataApi } from '../data/protocol.js';
import type { Caller, Credentials } from './types.js';

export interface CredentialCacheOptions {
  /** How long a found API key is trusted without asking the data service again, ms. Default 5,000. */
  readonly ttlMs: number;
  /** Most API keys cached; the least recently used is dropped beyond this. Default 10,000. */
  readonly maxEntries: number;
}

export const DEFAULT_CREDENTIAL_CACHE: CredentialCacheOptions = { ttlMs: 5_000, maxEntries: 10_000 };

interface Entry {
  readonly secretKey: string;
  readonly caller: Caller;
  readonly expires: number;
}

export interface DataCredentials extends Credentials {
  /** Forgets the cached keys of a user (after registerUserKeys). */
  invalidateUser(userId: string): void;
  /** Cached API keys (for tests and diagnostics). */
  readonly size: number;
}

type Identity = NonNullable<Awaited<ReturnType<DataApi['users']['authenticateApiKey']>>>;

function toCaller(id: Pick<Identity, 'caller' | 'user'>): Caller {
  const c = id.caller;
  return { accountId: c.accountId, userId: c.userId, domainId: c.domainId, domainPath: c.domainPath, role: c.role, accountName: id.user.account };
}

export function createDataCredentials(data: DataApi, clock: Clock, options: Partial<CredentialCacheOptions> = {}): DataCredentials {
  const o = { ...DEFAULT_CREDENTIAL_CACHE, ...options };
  if (!Number.isInteger(o.ttlMs) || o.ttlMs < 0) throw new ConfigError('credential cache ttlMs must be a non-negative integer');
  if (!Number.isInteger(o.maxEntries) || o.maxEntries < 0) throw new ConfigError('credential cache maxEntries must be a non-negative integer');
  // Map order is insertion order: a hit is re-inserted, so the first key is the least recently used.
  const cache = new Map<string, Entry>();
  // Bumped by every invalidation: a lookup that began before one does not cache what it found.
  let generation = 0;

  const remember = (apiKey: string, entry: Entry): void => {
    if (o.maxEntries === 0 || o.ttlMs === 0) return;
    cache.delete(apiKey);
    cache.set(apiKey, entry);
    if (cache.size > o.maxEntries) cache.delete(cache.keys().next().value!);
  };

  return {
    async findByApiKey(apiKey) {
      const now = clock.now();
      const hit = cache.get(apiKey);
      if (hit !== undefined && hit.expires > now) {
        cache.delete(apiKey);
        cache.set(apiKey, hit);
        return { secretKey: hit.secretKey, caller: hit.caller };
      }
      cache.delete(apiKey);
      const began = generation;
      // Unknown keys are not cached: a key registered a moment ago must work at once.
      const found = await data.users.authenticateApiKey(apiKey);
      if (found === undefined || found === null) return undefined;
      const entry: Entry = { secretKey: found.secretkey, caller: toCaller(found), expires: now + o.ttlMs };
      if (began === generation) remember(apiKey, entry);
      return { secretKey: entry.secretKey, caller: entry.caller };
    },
    async checkPassword(username, password, domainPath) {
      const found = await data.users.login(username, password, { domain: domainPath });
      if (found === undefined || found === null) return undefined;
      const u = found.user;
      return { caller: toCaller(found), profile: { firstname: u.firstname, lastname: u.lastname, timezone: u.timezone } };
    },
    invalidateUser(userId) {
      generation++;
      for (const [key, e] of cache) if (e.caller.userId === userId) cache.delete(key);
    },
    get size() {
      return cache.size;
    },
  };
}
