import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';

/** A login session as the API instances share it. */
export interface ApiSession {
  id: string;
  key: string;
  userid: string;
  username: string;
  /** The caller the session stands for, as the API encoded it. */
  caller: string;
  created: number;
  lastused: number;
}

interface SessionRow {
  id: string;
  session_key: string;
  user_uuid: string;
  username: string;
  caller: string;
  created: number;
  last_used: number;
}

/** Most sessions kept; creating one more drops the least recently used. Bounds a login flood. */
export const MAX_API_SESSIONS = 100_000;

const toSession = (r: SessionRow): ApiSession => ({ id: r.id, key: r.session_key, userid: r.user_uuid, username: r.username,
  caller: r.caller, created: r.created, lastused: r.last_used });

/**
 * Login sessions kept in the data service, so that every API instance of a cloud knows every session:
 * one made by `login` on one instance is valid on all, and `logout` anywhere ends it everywhere. The
 * ids and keys are made by the API (from the OS's CSPRNG); this only stores them.
 */
export class SessionRepository {
  constructor(private readonly ctx: StoreContext) {}

  create(s: { id: string; key: string; userid: string; username: string; caller: string }, maxSessions = MAX_API_SESSIONS): ApiSession {
    if (s.id.length < 16 || s.key.length < 16) throw new InvalidParameterError('session ids and keys must be at least 16 characters');
    if (s.caller.length > 4096) throw new InvalidParameterError('a session caller must be at most 4096 characters');
    return this.ctx.tx(() => {
      const now = this.ctx.now();
      const count = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM api_session')!.n;
      if (count >= maxSessions) {
        this.ctx.run('DELETE FROM api_session WHERE id IN (SELECT id FROM api_session ORDER BY last_used LIMIT ?)', count - maxSessions + 1);
      }
      this.ctx.run(`INSERT INTO api_session (id, session_key, user_uuid, username, caller, created, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        s.id, s.key, s.userid, s.username, s.caller, now, now);
      return { id: s.id, key: s.key, userid: s.userid, username: s.username, caller: s.caller, created: now, lastused: now };
    });
  }

  /**
   * The live session with this id, or undefined when unknown or idle for `idleTimeoutMs`. Its last use
   * is moved forward only when older than `touchAfterMs`, so that a busy session does not make every
   * request a write.
   */
  touch(id: string, idleTimeoutMs: number, touchAfterMs: number): ApiSession | undefined {
    const r = this.ctx.one<SessionRow>('SELECT * FROM api_session WHERE id = ?', id);
    if (r === undefined) return undefined;
    const now = this.ctx.now();
    if (now - r.last_used >= idleTimeoutMs) {
      this.ctx.run('DELETE FROM api_session WHERE id = ?', id);
      return undefined;
    }
    if (now - r.last_used >= touchAfterMs) {
      this.ctx.run('UPDATE api_session SET last_used = ? WHERE id = ?', now, id);
      r.last_used = now;
    }
    return toSession(r);
  }

  delete(id: string): boolean {
    return this.ctx.run('DELETE FROM api_session WHERE id = ?', id).changes > 0;
  }

  /** Ends every session of a user (disabled, deleted, or keys changed by an admin). */
  deleteForUser(userid: string): number {
    return this.ctx.run('DELETE FROM api_session WHERE user_uuid = ?', userid).changes;
  }

  /** Drops sessions idle for `idleTimeoutMs`; returns how many. */
  sweep(idleTimeoutMs: number): number {
    return this.ctx.run('DELETE FROM api_session WHERE last_used <= ?', this.ctx.now() - idleTimeoutMs).changes;
  }
}
