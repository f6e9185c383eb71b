import { InvalidParameterError, PermissionDeniedError, ResourceInUseError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact, displayDomainPath, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, canSee, resolveCaller, subtreeCondition, type Scope } from '../scoping.js';
import type { ResourceTag, TagRepository } from './tags.js';

/** listProjects' `project` object. */
export interface Project {
  id: string;
  name: string;
  displaytext?: string;
  domainid: string;
  domain: string;
  domainpath: string;
  /** The project admin's account name (CloudStack's `account`, and `owner` in newer versions). */
  account?: string;
  owner: { account: string; accountid: string }[];
  state: string;
  created: string;
  tags: ResourceTag[];
}

/** listProjectAccounts' `projectaccount` object. */
export interface ProjectAccount {
  projectid: string;
  project: string;
  account: string;
  accountid: string;
  role: string;
  domainid: string;
  domain: string;
}

interface Row {
  _id: number;
  _aid: number;
  _did: number;
  uuid: string;
  name: string;
  display_text: string | null;
  state: string;
  created: number;
  d_uuid: string;
  d_name: string;
  d_path: string;
}

/** Live resources that keep a project from being deleted (CloudStack cleans them up; here their owner must). */
const OWNED_TABLES = [['vm_instance', 'virtual machines'], ['volume', 'volumes'], ['network', 'networks'], ['snapshot', 'snapshots']] as const;

/**
 * Projects: a name in a domain whose resources belong to the project's own account, used by its
 * member accounts. Members see and use the project's resources (listing them with `projectid`);
 * everyone else sees neither the project nor its resources.
 */
export class ProjectRepository {
  readonly spec: ListSpec<Row, Project>;

  constructor(private readonly ctx: StoreContext, tags: TagRepository) {
    this.spec = {
      table: 'project',
      columns: `t.id AS _id, t.account_id AS _aid, t.domain_id AS _did, t.uuid, t.name, t.display_text, t.state, t.created,
        d.uuid AS d_uuid, d.name AS d_name, d.path AS d_path`,
      joins: 'JOIN domain d ON d.id = t.domain_id',
      where: 't.removed IS NULL',
      scope: (ctx, scope, p) => {
        if (scope === SYSTEM) return { sql: '', args: [] };
        const rc = resolveCaller(ctx, scope);
        const member = { sql: 't.id IN (SELECT project_id FROM project_account WHERE account_id = ?)', args: [rc.accountId] as unknown[] };
        if (rc.role === 'user' || p.listall !== true) return member;
        if (rc.role === 'admin') return { sql: '', args: [] };
        return subtreeCondition('t', rc.domainPath);
      },
      filters: { name: { eq: 'name' }, displaytext: { eq: 'display_text' }, state: { eq: 'state' },
        domainid: { ref: 'domain', column: 'domain_id' } },
      keyword: ['name', 'display_text'],
      map: (r) => compact<Project>({ id: r.uuid, name: r.name, displaytext: r.display_text, domainid: r.d_uuid, domain: r.d_name,
        domainpath: displayDomainPath(r.d_path), state: r.state, created: formatDate(r.created), owner: [], tags: [] }),
      attach: (ctx, rows, items) => {
        rows.forEach((r, i) => {
          const admins = ctx.all<{ name: string; uuid: string }>(`SELECT a.name, a.uuid FROM project_account pa JOIN account a ON a.id = pa.account_id
            WHERE pa.project_id = ? AND pa.role = 'Admin' ORDER BY pa.created`, r._id);
          items[i]!.owner = admins.map((a) => ({ account: a.name, accountid: a.uuid }));
          if (admins[0] !== undefined) items[i]!.account = admins[0].name;
        });
        tags.attach('Project', rows.map((r) => r._id), items);
      },
    };
  }

  get(scope: Scope, uuid: string): Project {
    const found = listResources(this.ctx, this.spec, scope, { id: uuid, listall: true }).items[0];
    if (found === undefined) throw new InvalidParameterError(`Unable to find project by id ${uuid}`);
    return found;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Project> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Project> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  /** createProject: the project, its own account, and the creator (or `accountid`) as its admin. */
  create(scope: Scope, input: { name: string; displaytext?: string; accountid?: string }): Project {
    if (input.name.trim() === '') throw new InvalidParameterError('a project name cannot be empty');
    return this.ctx.tx(() => {
      const admin = this.adminAccount(scope, input.accountid);
      const role = this.ctx.one<{ id: number }>("SELECT id FROM role WHERE type = 'User' ORDER BY id LIMIT 1")!;
      const now = this.ctx.now();
      const uuid = this.ctx.uuid();
      const acct = this.ctx.run('INSERT INTO account (uuid, name, domain_id, role_id, created) VALUES (?, ?, ?, ?, ?)', this.ctx.uuid(),
        `PrjAcct-${input.name}-${uuid.slice(0, 8)}`, admin.domainId, role.id, now);
      const res = uniquely(`A project with name ${input.name} already exists in the domain`, () => this.ctx.run(`INSERT INTO project
        (uuid, name, display_text, domain_id, account_id, created) VALUES (?, ?, ?, ?, ?, ?)`, uuid, input.name, input.displaytext ?? input.name,
      admin.domainId, Number(acct.lastInsertRowid), now));
      this.ctx.run("INSERT INTO project_account (project_id, account_id, role, created) VALUES (?, ?, 'Admin', ?)",
        Number(res.lastInsertRowid), admin.accountId, now);
      return this.get(SYSTEM, uuid);
    });
  }

  update(scope: Scope, uuid: string, patch: { displaytext?: string; state?: 'Active' | 'Suspended' }): Project {
    return this.ctx.tx(() => {
      const p = this.manageable(scope, uuid);
      if (patch.displaytext !== undefined) this.ctx.run('UPDATE project SET display_text = ? WHERE id = ?', patch.displaytext, p.id);
      if (patch.state !== undefined) this.ctx.run('UPDATE project SET state = ? WHERE id = ?', patch.state, p.id);
      return this.get(SYSTEM, uuid);
    });
  }

  /** deleteProject: refused while the project still owns live resources; its account goes with it. */
  delete(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const p = this.manageable(scope, uuid);
      for (const [table, what] of OWNED_TABLES) {
        const n = this.ctx.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE account_id = ? AND removed IS NULL`, p.account_id)!.n;
        if (n > 0) throw new ResourceInUseError(`Project ${p.name} still owns ${n} ${what}: delete them before the project`);
      }
      const now = this.ctx.now();
      this.ctx.run('DELETE FROM project_account WHERE project_id = ?', p.id);
      this.ctx.run('UPDATE project SET removed = ? WHERE id = ?', now, p.id);
      this.ctx.run("UPDATE account SET removed = ?, state = 'disabled' WHERE id = ?", now, p.account_id);
      this.ctx.run("DELETE FROM resource_tag WHERE resource_type = 'Project' AND resource_id = ?", p.id);
    });
  }

  /** addAccountToProject: the named account of the project's domain becomes a Regular (or Admin) member. */
  addAccount(scope: Scope, uuid: string, accountName: string, role: 'Admin' | 'Regular' = 'Regular'): void {
    this.ctx.tx(() => {
      const p = this.manageable(scope, uuid);
      const a = this.ctx.one<{ id: number }>('SELECT id FROM account WHERE domain_id = ? AND name = ? AND removed IS NULL', p.domain_id, accountName);
      if (a === undefined) throw new InvalidParameterError(`Unable to find account name ${accountName} in the domain of project ${p.name}`);
      uniquely(`Account ${accountName} is already assigned to the project ${p.name}`, () => this.ctx.run(
        'INSERT INTO project_account (project_id, account_id, role, created) VALUES (?, ?, ?, ?)', p.id, a.id, role, this.ctx.now()));
    });
  }

  /** deleteAccountFromProject: a member leaves; the last admin cannot. */
  removeAccount(scope: Scope, uuid: string, accountName: string): void {
    this.ctx.tx(() => {
      const p = this.manageable(scope, uuid);
      const m = this.ctx.one<{ account_id: number; role: string }>(`SELECT pa.account_id, pa.role FROM project_account pa JOIN account a ON a.id = pa.account_id
        WHERE pa.project_id = ? AND a.name = ?`, p.id, accountName);
      if (m === undefined) throw new InvalidParameterError(`Account ${accountName} is not assigned to the project ${p.name}`);
      const admins = this.ctx.one<{ n: number }>("SELECT count(*) AS n FROM project_account WHERE project_id = ? AND role = 'Admin'", p.id)!.n;
      if (m.role === 'Admin' && admins === 1) throw new InvalidParameterError(`Unable to delete account ${accountName}: it is the project's only admin`);
      this.ctx.run('DELETE FROM project_account WHERE project_id = ? AND account_id = ?', p.id, m.account_id);
    });
  }

  /** listProjectAccounts (members only). */
  accounts(scope: Scope, uuid: string): ProjectAccount[] {
    const p = this.get(scope, uuid);
    return this.ctx.all<{ name: string; uuid: string; role: string; d_uuid: string; d_name: string }>(`SELECT a.name, a.uuid, pa.role,
      d.uuid AS d_uuid, d.name AS d_name FROM project_account pa JOIN account a ON a.id = pa.account_id JOIN domain d ON d.id = a.domain_id
      JOIN project pr ON pr.id = pa.project_id WHERE pr.uuid = ? ORDER BY pa.created`, uuid)
      .map((r) => ({ projectid: p.id, project: p.name, account: r.name, accountid: r.uuid, role: r.role, domainid: r.d_uuid, domain: r.d_name }));
  }

  /** The project's own account (for resources created with `projectid`); the caller must be a member or an admin over it. */
  accountOf(scope: Scope, uuid: string): string {
    const p = this.ctx.one<{ account_id: number; domain_id: number; state: string; a_uuid: string }>(`SELECT p.account_id, p.domain_id, p.state,
      a.uuid AS a_uuid FROM project p JOIN account a ON a.id = p.account_id WHERE p.uuid = ? AND p.removed IS NULL`, uuid);
    if (p === undefined || !canSee(this.ctx, scope, p.account_id, p.domain_id)) throw new InvalidParameterError(`Unable to find project by id ${uuid}`);
    if (p.state !== 'Active') throw new PermissionDeniedError(`Project ${uuid} is ${p.state}: resources can be created in active projects only`);
    return p.a_uuid;
  }

  private adminAccount(scope: Scope, accountUuid: string | undefined): { accountId: number; domainId: number } {
    if (accountUuid !== undefined) {
      const a = this.ctx.one<{ id: number; domain_id: number }>('SELECT id, domain_id FROM account WHERE uuid = ? AND removed IS NULL', accountUuid);
      if (a === undefined || !canSee(this.ctx, scope, a.id, a.domain_id)) throw new InvalidParameterError(`Unable to find account ${accountUuid}`);
      return { accountId: a.id, domainId: a.domain_id };
    }
    if (scope === SYSTEM) throw new InvalidParameterError('creating a project as SYSTEM needs an account');
    const rc = resolveCaller(this.ctx, scope);
    return { accountId: rc.accountId, domainId: rc.domainId };
  }

  /** The project, which the caller may manage: a project admin, or an admin over its domain. */
  private manageable(scope: Scope, uuid: string): { id: number; name: string; account_id: number; domain_id: number } {
    const p = this.ctx.one<{ id: number; name: string; account_id: number; domain_id: number }>(
      'SELECT id, name, account_id, domain_id FROM project WHERE uuid = ? AND removed IS NULL', uuid);
    if (p === undefined || !canSee(this.ctx, scope, p.account_id, p.domain_id)) throw new InvalidParameterError(`Unable to find project by id ${uuid}`);
    if (scope !== SYSTEM) {
      const rc = resolveCaller(this.ctx, scope);
      const admin = this.ctx.one("SELECT 1 FROM project_account WHERE project_id = ? AND account_id = ? AND role = 'Admin'", p.id, rc.accountId);
      if (admin === undefined && rc.role === 'user') throw new PermissionDeniedError(`Account is not an admin of project ${p.name}`);
    }
    return p;
  }
}
