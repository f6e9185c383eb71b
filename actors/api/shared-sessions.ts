/**
 * Login sessions kept in the data service, so that any number of API instances serve one cloud: a
 * session made by `login` on one is valid on every other, and `logout` anywhere ends it everywhere.
 * The ids and keys come from this process's CSPRNG; the data service only stores them with the
 * caller they stand for.
 */
import { randomBytes } from 'node:crypto';
import type { DataApi } from '../data/protocol.js';
import { DEFAULT_SESSION_OPTIONS, validateSessionOptions, type Session, type SessionOptions, type Sessions } from './sessions.js';
import type { Caller } from './types.js';

/**
 * A session's last use is written at most this often, ms: a busy session would otherwise make every
 * request a write. The idle timeout is then exact to within this much.
 */
export const SESSION_TOUCH_INTERVAL_MS = 30_000;

const token = (bytes: number): string => randomBytes(bytes).toString('base64url');

export function sharedSessions(data: DataApi, options: Partial<SessionOptions> = {}): Sessions {
  const o = validateSessionOptions({ ...DEFAULT_SESSION_OPTIONS, ...options });
  const touchAfter = Math.min(SESSION_TOUCH_INTERVAL_MS, Math.floor(o.idleTimeoutMs / 4));
  return {
    timeoutSeconds: Math.floor(o.idleTimeoutMs / 1000),
    async create(caller, username) {
      const s = await data.sessions.create({ id: token(18), key: token(20), userid: caller.userId, username,
        caller: JSON.stringify(caller) }, o.maxSessions);
      return { id: s.id, key: s.key, caller, username, lastUsed: s.lastused };
    },
    async touch(id): Promise<Session | undefined> {
      const s = await data.sessions.touch(id, o.idleTimeoutMs, touchAfter);
      // "Nothing" crosses the data protocol as null.
      if (s === undefined || s === null) return undefined;
      return { id: s.id, key: s.key, caller: JSON.parse(s.caller) as Caller, username: s.username, lastUsed: s.lastused };
    },
    async delete(id) {
      await data.sessions.delete(id);
    },
  };
}
