import { scryptSync, timingSafeEqual } from 'node:crypto';
import { InvalidParameterError, NotFoundError, PermissionDeniedError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact, displayDomainPath, formatDate } from '../format.js';
import { fetchWhere, idList, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, canSee, resolveCaller, roleOfType, type Caller, type Scope } from '../scoping.js';
import { getOwned, type OwnedRow } from './common.js';
import type { RoleType } from './accounts.js';

/** listUsers' `user` object. Secret keys never appear here (getUserKeys returns them). */
export interface User {
  id: string;
  username: string;
  firstname?: string;
  lastname?: string;
  email?: string;
  created: string;
  state: string;
  account: string;
  accountid: string;
  accounttype: number;
  roleid: string;
  roletype: RoleType;
  rolename: string;
  domainid: string;
  domain: string;
  domainpath: string;
  apikey?: string;
  timezone?: string;
  isdefault: boolean;
  usersource: string;
}

export interface UserKeys {
  apikey: string;
  secretkey: string;
}

export interface CreateUserInput {
  username: string;
  password: string;
  firstname?: string;
  lastname?: string;
  email?: string;
  timezone?: string;
}

/** What the API needs to authenticate a request signed with an API key. */
export interface ApiKeyIdentity {
  caller: Caller;
  secretkey: string;
  user: User;
}

interface UserRow extends OwnedRow {
  uuid: string;
  username: string;
  firstname: string | null;
  lastname: string | null;
  email: string | null;
  timezone: string | null;
  state: string;
  apikey: string | null;
  is_default: number;
  source: string;
  created: number;
  a_uuid: string;
  a_name: string;
  a_state: string;
  r_uuid: string;
  r_name: string;
  r_type: RoleType;
  d_uuid: string;
  d_name: string;
  d_path: string;
}

const TYPE_NUMBER: Record<RoleType, number> = { User: 0, Admin: 1, DomainAdmin: 2 };

/** scrypt parameters: N=2^14 keeps a login near 50 ms on a small server while making offline guessing slow. */
const SCRYPT_N = 16384;
const KEY_BYTES = 64;

export function hashPassword(password: string, salt: Buffer): string {
  const hash = scryptSync(password, salt, 32, { N: SCRYPT_N });
  return `scrypt$${SCRYPT_N}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string | null): boolean {
  const parts = stored?.split('$');
  if (parts === undefined || parts.length !== 4 || parts[0] !== 'scrypt') return false;
  const expected = Buffer.from(parts[3]!, 'base64');
  const actual = scryptSync(password, Buffer.from(parts[2]!, 'base64'), expected.length, { N: Number(parts[1]) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const SPEC: ListSpec<UserRow, User> = {
  table: 'app_user',
  columns: `t.id AS _id, t.account_id AS _aid, t.domain_id AS _did, t.uuid, t.username, t.firstname, t.lastname,
    t.email, t.timezone, t.state, t.apikey, t.is_default, t.source, t.created, a.uuid AS a_uuid, a.name AS a_name,
    a.state AS a_state, r.uuid AS r_uuid, r.name AS r_name, r.type AS r_type, d.uuid AS d_uuid, d.name AS d_name,
    d.path AS d_path`,
  joins: 'JOIN account a ON a.id = t.account_id JOIN role r ON r.id = a.role_id JOIN domain d ON d.id = t.domain_id',
  scope: 'owned',
  where: 't.removed IS NULL',
  filters: { username: { eq: 'username' }, state: { eq: 'state' }, accountid: { ref: 'account', column: 'account_id' } },
  keyword: ['username', 'firstname', 'lastname', 'email'],
  map: (r) => compact<User>({
    id: r.uuid, username: r.username, firstname: r.firstname, lastname: r.lastname, email: r.email,
    created: formatDate(r.created), state: r.state, account: r.a_name, accountid: r.a_uuid,
    accounttype: TYPE_NUMBER[r.r_type], roleid: r.r_uuid, roletype: r.r_type, rolename: r.r_name, domainid: r.d_uuid,
    domain: r.d_name, domainpath: displayDomainPath(r.d_path), apikey: r.apikey, timezone: r.timezone,
    isdefault: r.is_default === 1, usersource: r.source,
  }),
};

function callerOf(r: UserRow): Caller {
  return { accountId: r.a_uuid, userId: r.uuid, domainId: r.d_uuid, domainPath: displayDomainPath(r.d_path),
    role: roleOfType(r.r_type) };
}

export class UserRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(scope: Scope, uuid: string): User {
    return getOwned(this.ctx, SPEC, scope, 'user', uuid).item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<User> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<User> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  /** Users of many accounts in one query (for listAccounts' `user` arrays). */
  byAccounts(accountIds: readonly number[]): { accountKey: number; user: User }[] {
    // Bounded by the page or chunk of accounts (accountIds), times their users.
    const { rows, items } = fetchWhere(this.ctx, SPEC,
      't.removed IS NULL AND t.account_id IN (SELECT value FROM json_each(?))', idList(accountIds));
    return rows.map((r, i) => ({ accountKey: r._aid, user: items[i]! }));
  }

  /**
   * Inserts a user row (inside the caller's transaction).
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  insert(accountId: number, domainId: number, input: Omit<CreateUserInput, 'password'> & { isdefault?: boolean },
    passwordHash: string): string {
    const uuid = this.ctx.uuid();
    uniquely(`The user ${input.username} already exists in this domain`, () =>
      this.ctx.run(`INSERT INTO app_user (uuid, account_id, domain_id, username, password_hash, firstname, lastname,
        email, timezone, is_default, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, accountId, domainId, input.username, passwordHash,
      input.firstname ?? null, input.lastname ?? null, input.email ?? null, input.timezone ?? null,
      input.isdefault === true ? 1 : 0, this.ctx.now()));
    return uuid;
  }

  /** The stored form of a password. Slow by design (scrypt): call it before opening a transaction. */
  hash(password: string): string {
    return hashPassword(password, this.ctx.randomBytes(16));
  }

  /** createUser in an existing account. */
  create(scope: Scope, accountUuid: string, input: CreateUserInput): User {
    const hash = this.hash(input.password);
    return this.ctx.tx(() => {
      const a = this.ctx.one<{ id: number; domain_id: number }>(
        'SELECT id, domain_id FROM account WHERE uuid = ? AND removed IS NULL', accountUuid);
      if (a === undefined || !canSee(this.ctx, scope, a.id, a.domain_id)) {
        throw new InvalidParameterError(`Unable to find account with id ${accountUuid}`);
      }
      if (scope !== SYSTEM && resolveCaller(this.ctx, scope).role === 'user') {
        throw new PermissionDeniedError('a user cannot create users');
      }
      return this.get(SYSTEM, this.insert(a.id, a.domain_id, input, hash));
    });
  }

  /** registerUserKeys: new API key and secret key, replacing the old pair. */
  registerKeys(scope: Scope, userUuid: string): UserKeys {
    return this.ctx.tx(() => {
      this.get(scope, userUuid);
      const keys = { apikey: this.newKey(), secretkey: this.newKey() };
      this.ctx.run('UPDATE app_user SET apikey = ?, secretkey = ? WHERE uuid = ?', keys.apikey, keys.secretkey, userUuid);
      return keys;
    });
  }

  /** getUserKeys: the current pair, or undefined when none was registered. */
  getKeys(scope: Scope, userUuid: string): UserKeys | undefined {
    this.get(scope, userUuid);
    const r = this.ctx.one<{ apikey: string | null; secretkey: string | null }>(
      'SELECT apikey, secretkey FROM app_user WHERE uuid = ?', userUuid);
    return r?.apikey && r.secretkey ? { apikey: r.apikey, secretkey: r.secretkey } : undefined;
  }

  /**
   * The identity behind an API key, or undefined when the key is unknown or its user, account or domain
   * is not enabled — the API answers both with the same 401.
   */
  authenticateApiKey(apikey: string): ApiKeyIdentity | undefined {
    const found = fetchWhere(this.ctx, SPEC, 't.apikey = ? AND t.removed IS NULL', apikey);
    const row = found.rows[0];
    const user = found.items[0];
    const secret = this.ctx.one<{ secretkey: string | null }>('SELECT secretkey FROM app_user WHERE apikey = ?', apikey);
    if (row === undefined || user === undefined || !secret?.secretkey) return undefined;
    if (row.state !== 'enabled' || row.a_state !== 'enabled') return undefined;
    return { caller: callerOf(row), secretkey: secret.secretkey, user };
  }

  /**
   * Password login (CloudStack `login`): `domain` is a path such as '/', 'ROOT' or '/D1/' (default ROOT),
   * or `domainid`. Undefined on any failure, so that a wrong user and a wrong password look alike.
   */
  login(username: string, password: string, where: { domain?: string; domainid?: string } = {}):
    { caller: Caller; user: User } | undefined {
    const path = where.domain === undefined ? '/' : toInternalPath(where.domain);
    const found = fetchWhere(this.ctx, SPEC, `t.username = ? AND t.removed IS NULL AND ${where.domainid !== undefined
      ? 'd.uuid = ?' : 'd.path = ?'}`, username, where.domainid ?? path);
    const row = found.rows[0];
    const user = found.items[0];
    if (row === undefined || user === undefined || row.state !== 'enabled' || row.a_state !== 'enabled') return undefined;
    const stored = this.ctx.one<{ password_hash: string | null }>('SELECT password_hash FROM app_user WHERE id = ?', row._id);
    if (!verifyPassword(password, stored?.password_hash ?? null)) return undefined;
    return { caller: callerOf(row), user };
  }

  /**
   * The identity of work the cloud does on its own (HA restarts): the oldest enabled user of a ROOT
   * admin account, which is the seeded admin unless it was removed. NotFoundError when there is none.
   */
  rootAdminCaller(): Caller {
    const found = fetchWhere(this.ctx, SPEC, `t.removed IS NULL AND t.state = 'enabled' AND a.state = 'enabled'
      AND r.type = 'Admin' AND d.path = '/' AND a.name <> 'system'`).rows[0];
    if (found === undefined) throw new NotFoundError('there is no enabled ROOT admin user to run cloud-initiated jobs as; create one');
    return callerOf(found);
  }

  /** The Caller for a user (e.g. after a session lookup). NotFoundError when the user is gone. */
  callerFor(userUuid: string): Caller {
    const found = fetchWhere(this.ctx, SPEC, 't.uuid = ? AND t.removed IS NULL', userUuid).rows[0];
    if (found === undefined) throw new NotFoundError(`Unable to find user with id ${userUuid}`);
    return callerOf(found);
  }

  /**
   * enableUser / disableUser / lockUser: a user that is not enabled cannot log in or sign requests.
   * A plain user may change no user's state, and no one may change their own.
   */
  setState(scope: Scope, userUuid: string, state: 'enabled' | 'disabled' | 'locked'): User {
    return this.ctx.tx(() => {
      this.get(scope, userUuid);
      if (scope !== SYSTEM) {
        const rc = resolveCaller(this.ctx, scope);
        if (rc.role === 'user') throw new PermissionDeniedError('a user cannot change the state of a user');
        if (scope.userId === userUuid) throw new InvalidParameterError('a user cannot change the state of their own user');
      }
      this.ctx.run('UPDATE app_user SET state = ? WHERE uuid = ?', state, userUuid);
      return this.get(SYSTEM, userUuid);
    });
  }

  /**
   * deleteUser: the user can no longer log in or sign requests (its keys and sessions go with it). Not
   * the caller's own user, and not the last user of its account (an account keeps one).
   */
  remove(scope: Scope, userUuid: string): void {
    this.ctx.tx(() => {
      this.get(scope, userUuid);
      if (scope !== SYSTEM) {
        const rc = resolveCaller(this.ctx, scope);
        if (rc.role === 'user') throw new PermissionDeniedError('a user cannot delete users');
        if (scope.userId === userUuid) throw new InvalidParameterError('a user cannot delete their own user');
      }
      const row = this.ctx.one<{ id: number; account_id: number }>('SELECT id, account_id FROM app_user WHERE uuid = ?', userUuid)!;
      const others = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM app_user WHERE account_id = ? AND removed IS NULL AND id <> ?',
        row.account_id, row.id)!.n;
      if (others === 0) throw new InvalidParameterError(`user ${userUuid} is the last user of its account; an account keeps at least one user`);
      this.ctx.run('UPDATE app_user SET removed = ?, apikey = NULL, secretkey = NULL WHERE id = ?', this.ctx.now(), row.id);
      this.ctx.run('DELETE FROM api_session WHERE user_uuid = ?', userUuid);
    });
  }

  /** updateUser: the given fields of a user the caller may see (a plain user: only their own). */
  update(scope: Scope, userUuid: string, patch: { firstname?: string; lastname?: string; email?: string; timezone?: string;
    username?: string }): User {
    return this.ctx.tx(() => {
      this.get(scope, userUuid);
      if (scope !== SYSTEM && resolveCaller(this.ctx, scope).role === 'user' && scope.userId !== userUuid) {
        throw new PermissionDeniedError('a user can update only their own user');
      }
      const sets: string[] = [];
      const args: unknown[] = [];
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) continue;
        sets.push(`${k} = ?`);
        args.push(v);
      }
      if (sets.length > 0) {
        uniquely(`a user named ${patch.username ?? ''} already exists in this domain`,
          () => this.ctx.run(`UPDATE app_user SET ${sets.join(', ')} WHERE uuid = ?`, ...args, userUuid));
      }
      return this.get(SYSTEM, userUuid);
    });
  }

  /** Sets a user's password (SYSTEM or a caller allowed to see the user). */
  setPassword(scope: Scope, userUuid: string, password: string): void {
    const hash = this.hash(password);
    this.ctx.tx(() => {
      this.get(scope, userUuid);
      this.ctx.run('UPDATE app_user SET password_hash = ? WHERE uuid = ?', hash, userUuid);
    });
  }

  private newKey(): string {
    return this.ctx.randomBytes(KEY_BYTES).toString('base64url');
  }
}

function toInternalPath(domain: string): string {
  const trimmed = domain.replace(/^\/+|\/+$/g, '').replace(/^ROOT(\/|$)/, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}
