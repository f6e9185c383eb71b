import { InvalidParameterError, NotFoundError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { displayDomainPath } from '../format.js';
import { fetchOne, type ListSpec } from '../list-query.js';
import { SYSTEM, assertVisible, resolveCaller, type Scope } from '../scoping.js';

/** Internal keys every owned row exposes to the repositories (never to callers). */
export interface OwnedRow {
  _id: number;
  _aid: number;
  _did: number;
}

/** Joins and columns giving an owned row's account and domain names. */
export const OWNER_JOINS = 'JOIN account oa ON oa.id = t.account_id JOIN domain od ON od.id = t.domain_id';
export const OWNER_COLUMNS = 't.id AS _id, t.account_id AS _aid, t.domain_id AS _did, oa.name AS o_account, ' +
  'oa.uuid AS o_accountid, od.uuid AS o_domainid, od.name AS o_domain, od.path AS o_domainpath';

export interface OwnerColumns {
  o_account: string;
  o_accountid: string;
  o_domainid: string;
  o_domain: string;
  o_domainpath: string;
}

/** The owner fields of a CloudStack response. */
export function ownerFields(r: OwnerColumns): { account: string; domainid: string; domain: string; domainpath: string } {
  return { account: r.o_account, domainid: r.o_domainid, domain: r.o_domain, domainpath: displayDomainPath(r.o_domainpath) };
}

/** Gets one live owned object by UUID, or NotFoundError when missing or not visible to the caller. */
export function getOwned<Row extends OwnedRow, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, scope: Scope,
  what: string, uuid: string, live = 't.removed IS NULL'): { row: Row; item: Out } {
  const found = fetchOne(ctx, spec, `t.uuid = ? AND ${live}`, uuid);
  assertVisible(ctx, scope, what, uuid,
    found === undefined ? undefined : { account_id: found.row._aid, domain_id: found.row._did });
  return found!;
}

/** Gets one live global object (zone, offering...) by UUID, or NotFoundError. */
export function getGlobal<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, what: string, uuid: string,
  live = 't.removed IS NULL'): { row: Row; item: Out } {
  const found = fetchOne(ctx, spec, `t.uuid = ? AND ${live}`, uuid);
  if (found === undefined) throw new NotFoundError(`Unable to find ${what} with id ${uuid}`);
  return found;
}

/** The owner (internal keys) of an account given by UUID. */
export function accountOwner(ctx: StoreContext, accountUuid: string): { accountId: number; domainId: number } {
  const a = ctx.one<{ id: number; domain_id: number }>(
    'SELECT id, domain_id FROM account WHERE uuid = ? AND removed IS NULL', accountUuid);
  if (a === undefined) throw new NotFoundError(`Unable to find account with id ${accountUuid}`);
  return { accountId: a.id, domainId: a.domain_id };
}

/** Comma-separated tags column to a trimmed list (CloudStack stores tags that way). */
export function tagList(s: string | null | undefined): string | undefined {
  if (s === null || s === undefined || s === '') return undefined;
  return s;
}

/** Builds "SET a = ?, b = ?" from a patch, skipping undefined values; trusted column names only. */
export function updateColumns(patch: Readonly<Record<string, unknown>>): { sql: string; args: unknown[] } {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
  return { sql: entries.map(([k]) => `${k} = ?`).join(', '), args: entries.map(([, v]) => v) };
}

export function boolInt(v: boolean | undefined, dflt = false): number {
  return (v ?? dflt) ? 1 : 0;
}

export function optBoolInt(v: boolean | undefined): number | undefined {
  return v === undefined ? undefined : v ? 1 : 0;
}

/**
 * The owner of a new resource: the named account (which the caller must be able to see), else the
 * caller's own account. SYSTEM has no account of its own and must name one.
 */
export function ownerFor(ctx: StoreContext, scope: Scope, accountUuid: string | undefined, what: string):
  { accountId: number; domainId: number } {
  if (accountUuid !== undefined) {
    const o = accountOwner(ctx, accountUuid);
    assertVisible(ctx, scope, 'account', accountUuid, { account_id: o.accountId, domain_id: o.domainId });
    return o;
  }
  if (scope === SYSTEM) throw new InvalidParameterError(`creating a ${what} as SYSTEM needs accountid`);
  const rc = resolveCaller(ctx, scope);
  return { accountId: rc.accountId, domainId: rc.domainId };
}

/** The acting user's internal key for event attribution (none for SYSTEM). */
export function actingUser(ctx: StoreContext, scope: Scope): number | undefined {
  return scope === SYSTEM ? undefined : ctx.idOf('app_user', scope.userId);
}
