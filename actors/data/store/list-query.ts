import type { StoreContext, UuidTable } from './context.js';
import { likeContains } from './format.js';
import {
  checkCursor, overOnePage, pageWindow, scanLimit, type ListResult, type PageParams, type ScanChunk, type ScanWindow,
} from './pagination.js';
import { ownershipCondition, type Condition, type OwnershipParams, type Scope } from './scoping.js';

/**
 * The one list engine behind every repository: ownership scoping, the common filters, keyword, count
 * across pages and one page of rows, then children (NICs, tags...) attached in batch — a page of 500
 * VMs costs a count, a page query and one query per child collection, never one query per row.
 * Filters apply to the main table (alias `t`) only, so the count never needs the page query's joins.
 */

export type ParamValue = string | number | boolean | readonly string[];

export interface CommonListParams extends OwnershipParams, PageParams {
  keyword?: string | undefined;
  id?: string | undefined;
  ids?: readonly string[] | undefined;
  name?: string | undefined;
  zoneid?: string | undefined;
  podid?: string | undefined;
  clusterid?: string | undefined;
  hostid?: string | undefined;
  state?: string | undefined;
  type?: string | undefined;
  virtualmachineid?: string | undefined;
  networkid?: string | undefined;
}

/** Common parameters plus resource-specific ones (e.g. `templatefilter`, `volumeid`). */
export type ListParams = CommonListParams & { [extra: string]: ParamValue | undefined };

/** How one request parameter filters the main table. */
export type FilterSpec =
  /** The parameter is the UUID of a row of `ref`; `column` holds that row's internal key. */
  | { ref: UuidTable; column: string }
  /**
   * `column` equals the value: text case-insensitively, as MySQL's default collation compares it;
   * `exact` for identifiers (UUIDs, node names), compared as they are so that their indexes serve.
   */
  | { eq: string; exact?: boolean }
  /** `column` is 1/0 for a boolean parameter. */
  | { bool: string }
  /** Anything else; null means "matches nothing". */
  | { custom: (value: ParamValue, ctx: StoreContext) => Condition | null };

export type ScopeRule = 'owned' | 'none' | ((ctx: StoreContext, scope: Scope, params: ListParams) => Condition);

export interface ListSpec<Row, Out> {
  /** Main table, aliased `t`. */
  table: string;
  /** Select list of the page query (may use the joins). Include `t.id AS _id` when children are attached. */
  columns: string;
  joins?: string;
  /** 'owned': rows carry account_id/domain_id and follow ownership scoping; 'none': global objects. */
  scope: ScopeRule;
  /** Static condition, e.g. `t.removed IS NULL`. */
  where?: string;
  filters: Readonly<Record<string, FilterSpec>>;
  /** Columns of `t` matched by `keyword` (substring, case-insensitive for ASCII as SQL LIKE). */
  keyword?: readonly string[];
  /**
   * A trigram FTS5 table over the keyword columns (same column names, rowid = t.id). Keywords of 3+
   * characters without LIKE wildcards are then looked up in it instead of scanning the table.
   */
  search?: string;
  /**
   * The sort key of pages and scans: columns that together identify a row, so that pages and scan
   * chunks are stable. Default `t.id` (creation order, as CloudStack).
   */
  order?: readonly string[];
  map(row: Row): Out;
  attach?(ctx: StoreContext, rows: readonly Row[], items: Out[]): void;
}

interface Where {
  parts: string[];
  args: unknown[];
  empty: boolean;
}

function addCondition(w: Where, c: Condition | null): void {
  if (c === null) {
    w.empty = true;
    return;
  }
  if (c.sql !== '') {
    w.parts.push(c.sql);
    w.args.push(...c.args);
  }
}

function filterCondition(ctx: StoreContext, spec: FilterSpec, value: ParamValue): Condition | null {
  if ('ref' in spec) {
    const id = typeof value === 'string' ? ctx.idOf(spec.ref, value) : undefined;
    return id === undefined ? null : { sql: `t.${spec.column} = ?`, args: [id] };
  }
  // CloudStack's MySQL compares strings with a case-insensitive collation, and clients rely on it
  // (the UI asks for `type=routing`): text filters match regardless of case.
  if ('eq' in spec) {
    return { sql: typeof value === 'string' && spec.exact !== true ? `t.${spec.eq} = ? COLLATE NOCASE` : `t.${spec.eq} = ?`, args: [value] };
  }
  if ('bool' in spec) return { sql: `t.${spec.bool} = ?`, args: [value === true || value === 'true' ? 1 : 0] };
  return spec.custom(value, ctx);
}

function buildWhere<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, scope: Scope, p: ListParams): Where {
  const w: Where = { parts: [], args: [], empty: false };
  if (spec.where !== undefined) w.parts.push(spec.where);
  if (spec.scope === 'owned') addCondition(w, ownershipCondition(ctx, scope, p));
  else if (typeof spec.scope === 'function') addCondition(w, spec.scope(ctx, scope, p));
  if (p.id !== undefined) addCondition(w, { sql: 't.uuid = ?', args: [p.id] });
  if (p.ids !== undefined) {
    if (p.ids.length === 0) w.empty = true;
    else addCondition(w, { sql: 't.uuid IN (SELECT value FROM json_each(?))', args: [JSON.stringify(p.ids)] });
  }
  for (const [name, fs] of Object.entries(spec.filters)) {
    const v = p[name];
    if (v !== undefined) addCondition(w, filterCondition(ctx, fs, v));
  }
  if (p.keyword !== undefined && p.keyword !== '' && spec.keyword !== undefined && spec.keyword.length > 0) {
    // PostgreSQL has no search tables: its pg_trgm indexes serve ILIKE on the columns themselves.
    addCondition(w, keywordCondition(spec.keyword, ctx.dialect === 'sqlite' ? spec.search : undefined, p.keyword));
  }
  return w;
}

/** Shortest keyword the trigram index can answer (shorter ones have no trigram). */
const MIN_INDEXED_KEYWORD = 3;

function keywordCondition(columns: readonly string[], search: string | undefined, keyword: string): Condition {
  // The FTS5 trigram index answers LIKE only without an ESCAPE clause, so keywords holding LIKE
  // wildcards (or too short to have a trigram) take the scanning path with escaping.
  if (search !== undefined && [...keyword].length >= MIN_INDEXED_KEYWORD && !/[%_\\]/.test(keyword)) {
    const pattern = `%${keyword}%`;
    return { sql: 't.id IN (' + columns.map((c) => `SELECT rowid FROM ${search} WHERE ${c} LIKE ?`).join(' UNION ') + ')',
      args: columns.map(() => pattern) };
  }
  const pattern = likeContains(keyword);
  return { sql: '(' + columns.map((c) => `t.${c} LIKE ? ESCAPE '\\'`).join(' OR ') + ')', args: columns.map(() => pattern) };
}

function whereSql(w: Where): string {
  return w.parts.length === 0 ? '' : ' WHERE ' + w.parts.join(' AND ');
}

/**
 * Counts and fetches one page of a resource list. Without page/pagesize, every match must fit the
 * default page: more is refused with an error naming `scan`, never returned cut short.
 */
export function listResources<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, scope: Scope,
  params: ListParams): ListResult<Out> {
  const { limit, offset, implicit } = pageWindow(params);
  const w = buildWhere(ctx, spec, scope, params);
  if (w.empty) return { count: 0, items: [] };
  const where = whereSql(w);
  const count = countOf(ctx, spec, where, w.args);
  if (implicit && count > limit) throw overOnePage(count, limit);
  if (count <= offset) return { count, items: [] };
  // The page is chosen on the main table alone (filters and sort keys are all on `t`), then joined:
  // joining first would build every skipped row too — 15,000 joined rows for page 30 of a VM list:
  // that page of 100,000 VMs took 59 ms on SQLite and 115 ms on PostgreSQL (which also started
  // parallel workers for it), against 4 and 20 ms this way (bench/postgres.ts's world). A subquery
  // with LIMIT is never flattened into the join, in either dialect.
  const order = orderOf(spec).join(', ');
  const byId = order === 't.id';
  // Sorted by key, the page picks keys only and fetches just its own rows: skipping rows then reads an
  // index (a partial one on the live rows' keys serves the filter as well), not the rows themselves.
  // PostgreSQL otherwise visits every skipped row in the table (178 ms to reach the 69,000th of
  // 100,000 VMs on a busy 2-core machine; an index-only scan of the same keys took 26 ms there).
  // Other sort keys take whole rows, as they must be read.
  const page = byId ? `SELECT t.id FROM ${spec.table} t${where} ORDER BY t.id LIMIT ${literalLimit(limit)} OFFSET ?`
    : `SELECT * FROM ${spec.table} t${where} ORDER BY ${order} LIMIT ${literalLimit(limit)} OFFSET ?`;
  const from = byId ? `(${page}) k JOIN ${spec.table} t ON t.id = k.id` : `(${page}) t`;
  const rows = ctx.rows<Row>(`SELECT ${spec.columns} FROM ${from} ${spec.joins ?? ''} ORDER BY ${order}`, ...w.args, offset);
  return { count, items: mapRows(ctx, spec, rows) };
}

function countOf<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, where: string, args: readonly unknown[]): number {
  return (ctx.one<{ n: number }>(`SELECT count(*) AS n FROM ${spec.table} t${where}`, ...args))?.n ?? 0;
}

/**
 * LIMIT is written into the SQL, not bound: SQLite plans a statement again at every run when its
 * LIMIT is a bound parameter, which costs more than the query itself for the lists' many-way joins
 * (0.3 ms against microseconds for a host's VMs). Limits are validated integers, and their few
 * values (page sizes, chunk sizes) keep the statement cache small.
 */
function literalLimit(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`internal: LIMIT ${n} is not a whole number`);
  return String(n);
}

function orderOf<Row, Out>(spec: ListSpec<Row, Out>): readonly string[] {
  return spec.order ?? ['t.id'];
}

/**
 * One chunk of every match, in the list's sort key order, continuing after `window.after` (keyset
 * paging: a row added or removed meanwhile never shifts the others, so nothing is skipped or repeated).
 */
export function scanResources<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, scope: Scope,
  params: ListParams, window: ScanWindow = {}): ScanChunk<Out> {
  const limit = scanLimit(window);
  const keys = orderOf(spec);
  const after = window.after === undefined ? undefined : checkCursor(window.after, keys.length);
  const w = buildWhere(ctx, spec, scope, params);
  const wantCount = window.count === true;
  if (w.empty) return wantCount ? { items: [], next: null, count: 0 } : { items: [], next: null };
  const where = whereSql(w);
  const count = wantCount ? countOf(ctx, spec, where, w.args) : undefined;
  const keyset = after === undefined ? '' : `${where === '' ? ' WHERE ' : ' AND '}(${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})`;
  const keyCols = keys.map((k, i) => `${k} AS _k${i}`).join(', ');
  const rows = ctx.rows<Row & Record<string, string | number>>(`SELECT ${spec.columns}, ${keyCols} FROM ${spec.table} t ` +
    `${spec.joins ?? ''}${where}${keyset} ORDER BY ${keys.join(', ')} LIMIT ${literalLimit(limit + 1)}`, ...w.args, ...(after ?? []));
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const last = rows[rows.length - 1];
  const next = more && last !== undefined ? keys.map((_k, i) => last[`_k${i}`]!) : null;
  const items = mapRows(ctx, spec, rows);
  return count === undefined ? { items, next } : { items, next, count };
}

function mapRows<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, rows: readonly Row[]): Out[] {
  const items = rows.map((r) => spec.map(r));
  if (spec.attach !== undefined && rows.length > 0) spec.attach(ctx, rows, items);
  return items;
}

/** Fetches rows of the spec's shape by an arbitrary condition on `t` (no scoping: callers check). */
export function fetchWhere<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, condition: string,
  ...args: unknown[]): { rows: Row[]; items: Out[] } {
  const rows = ctx.rows<Row>(`SELECT ${spec.columns} FROM ${spec.table} t ${spec.joins ?? ''} WHERE ${condition} ` +
    `ORDER BY ${orderOf(spec).join(', ')}`, ...args);
  return { rows, items: mapRows(ctx, spec, rows) };
}

/**
 * Up to `limit` rows matching `condition` after internal key `after`, in key order (`t.id`): a chunk
 * of a read that must not be held whole. `next` is the key to continue after, null at the end.
 */
export function fetchAfter<Row extends { _id: number }, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, condition: string,
  after: number, limit: number, ...args: unknown[]): { rows: Row[]; items: Out[]; next: number | null } {
  const rows = ctx.rows<Row>(`SELECT ${spec.columns} FROM ${spec.table} t ${spec.joins ?? ''} WHERE ${condition} AND t.id > ? ` +
    `ORDER BY t.id LIMIT ${literalLimit(limit + 1)}`, ...args, after);
  const more = rows.length > limit;
  if (more) rows.length = limit;
  return { rows, items: mapRows(ctx, spec, rows), next: more ? rows[rows.length - 1]!._id : null };
}

/** The first mapped object matching `condition`, with its raw row. */
export function fetchOne<Row, Out>(ctx: StoreContext, spec: ListSpec<Row, Out>, condition: string,
  ...args: unknown[]): { row: Row; item: Out } | undefined {
  const { rows, items } = fetchWhere(ctx, spec, condition, ...args);
  const row = rows[0];
  const item = items[0];
  return row === undefined || item === undefined ? undefined : { row, item };
}

/** Groups child rows by their parent key for batch attachment. */
export function groupBy<T>(rows: readonly T[], key: (r: T) => number): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list === undefined) m.set(k, [r]);
    else list.push(r);
  }
  return m;
}

/** A JSON array of internal keys, bound to `IN (SELECT value FROM json_each(?))` (one cached statement). */
export function idList(ids: readonly number[]): string {
  return JSON.stringify(ids);
}
