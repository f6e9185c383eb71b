import { InvalidParameterError, NotFoundError, PermissionDeniedError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { bool, compact, formatDate, likeContains, parseJson } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, resolveCaller, subtreeRange, type Condition, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, accountOwner, boolInt, getGlobal, ownerFields, type OwnedRow, type OwnerColumns } from './common.js';
import type { ResourceTag, TagRepository } from './tags.js';

/** listOsTypes' `ostype` object. */
export interface OsType {
  id: string;
  description: string;
  oscategoryname: string;
  isuserdefined: boolean;
}

export type TemplateFilter = 'featured' | 'self' | 'selfexecutable' | 'sharedexecutable' | 'executable' | 'community' | 'all';

/** listTemplates' `template` / listIsos' `iso` object: one per (template, zone). */
export interface Template {
  id: string;
  name: string;
  displaytext?: string;
  ispublic: boolean;
  isready: boolean;
  isfeatured: boolean;
  crossZones: boolean;
  passwordenabled: boolean;
  sshkeyenabled: boolean;
  format: string;
  ostypeid?: string;
  ostypename?: string;
  account: string;
  accountid: string;
  domain: string;
  domainid: string;
  zoneid: string;
  zonename: string;
  status?: string;
  size?: number;
  physicalsize?: number;
  templatetype: string;
  hypervisor?: string;
  isextractable: boolean;
  checksum?: string;
  bootable: boolean;
  requireshvm: boolean;
  isdynamicallyscalable: boolean;
  url?: string;
  details?: Record<string, string>;
  created: string;
  tags: ResourceTag[];
}

export interface RegisterTemplateInput {
  name: string;
  displaytext?: string;
  format: string;
  hypervisor?: string;
  ostypeid?: string;
  url?: string;
  /** Zones to register in; default every zone (cross-zone). */
  zoneids?: readonly string[];
  /** Owner; default the caller's account (SYSTEM must name one). */
  accountid?: string;
  ispublic?: boolean;
  isfeatured?: boolean;
  isextractable?: boolean;
  passwordenabled?: boolean;
  sshkeyenabled?: boolean;
  requireshvm?: boolean;
  isdynamicallyscalable?: boolean;
  bootable?: boolean;
  templatetype?: string;
  checksum?: string;
  details?: Record<string, string>;
  /** Bytes (virtual size). */
  size?: number;
  /** Ready at once (built-in templates); otherwise "Download Pending" until storage reports. */
  isready?: boolean;
}

export interface TemplateZoneStatus {
  isready: boolean;
  status?: string;
  physicalsize?: number;
  size?: number;
}

interface TemplateRow extends OwnedRow, OwnerColumns {
  _tid: number;
  uuid: string;
  name: string;
  display_text: string | null;
  format: string;
  template_type: string;
  hypervisor: string | null;
  is_public: number;
  is_featured: number;
  is_extractable: number;
  password_enabled: number;
  sshkey_enabled: number;
  cross_zones: number;
  bootable: number;
  requires_hvm: number;
  is_dynamically_scalable: number;
  size: number | null;
  url: string | null;
  checksum: string | null;
  details: string | null;
  created: number;
  os_uuid: string | null;
  os_name: string | null;
  z_uuid: string;
  z_name: string;
  tz_status: string | null;
  tz_ready: number;
  tz_physical: number | null;
}

/** The templatefilter rules (reference section 3), as a condition on template `t` and zone entry `t`. */
function templateFilter(ctx: StoreContext, scope: Scope, p: ListParams): Condition {
  const filter = String(p.templatefilter ?? p.isofilter ?? 'executable') as TemplateFilter;
  const mine = scope === SYSTEM ? undefined : resolveCaller(ctx, scope);
  const own = mine === undefined ? '0' : `tp.account_id = ${mine.accountId}`;
  const ready = 't.is_ready = 1';
  switch (filter) {
    case 'featured': return { sql: 'tp.is_public = 1 AND tp.is_featured = 1', args: [] };
    case 'self': return { sql: own, args: [] };
    case 'selfexecutable': return { sql: `${own} AND ${ready}`, args: [] };
    case 'sharedexecutable': return { sql: '0', args: [] };
    case 'executable': return { sql: `(tp.is_public = 1 OR ${own}) AND ${ready}`, args: [] };
    case 'community': return { sql: 'tp.is_public = 1 AND tp.is_featured = 0', args: [] };
    case 'all': {
      if (mine === undefined || mine.role === 'admin') return { sql: '', args: [] };
      if (mine.role === 'user') return { sql: `(tp.is_public = 1 OR ${own})`, args: [] };
      const [lo, hi] = subtreeRange(mine.domainPath);
      return { sql: '(tp.is_public = 1 OR tp.domain_id IN (SELECT id FROM domain WHERE path >= ? AND path < ?))',
        args: [lo, hi] };
    }
    default:
      throw new InvalidParameterError(`invalid templatefilter ${filter}: use featured, self, selfexecutable, ` +
        'sharedexecutable, executable, community or all');
  }
}

/**
 * The list runs over template_zone (alias t, one row per template and zone) joined to its template (tp),
 * so that `count` counts zone entries exactly as the page shows them.
 */
function spec(iso: boolean, tags: TagRepository): ListSpec<TemplateRow, Template> {
  return {
    table: 'template_zone',
    columns: `${OWNER_COLUMNS.replace(/\bt\./g, 'tp.')}, tp.id AS _tid, tp.uuid, tp.name, tp.display_text,
      tp.format, tp.template_type, tp.hypervisor, tp.is_public, tp.is_featured, tp.is_extractable,
      tp.password_enabled, tp.sshkey_enabled, tp.cross_zones, tp.bootable, tp.requires_hvm,
      tp.is_dynamically_scalable, tp.size, tp.url, tp.checksum, tp.details, tp.created, os.uuid AS os_uuid,
      os.description AS os_name, z.uuid AS z_uuid, z.name AS z_name, t.status AS tz_status, t.is_ready AS tz_ready,
      t.physical_size AS tz_physical`,
    joins: `JOIN template tp ON tp.id = t.template_id ${OWNER_JOINS.replace(/\bt\./g, 'tp.')}
      LEFT JOIN os_type os ON os.id = tp.os_type_id JOIN zone z ON z.id = t.zone_id`,
    scope: (ctx, scope, p) => {
      const c = templateFilter(ctx, scope, p);
      const base = `t.template_id IN (SELECT tp.id FROM template tp WHERE tp.removed IS NULL AND tp.is_iso = ${iso ? 1 : 0}`;
      return { sql: c.sql === '' ? `${base})` : `${base} AND ${c.sql})`, args: c.args };
    },
    filters: {
      zoneid: { ref: 'zone', column: 'zone_id' },
      name: { custom: (v) => ({ sql: 't.template_id IN (SELECT id FROM template WHERE name = ? COLLATE NOCASE)', args: [v] }) },
      hypervisor: { custom: (v) => ({ sql: 't.template_id IN (SELECT id FROM template WHERE hypervisor = ? COLLATE NOCASE)', args: [v] }) },
      isready: { bool: 'is_ready' },
      templateids: { custom: (v) => ({
        sql: 't.template_id IN (SELECT id FROM template WHERE uuid IN (SELECT value FROM json_each(?)))',
        args: [JSON.stringify(v)] }) },
      templatekeyword: { custom: (v) => {
        const pattern = likeContains(String(v));
        return { sql: "t.template_id IN (SELECT id FROM template WHERE name LIKE ? ESCAPE '\\' OR " +
          "display_text LIKE ? ESCAPE '\\')", args: [pattern, pattern] };
      } },
    },
    order: ['t.template_id', 't.zone_id'],
    map: (r) => compact<Template>({
      id: r.uuid, name: r.name, displaytext: r.display_text, ispublic: bool(r.is_public), isready: bool(r.tz_ready),
      isfeatured: bool(r.is_featured), crossZones: bool(r.cross_zones), passwordenabled: bool(r.password_enabled),
      sshkeyenabled: bool(r.sshkey_enabled), format: r.format, ostypeid: r.os_uuid, ostypename: r.os_name,
      ...ownerFields(r), accountid: r.o_accountid, zoneid: r.z_uuid, zonename: r.z_name, status: r.tz_status,
      size: r.size, physicalsize: r.tz_physical, templatetype: r.template_type, hypervisor: r.hypervisor,
      isextractable: bool(r.is_extractable), checksum: r.checksum, bootable: bool(r.bootable),
      requireshvm: bool(r.requires_hvm), isdynamicallyscalable: bool(r.is_dynamically_scalable), url: r.url,
      details: parseJson<Record<string, string>>(r.details), created: formatDate(r.created), tags: [],
    }),
    attach: (_ctx, rows, items) => tags.attach(iso ? 'ISO' : 'Template', rows.map((r) => r._tid), items),
  };
}

const OS_SPEC: ListSpec<{ uuid: string; description: string; category: string; is_user_defined: number }, OsType> = {
  table: 'os_type',
  columns: 't.uuid, t.description, t.category, t.is_user_defined',
  scope: 'none',
  filters: { description: { eq: 'description' }, oscategoryname: { eq: 'category' } },
  keyword: ['description'],
  map: (r) => ({ id: r.uuid, description: r.description, oscategoryname: r.category,
    isuserdefined: bool(r.is_user_defined) }),
};

/** `id`/`ids` name templates (rows here are zone entries) and `keyword` matches the template's names. */
function templateParams(params: ListParams): ListParams {
  const { id, ids, keyword, ...rest } = params;
  const out: ListParams = { ...rest };
  const tids = [...(id !== undefined ? [id] : []), ...(ids ?? [])];
  if (id !== undefined || ids !== undefined) out.templateids = tids;
  if (keyword !== undefined && keyword !== '') out.templatekeyword = keyword;
  return out;
}

export class TemplateRepository {
  private readonly templates: ListSpec<TemplateRow, Template>;
  private readonly isos: ListSpec<TemplateRow, Template>;

  constructor(private readonly ctx: StoreContext, tags: TagRepository) {
    this.templates = spec(false, tags);
    this.isos = spec(true, tags);
  }

  /** One template (or ISO) as seen in a zone (default: its first zone entry). NotFoundError if not visible. */
  get(scope: Scope, uuid: string, zoneUuid?: string): Template {
    const where: ListParams = { id: uuid, zoneid: zoneUuid, pagesize: 1 };
    const item = this.list(scope, { ...where, templatefilter: 'all' }).items[0]
      ?? this.listIsos(scope, { ...where, isofilter: 'all' }).items[0];
    if (item === undefined) throw new NotFoundError(`Unable to find template with id ${uuid}`);
    return item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Template> {
    return listResources(this.ctx, this.templates, scope, templateParams(params));
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Template> {
    return scanResources(this.ctx, this.templates, scope, templateParams(params), window);
  }

  listIsos(scope: Scope, params: ListParams = {}): ListResult<Template> {
    return listResources(this.ctx, this.isos, scope, templateParams(params));
  }

  /** Every match of `listIsos`, chunk by chunk (see pagination.ts). */
  scanIsos(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Template> {
    return scanResources(this.ctx, this.isos, scope, templateParams(params), window);
  }

  /** registerTemplate / registerIso: the template and one entry per zone; returns those entries. */
  register(scope: Scope, input: RegisterTemplateInput, iso = false): Template[] {
    return this.ctx.tx(() => {
      const owner = this.owner(scope, input.accountid);
      if (input.isfeatured === true && scope !== SYSTEM && resolveCaller(this.ctx, scope).role !== 'admin') {
        throw new PermissionDeniedError('only the root admin can register a featured template');
      }
      const osId = this.ctx.optionalId('os_type', input.ostypeid, 'os type');
      const zones = input.zoneids === undefined
        // Bounded: the zones of the cloud (a handful); a cross-zone template has one entry per zone.
        ? this.ctx.all<{ id: number }>('SELECT id FROM zone WHERE removed IS NULL ORDER BY id').map((z) => z.id)
        : input.zoneids.map((z) => this.ctx.requireId('zone', z, 'zone'));
      const uuid = this.ctx.uuid();
      const now = this.ctx.now();
      const res = this.ctx.run(`INSERT INTO template (uuid, name, display_text, is_iso, format, template_type,
        hypervisor, os_type_id, account_id, domain_id, is_public, is_featured, is_extractable, password_enabled,
        sshkey_enabled, cross_zones, bootable, requires_hvm, is_dynamically_scalable, size, url, checksum, details,
        created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.displaytext ?? input.name, iso ? 1 : 0, iso ? 'ISO' : input.format,
      input.templatetype ?? 'USER', input.hypervisor ?? null, osId, owner.accountId, owner.domainId,
      boolInt(input.ispublic), boolInt(input.isfeatured), boolInt(input.isextractable),
      boolInt(input.passwordenabled), boolInt(input.sshkeyenabled), input.zoneids === undefined ? 1 : 0,
      boolInt(input.bootable, true), boolInt(input.requireshvm, true), boolInt(input.isdynamicallyscalable),
      input.size ?? null, input.url ?? null, input.checksum ?? null,
      input.details === undefined ? null : JSON.stringify(input.details), now);
      const tid = Number(res.lastInsertRowid);
      for (const z of zones) {
        this.ctx.run(`INSERT INTO template_zone (template_id, zone_id, status, is_ready, download_state,
          physical_size, created) VALUES (?, ?, ?, ?, ?, ?, ?)`, tid, z,
        input.isready === true ? 'Download Complete' : 'Download Pending', boolInt(input.isready),
        input.isready === true ? 'DOWNLOADED' : 'NOT_DOWNLOADED', input.isready === true ? input.size ?? null : null, now);
      }
      return iso ? this.listIsos(SYSTEM, { isofilter: 'all', id: uuid }).items
        : this.list(SYSTEM, { templatefilter: 'all', id: uuid }).items;
    });
  }

  /** Download/copy progress of a template in one zone, as reported by the storage component. */
  setZoneStatus(uuid: string, zoneUuid: string, s: TemplateZoneStatus): Template {
    return this.ctx.tx(() => {
      const tid = this.ctx.requireId('template', uuid, 'template');
      const zid = this.ctx.requireId('zone', zoneUuid, 'zone');
      const res = this.ctx.run(`UPDATE template_zone SET is_ready = ?, status = ?, download_state = ?,
        physical_size = COALESCE(?, physical_size) WHERE template_id = ? AND zone_id = ?`, s.isready ? 1 : 0,
      s.status ?? (s.isready ? 'Download Complete' : 'Download Pending'), s.isready ? 'DOWNLOADED' : 'DOWNLOAD_IN_PROGRESS',
      s.physicalsize ?? null, tid, zid);
      if (res.changes === 0) throw new InvalidParameterError(`template ${uuid} is not registered in zone ${zoneUuid}`);
      if (s.size !== undefined) this.ctx.run('UPDATE template SET size = ? WHERE id = ?', s.size, tid);
      return this.get(SYSTEM, uuid, zoneUuid);
    });
  }

  getOsType(uuid: string): OsType {
    return getGlobal(this.ctx, OS_SPEC, 'os type', uuid, '1').item;
  }

  listOsTypes(params: ListParams = {}): ListResult<OsType> {
    return listResources(this.ctx, OS_SPEC, SYSTEM, params);
  }

  /** Every match of `listOsTypes`, chunk by chunk (see pagination.ts). */
  scanOsTypes(params: ListParams, window: ScanWindow = {}): ScanChunk<OsType> {
    return scanResources(this.ctx, OS_SPEC, SYSTEM, params, window);
  }

  createOsType(description: string, category: string, userDefined = false): OsType {
    return this.ctx.tx(() => {
      const uuid = this.ctx.uuid();
      uniquely(`OS type ${description} already exists`, () => this.ctx.run(
        'INSERT INTO os_type (uuid, description, category, is_user_defined, created) VALUES (?, ?, ?, ?, ?)',
        uuid, description, category, userDefined ? 1 : 0, this.ctx.now()));
      return this.getOsType(uuid);
    });
  }

  private owner(scope: Scope, accountUuid: string | undefined): { accountId: number; domainId: number } {
    if (accountUuid !== undefined) return accountOwner(this.ctx, accountUuid);
    if (scope === SYSTEM) throw new InvalidParameterError('registering a template as SYSTEM needs accountid');
    const rc = resolveCaller(this.ctx, scope);
    return { accountId: rc.accountId, domainId: rc.domainId };
  }
}



