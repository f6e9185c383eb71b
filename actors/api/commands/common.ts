/**
 * What every command module shares: the dependencies handlers get (the data service's typed client and
 * hooks back into the API component), and the small conversions from API parameters to data-service
 * list parameters and from data-service objects to response objects. Handlers never touch the store:
 * they call the data service through `deps.data`, scoped by the caller.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { DOMAIN_LIST_PARAMS } from '../command-table.js';
import { getString } from '../params.js';
import type {
  Caller, CommandResult, HandlerContext, ListResult, ObjectResult, ParamDef, Params, ResponseObject, StreamedListResult,
} from '../types.js';

/** The data service's list parameters, as its own signatures declare them. */
export type DataListParams = NonNullable<Parameters<DataApi['zones']['list']>[1]>;
type ScanWindow = NonNullable<Parameters<DataApi['zones']['scan']>[2]>;
type ScanChunk<T> = { items: T[]; next: ScanWindow['after'] | null; count?: number };

/**
 * Rows per data-service read of a streamed answer (pagesize=-1). Each read is one reply of the data
 * service (within a transport frame) and one piece of the HTTP answer.
 */
export const STREAM_CHUNK_ROWS = 250;
type DataListValue = DataListParams[string];

export interface CommandDeps {
  /** The data service (every read and write goes through it, as the caller). */
  readonly data: DataApi;
  /** Called after a user's API keys change, so cached credentials of the old key are dropped. */
  readonly keysChanged: (userId: string) => void;
  /** Reported by listCapabilities (`cloudstackversion`). */
  readonly cloudStackVersion: string;
  /** default.page.size, reported by listCapabilities (`defaultuipagesize`). */
  readonly maxPageSize: number;
  /** Source of random UUIDs for names the API makes up (e.g. `SimulatedAgent.<uuid>`). */
  readonly newUuid: () => string;
}

/**
 * BaseListDomainResourcesCmd's scope parameters, `projectid` included: a project's members list its
 * resources with it (listParams passes it on whenever it is given).
 */
export const OWNER_LIST_PARAMS: readonly ParamDef[] = DOMAIN_LIST_PARAMS;

/** Owner parameters of create commands: `account` together with `domainid`. */
export function ownerParams(what: string): ParamDef[] {
  return [
    { name: 'account', type: 'string', description: `an optional account for the ${what}. Must be used with domainId.` },
    {
      name: 'domainid', type: 'uuid',
      description: `an optional domainId for the ${what}. If the account parameter is used, domainId must also be used.`,
    },
    { name: 'projectid', type: 'uuid', description: `an optional project for the ${what}; the caller must be a member of it` },
  ];
}

/**
 * Copies the named parameters (present ones only) into data-service list parameters, plus the page
 * window of a paged command (none for pagesize=-1: `listed` then scans). Dates and maps are not list
 * filters of the data service and are skipped.
 */
export function listParams(ctx: HandlerContext<Caller>, names: readonly string[]): DataListParams {
  const out: Record<string, DataListValue> = {};
  for (const name of names) {
    const v = ctx.params[name];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[name] = v as readonly string[];
  }
  const keyword = getString(ctx.params, 'keyword');
  if (keyword !== undefined) out['keyword'] = keyword;
  const projectid = getString(ctx.params, 'projectid');
  if (projectid !== undefined) out['projectid'] = projectid;
  if (ctx.page !== undefined) Object.assign(out, pageOf(ctx.page));
  return out as DataListParams;
}

/** The API's page window as the data service's page/pagesize; none for pagesize=-1 (every row). */
export function pageOf(page: NonNullable<HandlerContext['page']>): { page?: number; pagesize?: number } {
  if (page.pageSize === undefined) return {};
  return { page: Math.floor(page.startIndex / page.pageSize) + 1, pagesize: page.pageSize };
}

/** How a list command reads: one page (`page`), or every match chunk by chunk (`scan`). */
export interface ListReads<T> {
  page(params: DataListParams): Promise<{ count: number; items: T[] }>;
  scan(params: DataListParams, window: ScanWindow): Promise<ScanChunk<T>>;
}

/**
 * A paged command's answer: the requested page, or for pagesize=-1 every match (CloudStack's
 * s_pageSizeUnlimited), streamed: the count and the first chunk are read before the reply starts (so
 * a failure is still an error reply), the rest as the client takes it. `map` shapes each object.
 */
export async function listed<T extends object>(ctx: HandlerContext<Caller>, params: DataListParams, reads: ListReads<T>,
  map: (item: T) => ResponseObject = toResponse): Promise<CommandResult> {
  if (ctx.page === undefined || ctx.page.pageSize !== undefined) {
    const r = await reads.page(params);
    return { kind: 'list', count: r.count, items: r.items.map(map) };
  }
  const first = await reads.scan(params, { count: true, limit: STREAM_CHUNK_ROWS });
  const rest = async function* (): AsyncGenerator<ResponseObject[]> {
    for (let next = first.next; next !== null && next !== undefined;) {
      const c = await reads.scan(params, { after: next, limit: STREAM_CHUNK_ROWS });
      next = c.next;
      yield c.items.map(map);
    }
  };
  const out: StreamedListResult = { kind: 'stream', count: first.count ?? first.items.length, first: first.items.map(map), rest: rest() };
  return out;
}

/**
 * A data-service object as a response object. The data service already answers with CloudStack's field
 * names and plain JSON values (its interfaces simply have no index signature), so this is a view, not
 * a conversion.
 */
export function toResponse<T extends object>(item: T): ResponseObject {
  return item as unknown as ResponseObject;
}

export function listOf<T extends object>(result: { count: number; items: readonly T[] }, objectName?: string): ListResult {
  const base = { kind: 'list' as const, count: result.count, items: result.items.map(toResponse) };
  return objectName === undefined ? base : { ...base, objectName };
}

export function objectOf<T extends object>(item: T, objectName?: string): ObjectResult {
  return objectName === undefined ? { kind: 'object', object: toResponse(item) } : { kind: 'object', objectName, object: toResponse(item) };
}

/** A required parameter the command table has already checked (a missing one never reaches a handler). */
export function required(params: Params, name: string): string {
  const v = getString(params, name);
  if (v === undefined) throw new InvalidParameterError(`missing parameter ${name}`);
  return v;
}

/**
 * Resolves CloudStack's `account` + `domainid` pair (or a `projectid`: the project's own account, for a
 * member) to the account's id, as the caller sees it: the
 * account must be visible to the caller (the data service's scoping decides). `account` without
 * `domainid` means the caller's own domain. Undefined when no account was named.
 */
export async function accountIdFor(deps: CommandDeps, caller: Caller, params: Params): Promise<string | undefined> {
  const projectid = getString(params, 'projectid');
  if (projectid !== undefined) {
    if (getString(params, 'account') !== undefined) throw new InvalidParameterError('account and projectid are mutually exclusive: give one');
    return deps.data.projects.accountOf(caller, projectid);
  }
  const account = getString(params, 'account');
  if (account === undefined) return undefined;
  const domainid = getString(params, 'domainid') ?? caller.domainId;
  // One row: account names are unique in a domain.
  const found = await deps.data.accounts.list(caller, { name: account, domainid, listall: true, page: 1, pagesize: 1 });
  const hit = found.items[0];
  if (hit === undefined) throw new InvalidParameterError(`Unable to find account ${account} in domain ${domainid}`);
  return hit.id;
}
