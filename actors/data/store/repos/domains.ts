import { InvalidParameterError, PermissionDeniedError, ResourceInUseError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact, displayDomainPath, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, resolveCaller, subtreeRange, type Condition, type Scope } from '../scoping.js';
import { getGlobal } from './common.js';
import { NotFoundError } from '../../../../src/errors.js';

/** listDomains' `domain` object. */
export interface Domain {
  id: string;
  name: string;
  level: number;
  parentdomainid?: string;
  parentdomainname?: string;
  haschild: boolean;
  path: string;
  networkdomain?: string;
  state: string;
  created: string;
}

export interface CreateDomainInput {
  name: string;
  /** Default: ROOT. */
  parentdomainid?: string;
  networkdomain?: string;
}

interface DomainRow {
  _id: number;
  _path: string;
  uuid: string;
  name: string;
  level: number;
  network_domain: string | null;
  state: string;
  created: number;
  p_uuid: string | null;
  p_name: string | null;
  haschild: number;
}

/**
 * listDomains scoping: the caller's own domain, or with `listall`/`isrecursive` its whole subtree; a
 * `domainid` must lie inside what the caller may see. Users see their own domain only.
 */
function domainScope(ctx: StoreContext, scope: Scope, p: ListParams): Condition {
  const recursive = p.listall === true || p.isrecursive === true;
  if (scope === SYSTEM) return { sql: '', args: [] };
  const rc = resolveCaller(ctx, scope);
  if (p.id !== undefined && p.domainid === undefined) {
    if (rc.role === 'admin') return { sql: '', args: [] };
    if (rc.role === 'user') return { sql: 't.id = ?', args: [rc.domainId] };
  }
  let base = rc.domainPath;
  if (p.domainid !== undefined) {
    const d = ctx.one<{ path: string }>('SELECT path FROM domain WHERE uuid = ? AND removed IS NULL', p.domainid);
    const reachable = d !== undefined && (rc.role === 'user' ? d.path === rc.domainPath : d.path.startsWith(rc.domainPath));
    if (!reachable) {
      if (rc.role === 'admin') throw new InvalidParameterError(`Unable to find domain by id ${p.domainid}`);
      throw new PermissionDeniedError(`Caller cannot access domain ${p.domainid}`);
    }
    base = d.path;
  }
  if (recursive && rc.role !== 'user') {
    const [lo, hi] = subtreeRange(base);
    return { sql: 't.path >= ? AND t.path < ?', args: [lo, hi] };
  }
  return { sql: 't.path = ?', args: [base] };
}

const SPEC: ListSpec<DomainRow, Domain> = {
  table: 'domain',
  columns: `t.id AS _id, t.path AS _path, t.uuid, t.name, t.level, t.network_domain, t.state, t.created,
    p.uuid AS p_uuid, p.name AS p_name,
    EXISTS (SELECT 1 FROM domain c WHERE c.parent_id = t.id AND c.removed IS NULL) AS haschild`,
  joins: 'LEFT JOIN domain p ON p.id = t.parent_id',
  scope: domainScope,
  where: 't.removed IS NULL',
  filters: {
    name: { eq: 'name' }, level: { eq: 'level' },
    // listDomainChildren: the direct children of a domain, or (isrecursive) every domain below it.
    parentdomainid: { ref: 'domain', column: 'parent_id' },
    belowdomainid: {
      custom: (value, ctx) => {
        const d = typeof value === 'string' ? ctx.one<{ path: string }>('SELECT path FROM domain WHERE uuid = ? AND removed IS NULL', value) : undefined;
        if (d === undefined) return null;
        const [lo, hi] = subtreeRange(d.path);
        return { sql: 't.path > ? AND t.path < ?', args: [lo, hi] };
      },
    },
  },
  keyword: ['name'],
  map: (r) => compact<Domain>({
    id: r.uuid, name: r.name, level: r.level, parentdomainid: r.p_uuid, parentdomainname: r.p_name,
    haschild: r.haschild === 1, path: displayDomainPath(r._path), networkdomain: r.network_domain, state: r.state,
    created: formatDate(r.created),
  }),
};

export class DomainRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(scope: Scope, uuid: string): Domain {
    const found = getGlobal(this.ctx, SPEC, 'domain', uuid);
    if (scope !== SYSTEM) {
      const rc = resolveCaller(this.ctx, scope);
      const ok = rc.role === 'admin' || (rc.role === 'domainadmin' ? found.row._path.startsWith(rc.domainPath)
        : found.row._id === rc.domainId);
      if (!ok) throw new NotFoundError(`Unable to find domain with id ${uuid}`);
    }
    return found.item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Domain> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Domain> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  /** The ROOT domain. */
  root(): Domain {
    return getGlobal(this.ctx, SPEC, 'domain', this.rootUuid()).item;
  }

  rootUuid(): string {
    const r = this.ctx.one<{ uuid: string }>("SELECT uuid FROM domain WHERE path = '/' AND removed IS NULL");
    if (r === undefined) throw new NotFoundError('the ROOT domain is missing: the store was not bootstrapped');
    return r.uuid;
  }

  /** Finds a domain by its displayed path ('ROOT/D1') or internal path ('/D1/'). */
  findByPath(path: string): Domain | undefined {
    const internal = path === 'ROOT' || path === '/' || path === 'ROOT/' ? '/'
      : '/' + path.replace(/^ROOT\/?/, '').replace(/^\/+|\/+$/g, '') + '/';
    const r = this.ctx.one<{ uuid: string }>('SELECT uuid FROM domain WHERE path = ? AND removed IS NULL', internal);
    return r === undefined ? undefined : getGlobal(this.ctx, SPEC, 'domain', r.uuid).item;
  }

  /** createDomain: a child of `parentdomainid` (default ROOT), unique among its siblings. */
  /**
   * updateDomain: a new name (the paths of the domain and its whole subtree follow) and/or network
   * domain. ROOT keeps its name; a domain admin may change only domains below their own.
   */
  update(scope: Scope, uuid: string, patch: { name?: string; networkdomain?: string }): Domain {
    return this.ctx.tx(() => {
      const d = this.ctx.one<{ id: number; path: string; parent_id: number | null; name: string }>(
        'SELECT id, path, parent_id, name FROM domain WHERE uuid = ? AND removed IS NULL', uuid);
      if (d === undefined) throw new InvalidParameterError(`Unable to find domain with id ${uuid}`);
      if (scope !== SYSTEM) {
        const rc = resolveCaller(this.ctx, scope);
        if (rc.role === 'user' || !d.path.startsWith(rc.domainPath)) throw new InvalidParameterError(`Unable to find domain with id ${uuid}`);
        if (rc.role !== 'admin' && d.path === rc.domainPath) throw new PermissionDeniedError('a domain admin cannot update their own domain');
      }
      if (patch.networkdomain !== undefined) {
        this.ctx.run('UPDATE domain SET network_domain = ? WHERE id = ?', patch.networkdomain === '' ? null : patch.networkdomain, d.id);
      }
      if (patch.name !== undefined && patch.name !== d.name) {
        if (d.parent_id === null) throw new InvalidParameterError('the ROOT domain cannot be renamed');
        if (patch.name.includes('/') || patch.name.trim() === '') {
          throw new InvalidParameterError(`invalid domain name "${patch.name}": it must be non-empty and contain no "/"`);
        }
        const parentPath = d.path.slice(0, d.path.length - d.name.length - 1);
        const newPath = `${parentPath}${patch.name}/`;
        const [lo, hi] = subtreeRange(d.path);
        uniquely(`Domain with name ${patch.name} already exists in the parent domain`, () => {
          this.ctx.run('UPDATE domain SET name = ? WHERE id = ?', patch.name, d.id);
          this.ctx.run(`UPDATE domain SET path = ? || substr(path, ?) WHERE path >= ? AND path < ? AND removed IS NULL`,
            newPath, d.path.length + 1, lo, hi);
        });
      }
      return this.get(SYSTEM, uuid);
    });
  }

  /**
   * deleteDomain of an empty domain: one with no sub-domain, account or offering restricted to it left
   * (CloudStack's cleanup=false; nothing is removed on the domain's behalf here). Not ROOT, and not the
   * caller's own domain.
   */
  delete(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const d = this.ctx.one<{ id: number; path: string; parent_id: number | null; name: string }>(
        'SELECT id, path, parent_id, name FROM domain WHERE uuid = ? AND removed IS NULL', uuid);
      if (d === undefined) throw new InvalidParameterError(`Unable to find domain with id ${uuid}`);
      if (d.parent_id === null) throw new PermissionDeniedError('the ROOT domain cannot be deleted');
      if (scope !== SYSTEM) {
        const rc = resolveCaller(this.ctx, scope);
        if (rc.role === 'user' || !d.path.startsWith(rc.domainPath)) throw new InvalidParameterError(`Unable to find domain with id ${uuid}`);
        if (d.path === rc.domainPath) throw new PermissionDeniedError('a domain admin cannot delete their own domain');
      }
      const count = (table: string, column: string): number =>
        this.ctx.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ? AND removed IS NULL`, d.id)!.n;
      const children = count('domain', 'parent_id');
      const accounts = count('account', 'domain_id');
      const offerings = count('service_offering', 'domain_id') + count('disk_offering', 'domain_id');
      if (children + accounts + offerings > 0) {
        throw new ResourceInUseError(`Failed to delete domain ${d.name}: it still has ${children} sub-domain(s), ${accounts} account(s) and ` +
          `${offerings} offering(s) restricted to it; delete them first`);
      }
      this.ctx.run('UPDATE domain SET removed = ?, state = ? WHERE id = ?', this.ctx.now(), 'Inactive', d.id);
    });
  }

  create(scope: Scope, input: CreateDomainInput): Domain {
    if (input.name.includes('/') || input.name.trim() === '') {
      throw new InvalidParameterError(`invalid domain name "${input.name}": it must be non-empty and contain no "/"`);
    }
    return this.ctx.tx(() => {
      const parentUuid = input.parentdomainid ?? this.rootUuid();
      const parent = this.ctx.one<{ id: number; path: string; level: number }>(
        'SELECT id, path, level FROM domain WHERE uuid = ? AND removed IS NULL', parentUuid);
      if (parent === undefined) throw new InvalidParameterError(`Unable to find parent domain with id ${parentUuid}`);
      if (scope !== SYSTEM) {
        const rc = resolveCaller(this.ctx, scope);
        if (rc.role === 'user' || !parent.path.startsWith(rc.domainPath)) {
          throw new PermissionDeniedError(`Caller cannot create a domain under ${parentUuid}`);
        }
      }
      const uuid = this.ctx.uuid();
      uniquely(`Domain with name ${input.name} already exists for the parent id ${parentUuid}`, () =>
        this.ctx.run(`INSERT INTO domain (uuid, name, parent_id, path, level, network_domain, created)
          VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid, input.name, parent.id, `${parent.path}${input.name}/`,
        parent.level + 1, input.networkdomain ?? null, this.ctx.now()));
      return this.get(SYSTEM, uuid);
    });
  }
}
