import { InvalidParameterError, NotFoundError, PermissionDeniedError } from '../../../src/errors.js';
import { SYSTEM, type Caller, type CallerRole, type Scope } from '../caller.js';
import type { StoreContext } from './context.js';

/**
 * Ownership scoping, in one place. CloudStack's rules (BaseListDomainResourcesCmd and
 * AccountManager.buildACLSearchParameters):
 * - a plain user only ever sees its own account's resources;
 * - `account` (with `domainid`, default the caller's domain) narrows to one account the caller may see;
 * - `domainid` narrows to that domain, or its whole subtree with `isrecursive=true`;
 * - otherwise `listall=true` shows everything the caller may see (root admin: all; domain admin: its
 *   domain subtree), and without it the caller sees its own account only — even the root admin — except
 *   that an admin asking for one `id` is not limited to its own account;
 * - naming a domain or account outside the caller's reach is refused (PermissionDeniedError);
 * - a single resource the caller may not see is NotFoundError, exactly like one that does not exist, so
 *   that ids cannot be probed.
 */

// The caller identity is declared once, with its wire schema, in actors/data/caller.ts.
export { SYSTEM, type Caller, type CallerRole, type Scope } from '../caller.js';

export interface OwnershipParams {
  /** A project's resources only (the caller must be a member, or an admin over its domain). */
  projectid?: string | undefined;
  listall?: boolean | undefined;
  domainid?: string | undefined;
  isrecursive?: boolean | undefined;
  account?: string | undefined;
  id?: string | undefined;
}

/** A caller resolved to internal keys. */
export interface ResolvedCaller {
  role: CallerRole;
  accountId: number;
  userId: number | undefined;
  domainId: number;
  /** Internal domain path ('/', '/D1/'). */
  domainPath: string;
}

/** A SQL condition and its arguments; `sql` is '' when nothing is filtered. */
export interface Condition {
  sql: string;
  args: unknown[];
}

const ROLE_OF_TYPE: Record<string, CallerRole> = { Admin: 'admin', DomainAdmin: 'domainadmin', User: 'user' };

export function roleOfType(type: string): CallerRole {
  return ROLE_OF_TYPE[type] ?? 'user';
}

export function resolveCaller(ctx: StoreContext, caller: Caller): ResolvedCaller {
  const row = ctx.one<{ id: number; domain_id: number; path: string; type: string; state: string }>(
    `SELECT a.id, a.domain_id, d.path, r.type, a.state FROM account a JOIN domain d ON d.id = a.domain_id
     JOIN role r ON r.id = a.role_id WHERE a.uuid = ? AND a.removed IS NULL`, caller.accountId);
  if (row === undefined) throw new PermissionDeniedError('the calling account no longer exists');
  if (row.state !== 'enabled') throw new PermissionDeniedError(`the calling account is ${row.state}`);
  return {
    role: roleOfType(row.type),
    accountId: row.id,
    userId: ctx.idOf('app_user', caller.userId),
    domainId: row.domain_id,
    domainPath: row.path,
  };
}

/** The [low, high) range of internal paths covering `path` and its descendants. */
export function subtreeRange(path: string): [string, string] {
  // Paths end with '/'; '0' is the character right after '/', so every descendant sorts below it.
  return [path, path.slice(0, -1) + '0'];
}

export function subtreeCondition(alias: string, path: string): Condition {
  const [lo, hi] = subtreeRange(path);
  return { sql: `${alias}.domain_id IN (SELECT id FROM domain WHERE path >= ? AND path < ?)`, args: [lo, hi] };
}

function inSubtree(rc: ResolvedCaller, domainPath: string): boolean {
  return domainPath.startsWith(rc.domainPath);
}

/** Whether the caller may see a resource owned by (accountId, domainId) — internal keys. */
export function canSee(ctx: StoreContext, scope: Scope, accountId: number | null, domainId: number | null): boolean {
  if (scope === SYSTEM) return true;
  const rc = resolveCaller(ctx, scope);
  return canSeeResolved(ctx, rc, accountId, domainId);
}

export function canSeeResolved(ctx: StoreContext, rc: ResolvedCaller, accountId: number | null,
  domainId: number | null): boolean {
  if (rc.role === 'admin') return true;
  if (accountId !== null && accountId !== rc.accountId && isProjectMember(ctx, rc.accountId, accountId)) return true;
  if (rc.role === 'user') return accountId !== null && accountId === rc.accountId;
  if (domainId === null) return false;
  const d = ctx.one<{ path: string }>('SELECT path FROM domain WHERE id = ?', domainId);
  return d !== undefined && inSubtree(rc, d.path);
}

/** Throws the same NotFoundError a missing resource gives when the caller may not see it. */
export function assertVisible(ctx: StoreContext, scope: Scope, what: string, uuid: string,
  owner: { account_id: number | null; domain_id: number | null } | undefined): void {
  if (owner === undefined || !canSee(ctx, scope, owner.account_id, owner.domain_id)) {
    throw new NotFoundError(`Unable to find ${what} with id ${uuid}`);
  }
}

interface DomainRef {
  id: number;
  path: string;
  uuid: string;
}

function visibleDomain(ctx: StoreContext, rc: ResolvedCaller | undefined, uuid: string): DomainRef {
  const d = ctx.one<DomainRef>('SELECT id, path, uuid FROM domain WHERE uuid = ? AND removed IS NULL', uuid);
  if (rc === undefined || rc.role === 'admin') {
    if (d === undefined) throw new InvalidParameterError(`Unable to find domain by id ${uuid}`);
    return d;
  }
  // Outside its reach and non-existent look the same to a non-root caller.
  const reachable = d !== undefined && (rc.role === 'user' ? d.id === rc.domainId : inSubtree(rc, d.path));
  if (!reachable) throw new PermissionDeniedError(`Caller cannot access domain ${uuid}`);
  return d;
}

function namedAccount(ctx: StoreContext, rc: ResolvedCaller | undefined, name: string, domain: DomainRef): number {
  const a = ctx.one<{ id: number }>(
    'SELECT id FROM account WHERE domain_id = ? AND name = ? AND removed IS NULL', domain.id, name);
  if (rc?.role === 'user' && a?.id !== rc.accountId) {
    throw new PermissionDeniedError(`Caller cannot access account ${name} in domain ${domain.uuid}`);
  }
  if (a === undefined) throw new InvalidParameterError(`Unable to find account ${name} in domain ${domain.uuid}`);
  return a.id;
}

/** Whether `memberAccountId` is a member of the project whose own account is `projectAccountId`. */
export function isProjectMember(ctx: StoreContext, memberAccountId: number, projectAccountId: number): boolean {
  return ctx.one(`SELECT 1 FROM project p JOIN project_account pa ON pa.project_id = p.id
    WHERE p.account_id = ? AND pa.account_id = ? AND p.removed IS NULL`, projectAccountId, memberAccountId) !== undefined;
}

/** The account of a project the caller may use (member, or admin over its domain); else as if it did not exist. */
export function projectAccount(ctx: StoreContext, rc: ResolvedCaller | undefined, projectUuid: string): number {
  const p = ctx.one<{ account_id: number; domain_id: number }>('SELECT account_id, domain_id FROM project WHERE uuid = ? AND removed IS NULL', projectUuid);
  if (p === undefined || (rc !== undefined && !canSeeResolved(ctx, rc, p.account_id, p.domain_id))) {
    throw new InvalidParameterError(`Unable to find project by id ${projectUuid}`);
  }
  return p.account_id;
}

/** `projectid=-1`: every resource the caller may list, its projects' included (the UI's dashboard asks so). */
export const ALL_PROJECTS = '-1';

/**
 * The ownership condition for a list over a table whose rows carry `account_id` and `domain_id`.
 */
export function ownershipCondition(ctx: StoreContext, scope: Scope, p: OwnershipParams, alias = 't'): Condition {
  const rc = scope === SYSTEM ? undefined : resolveCaller(ctx, scope);
  if (p.projectid === ALL_PROJECTS) {
    // CloudStack's ListAllIncludingProjectResources: a user's own resources and those of its projects;
    // for others, what they would list without a project.
    if (rc?.role === 'user') {
      return { sql: `(${alias}.account_id = ? OR ${alias}.account_id IN (SELECT p.account_id FROM project p JOIN project_account pa
        ON pa.project_id = p.id WHERE pa.account_id = ? AND p.removed IS NULL))`, args: [rc.accountId, rc.accountId] };
    }
    return ownershipCondition(ctx, scope, { ...p, projectid: undefined }, alias);
  }
  if (p.projectid !== undefined) return { sql: `${alias}.account_id = ?`, args: [projectAccount(ctx, rc, p.projectid)] };
  const domain = p.domainid !== undefined ? visibleDomain(ctx, rc, p.domainid) : undefined;
  if (p.account !== undefined) {
    const dom = domain ?? (rc !== undefined ? { id: rc.domainId, path: rc.domainPath, uuid: '' } : undefined);
    if (dom === undefined) throw new InvalidParameterError('account must be combined with domainid');
    return { sql: `${alias}.account_id = ?`, args: [namedAccount(ctx, rc, p.account, dom)] };
  }
  if (rc?.role === 'user') return { sql: `${alias}.account_id = ?`, args: [rc.accountId] };
  if (domain !== undefined) {
    return p.isrecursive === true ? subtreeCondition(alias, domain.path)
      : { sql: `${alias}.domain_id = ?`, args: [domain.id] };
  }
  if (rc === undefined) return { sql: '', args: [] };
  if (p.listall === true || p.id !== undefined) {
    return rc.role === 'admin' ? { sql: '', args: [] } : subtreeCondition(alias, rc.domainPath);
  }
  return { sql: `${alias}.account_id = ?`, args: [rc.accountId] };
}
