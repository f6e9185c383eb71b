/**
 * Login sessions: a JSESSIONID (the servlet session id, sent as a cookie) and a sessionkey (CloudStack's
 * CSRF token, sent as a parameter and a cookie). Bounded in number and by idle time; the store is a Map
 * kept in least-recently-used order, so expiry and eviction only ever look at its front.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/errors.js';
import type { Clock } from '../../src/clock.js';
import type { Caller } from './types.js';

export interface SessionOptions {
  /** Most live sessions; creating one more evicts the least recently used. Default 10,000. */
  readonly maxSessions: number;
  /** A session unused for this long (ms) is gone. Default 30 minutes, CloudStack's session timeout. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { maxSessions: 10_000, idleTimeoutMs: 30 * 60_000 };

export interface Session {
  readonly id: string;
  readonly key: string;
  readonly caller: Caller;
  readonly username: string;
  lastUsed: number;
}

/** Session ids and keys are bearer secrets: they come from the OS's CSPRNG, never a seeded source. */
export type TokenSource = (bytes: number) => string;
const cryptoTokens: TokenSource = (bytes) => randomBytes(bytes).toString('base64url');

export function validateSessionOptions(o: SessionOptions): SessionOptions {
  if (!Number.isInteger(o.maxSessions) || o.maxSessions < 1) throw new ConfigError('sessions.maxSessions must be a positive integer');
  if (!(o.idleTimeoutMs > 0)) throw new ConfigError('sessions.idleTimeoutMs must be a positive number of milliseconds');
  return o;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly options: SessionOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<SessionOptions> = {},
    private readonly tokens: TokenSource = cryptoTokens,
  ) {
    this.options = validateSessionOptions({ ...DEFAULT_SESSION_OPTIONS, ...options });
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Idle timeout in whole seconds, as loginresponse's `timeout` reports it. */
  get timeoutSeconds(): number {
    return Math.floor(this.options.idleTimeoutMs / 1000);
  }

  create(caller: Caller, username: string): Session {
    this.sweep();
    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done === true) break;
      this.sessions.delete(oldest.value);
    }
    const session: Session = { id: this.tokens(18), key: this.tokens(20), caller, username, lastUsed: this.clock.now() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, marked as just used; undefined if unknown or idle too long. */
  touch(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (s === undefined) return undefined;
    const now = this.clock.now();
    this.sessions.delete(id);
    if (now - s.lastUsed >= this.options.idleTimeoutMs) return undefined;
    s.lastUsed = now;
    this.sessions.set(id, s); // move to the back: most recently used
    return s;
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** Drops idle sessions from the front of the LRU order. */
  sweep(): void {
    const now = this.clock.now();
    for (const [id, s] of this.sessions) {
      if (now - s.lastUsed < this.options.idleTimeoutMs) break;
      this.sessions.delete(id);
    }
  }
}

/**
 * Sessions as the dispatcher uses them: asynchronous, because an API that is one of several instances
 * keeps them in the data service (see shared-sessions.ts), where every instance sees them.
 */
export interface Sessions {
  /** Idle timeout in whole seconds, as loginresponse's `timeout` reports it. */
  readonly timeoutSeconds: number;
  create(caller: Caller, username: string): Promise<Session>;
  touch(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
}

/** Sessions of this process only (an API server on its own, as in unit tests). */
export function memorySessions(store: SessionStore): Sessions {
  return {
    get timeoutSeconds() { return store.timeoutSeconds; },
    create: async (caller, username) => store.create(caller, username),
    touch: async (id) => store.touch(id),
    delete: async (id) => { store.delete(id); },
  };
}
