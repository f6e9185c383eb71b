import { InvalidParameterError, NotFoundError, PermissionDeniedError, ResourceInUseError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact, formatDate, displayDomainPath } from '../format.js';
import { groupBy, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, ownershipCondition, resolveCaller, type Scope } from '../scoping.js';
import { getGlobal } from './common.js';
import type { UserRepository, User } from './users.js';

export type RoleType = 'Admin' | 'DomainAdmin' | 'User';
export type AccountState = 'enabled' | 'disabled' | 'locked';

/** CloudStack's numeric account types: 0 user, 1 root admin, 2 domain admin. */
export const ACCOUNT_TYPE: Record<RoleType, number> = { User: 0, Admin: 1, DomainAdmin: 2 };
const TYPE_ROLE: Record<number, RoleType> = { 0: 'User', 1: 'Admin', 2: 'DomainAdmin' };

export interface Role {
  id: string;
  name: string;
  type: RoleType;
  description?: string;
}

/** listAccounts' `account` object. */
export interface Account {
  id: string;
  name: string;
  accounttype: number;
  roleid: string;
  roletype: RoleType;
  rolename: string;
  domainid: string;
  domain: string;
  domainpath: string;
  state: AccountState;
  networkdomain?: string;
  created: string;
  user: User[];
}

export interface CreateAccountInput {
  username: string;
  password: string;
  /** Account name; default the username. */
  account?: string;
  /** 0 user, 1 root admin, 2 domain admin; ignored when roleid is given. Default 0. */
  accounttype?: number;
  roleid?: string;
  /** Default: the caller's domain (ROOT for SYSTEM). */
  domainid?: string;
  firstname?: string;
  lastname?: string;
  email?: string;
  timezone?: string;
  networkdomain?: string;
}

interface AccountRow {
  _id: number;
  _did: number;
  uuid: string;
  name: string;
  state: AccountState;
  network_domain: string | null;
  created: number;
  r_uuid: string;
  r_name: string;
  r_type: RoleType;
  d_uuid: string;
  d_name: string;
  d_path: string;
}

/** The default roles CloudStack ships (bootstrap creates them). */
export const DEFAULT_ROLES: readonly { name: string; type: RoleType; description: string }[] = [
  { name: 'Root Admin', type: 'Admin', description: 'Default root admin role' },
  { name: 'Domain Admin', type: 'DomainAdmin', description: 'Default domain admin role' },
  { name: 'User', type: 'User', description: 'Default user role' },
];

export class AccountRepository {
  private readonly spec: ListSpec<AccountRow, Account>;

  constructor(private readonly ctx: StoreContext, private readonly users: UserRepository) {
    this.spec = {
      table: 'account',
      columns: `t.id AS _id, t.domain_id AS _did, t.uuid, t.name, t.state, t.network_domain, t.created,
        r.uuid AS r_uuid, r.name AS r_name, r.type AS r_type, d.uuid AS d_uuid, d.name AS d_name, d.path AS d_path`,
      joins: 'JOIN role r ON r.id = t.role_id JOIN domain d ON d.id = t.domain_id',
      // An account "owns" itself: the ownership rules apply with account_id = t.id.
      scope: (ctx, scope, p) => {
        const c = ownershipCondition(ctx, scope, p);
        return { sql: c.sql.replace(/t\.account_id/g, 't.id'), args: c.args };
      },
      where: 't.removed IS NULL',
      filters: {
        name: { eq: 'name' },
        state: { eq: 'state' },
        accounttype: { custom: (v) => ({
          sql: 't.role_id IN (SELECT id FROM role WHERE type = ?)', args: [TYPE_ROLE[Number(v)] ?? ''] }) },
      },
      keyword: ['name'],
      map: (r) => compact<Account>({
        id: r.uuid, name: r.name, accounttype: ACCOUNT_TYPE[r.r_type], roleid: r.r_uuid, roletype: r.r_type,
        rolename: r.r_name, domainid: r.d_uuid, domain: r.d_name, domainpath: displayDomainPath(r.d_path),
        state: r.state, networkdomain: r.network_domain, created: formatDate(r.created), user: [],
      }),
      attach: (_ctx, rows, items) => {
        const byAccount = groupBy(this.users.byAccounts(rows.map((r) => r._id)), (u) => u.accountKey);
        rows.forEach((r, i) => { items[i]!.user = (byAccount.get(r._id) ?? []).map((u) => u.user); });
      },
    };
  }

  get(scope: Scope, uuid: string): Account {
    const found = getGlobal(this.ctx, this.spec, 'account', uuid);
    if (scope !== SYSTEM) {
      const rc = resolveCaller(this.ctx, scope);
      const ok = rc.role === 'admin' || (rc.role === 'user' ? found.row._id === rc.accountId
        : found.row.d_path.startsWith(rc.domainPath));
      if (!ok) throw new NotFoundError(`Unable to find account with id ${uuid}`);
    }
    return found.item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Account> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Account> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  /** The account named `name` in a domain, for SYSTEM use (login, seeding). */
  findByName(domainUuid: string, name: string): Account | undefined {
    const r = this.ctx.one<{ uuid: string }>(`SELECT a.uuid FROM account a JOIN domain d ON d.id = a.domain_id
      WHERE d.uuid = ? AND a.name = ? AND a.removed IS NULL`, domainUuid, name);
    return r === undefined ? undefined : this.get(SYSTEM, r.uuid);
  }

  roles(): Role[] {
    // Bounded: the four built-in roles (roles are not created through the API).
    return this.ctx.all<{ uuid: string; name: string; type: RoleType; description: string | null }>(
      'SELECT uuid, name, type, description FROM role ORDER BY id')
      .map((r) => compact<Role>({ id: r.uuid, name: r.name, type: r.type, description: r.description }));
  }

  /** createAccount: the account and its first user, in one transaction. */
  create(scope: Scope, input: CreateAccountInput): Account {
    // scrypt takes tens of milliseconds: hash before taking the write lock.
    const hash = this.users.hash(input.password);
    return this.ctx.tx(() => {
      const role = this.pickRole(input);
      const domain = this.targetDomain(scope, input.domainid);
      this.checkMayCreate(scope, role.type, domain.path);
      const uuid = this.ctx.uuid();
      const name = input.account ?? input.username;
      const res = uniquely(`The account ${name} already exists in domain ${domain.uuid}`, () =>
        this.ctx.run(`INSERT INTO account (uuid, name, domain_id, role_id, network_domain, created)
          VALUES (?, ?, ?, ?, ?, ?)`, uuid, name, domain.id, role.id, input.networkdomain ?? null, this.ctx.now()));
      this.users.insert(Number(res.lastInsertRowid), domain.id, { ...input, isdefault: false }, hash);
      return this.get(SYSTEM, uuid);
    });
  }

  /** Enables, disables or locks an account (users of a non-enabled account cannot authenticate). */
  setState(scope: Scope, uuid: string, state: AccountState): Account {
    return this.ctx.tx(() => {
      this.get(scope, uuid);
      if (scope !== SYSTEM && resolveCaller(this.ctx, scope).role === 'user') {
        throw new PermissionDeniedError('a user cannot change the state of an account');
      }
      this.ctx.run('UPDATE account SET state = ? WHERE uuid = ?', state, uuid);
      return this.get(SYSTEM, uuid);
    });
  }

  /**
   * deleteAccount of an account that owns nothing any more: its users are removed with it (their keys
   * and sessions stop working) and it leaves its projects. CloudStack destroys what the account still
   * owns; here that is refused (ResourceInUseError names what is left), so nothing is lost unasked.
   */
  remove(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      this.get(scope, uuid);
      const a = this.ctx.one<{ id: number; name: string }>('SELECT id, name FROM account WHERE uuid = ?', uuid)!;
      if (scope !== SYSTEM) {
        const rc = resolveCaller(this.ctx, scope);
        if (rc.role === 'user') throw new PermissionDeniedError('a user cannot delete accounts');
        if (rc.accountId === a.id) throw new InvalidParameterError('an account cannot delete itself');
      }
      if (this.ctx.one('SELECT 1 FROM project WHERE account_id = ?', a.id) !== undefined) {
        throw new InvalidParameterError(`account ${a.name} is a project's own account; delete the project instead`);
      }
      const live = (table: string, extra = ' AND removed IS NULL'): number =>
        this.ctx.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE account_id = ?${extra}`, a.id)!.n;
      const owned: [string, number][] = [
        ['VMs', live('vm_instance')], ['volumes', live('volume')], ['snapshots', live('snapshot')], ['networks', live('network')],
        ['templates and ISOs', live('template')], ['VM snapshots', live('vm_snapshot')], ['public IP addresses', live('ip_address', '')],
        ['SSH key pairs', live('ssh_keypair', '')], ['user data', live('user_data', '')], ['instance groups', live('instance_group', '')],
        ['affinity groups', live('affinity_group', '')], ['snapshot policies', live('snapshot_policy', '')],
        ['network rules', live('network_rule', '')],
      ];
      const left = owned.filter(([, n]) => n > 0);
      if (left.length > 0) {
        throw new ResourceInUseError(`account ${a.name} still owns ${left.map(([what, n]) => `${n} ${what}`).join(', ')}; delete them first`);
      }
      const now = this.ctx.now();
      this.ctx.run(`DELETE FROM api_session WHERE user_uuid IN (SELECT uuid FROM app_user WHERE account_id = ?)`, a.id);
      this.ctx.run('UPDATE app_user SET removed = ?, apikey = NULL, secretkey = NULL WHERE account_id = ? AND removed IS NULL', now, a.id);
      this.ctx.run('DELETE FROM project_account WHERE account_id = ?', a.id);
      this.ctx.run('UPDATE account SET removed = ? WHERE id = ?', now, a.id);
    });
  }

  /** updateAccount: renames an account (names are unique within a domain). */
  rename(scope: Scope, uuid: string, newName: string): Account {
    return this.ctx.tx(() => {
      this.get(scope, uuid);
      if (scope !== SYSTEM && resolveCaller(this.ctx, scope).role === 'user') throw new PermissionDeniedError('a user cannot rename an account');
      if (newName.trim() === '') throw new InvalidParameterError('newname must not be empty');
      uniquely(`an account named ${newName} already exists in this domain`,
        () => this.ctx.run('UPDATE account SET name = ? WHERE uuid = ?', newName, uuid));
      return this.get(SYSTEM, uuid);
    });
  }

  private pickRole(input: CreateAccountInput): { id: number; type: RoleType } {
    if (input.roleid !== undefined) {
      const r = this.ctx.one<{ id: number; type: RoleType }>('SELECT id, type FROM role WHERE uuid = ?', input.roleid);
      if (r === undefined) throw new InvalidParameterError(`Unable to find role with id ${input.roleid}`);
      return r;
    }
    const type = TYPE_ROLE[input.accounttype ?? 0];
    if (type === undefined) throw new InvalidParameterError(`invalid accounttype ${input.accounttype}: use 0, 1 or 2`);
    const r = this.ctx.one<{ id: number; type: RoleType }>('SELECT id, type FROM role WHERE type = ? ORDER BY id LIMIT 1', type);
    if (r === undefined) throw new InvalidParameterError(`no role of type ${type} exists`);
    return r;
  }

  private targetDomain(scope: Scope, domainUuid: string | undefined): { id: number; path: string; uuid: string } {
    let uuid = domainUuid;
    if (uuid === undefined) {
      uuid = scope === SYSTEM ? this.ctx.one<{ uuid: string }>("SELECT uuid FROM domain WHERE path = '/'")?.uuid
        : scope.domainId;
    }
    const d = this.ctx.one<{ id: number; path: string; uuid: string }>(
      'SELECT id, path, uuid FROM domain WHERE uuid = ? AND removed IS NULL', uuid ?? '');
    if (d === undefined) throw new InvalidParameterError(`Unable to find domain with id ${uuid}`);
    return d;
  }

  private checkMayCreate(scope: Scope, type: RoleType, domainPath: string): void {
    if (scope === SYSTEM) return;
    const rc = resolveCaller(this.ctx, scope);
    if (rc.role === 'admin') return;
    if (rc.role === 'user' || type === 'Admin' || !domainPath.startsWith(rc.domainPath)) {
      throw new PermissionDeniedError(`Caller cannot create a ${type} account in that domain`);
    }
  }
}
