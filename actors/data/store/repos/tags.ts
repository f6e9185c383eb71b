import { InvalidParameterError, PermissionDeniedError } from '../../../../src/errors.js';
import type { StoreContext, UuidTable } from '../context.js';
import { compact } from '../format.js';
import { groupBy, idList, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, resolveCaller, type Scope } from '../scoping.js';

/** A `tags[]` entry / listTags' `tag` object. */
export interface ResourceTag {
  key: string;
  value: string;
  resourcetype: string;
  resourceid: string;
  account?: string;
  domainid?: string;
  domain?: string;
  customer?: string;
}

/** CloudStack resource type names (ResourceObjectType) and the table each lives in. */
export const TAGGABLE: Readonly<Record<string, UuidTable>> = {
  UserVm: 'vm_instance',
  Volume: 'volume',
  Snapshot: 'snapshot',
  Network: 'network',
  Template: 'template',
  ISO: 'template',
  PublicIpAddress: 'ip_address',
  FirewallRule: 'network_rule',
  PortForwardingRule: 'network_rule',
  LoadBalancer: 'network_rule',
  SnapshotPolicy: 'snapshot_policy',
  VMSnapshot: 'vm_snapshot',
  Project: 'project',
  Nic: 'nic',
  Zone: 'zone',
  ServiceOffering: 'service_offering',
  DiskOffering: 'disk_offering',
  NetworkOffering: 'network_offering',
  Account: 'account',
  Domain: 'domain',
  User: 'app_user',
  Storage: 'storage_pool',
};

/**
 * How to find the owner (account, domain) of a resource of each table: owned tables carry the
 * columns; the others derive them, and global objects (zones, offerings, pools) have none — only a
 * root admin may tag those, as CloudStack checks access on the resource.
 */
const OWNER_SQL: Partial<Record<UuidTable, string>> = {
  nic: 'SELECT n.id, v.account_id, v.domain_id FROM nic n JOIN vm_instance v ON v.id = n.vm_id WHERE n.uuid = ?',
  account: 'SELECT id, id AS account_id, domain_id FROM account WHERE uuid = ?',
  domain: 'SELECT id, NULL AS account_id, id AS domain_id FROM domain WHERE uuid = ?',
  app_user: 'SELECT u.id, u.account_id, a.domain_id FROM app_user u JOIN account a ON a.id = u.account_id WHERE u.uuid = ?',
  zone: 'SELECT id, NULL AS account_id, NULL AS domain_id FROM zone WHERE uuid = ?',
  service_offering: 'SELECT id, NULL AS account_id, NULL AS domain_id FROM service_offering WHERE uuid = ?',
  disk_offering: 'SELECT id, NULL AS account_id, NULL AS domain_id FROM disk_offering WHERE uuid = ?',
  network_offering: 'SELECT id, NULL AS account_id, NULL AS domain_id FROM network_offering WHERE uuid = ?',
  storage_pool: 'SELECT id, NULL AS account_id, NULL AS domain_id FROM storage_pool WHERE uuid = ?',
};

/** The canonical ResourceObjectType for a name in any case (CloudStack matches resourcetype case-insensitively). */
export function canonicalResourceType(name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(TAGGABLE).find((k) => k.toLowerCase() === lower);
}

export interface TagInput {
  key: string;
  value: string;
}

interface TagRow {
  resource_id: number;
  key: string;
  value: string;
  resource_type: string;
  resource_uuid: string;
  customer: string | null;
  a_name: string | null;
  d_uuid: string | null;
  d_name: string | null;
  _aid: number | null;
  _did: number | null;
}

const COLUMNS = `t.resource_id, t.key, t.value, t.resource_type, t.resource_uuid, t.customer, a.name AS a_name,
  d.uuid AS d_uuid, d.name AS d_name, t.account_id AS _aid, t.domain_id AS _did`;
const JOINS = 'LEFT JOIN account a ON a.id = t.account_id LEFT JOIN domain d ON d.id = t.domain_id';

function mapTag(r: TagRow): ResourceTag {
  return compact<ResourceTag>({ key: r.key, value: r.value, resourcetype: r.resource_type,
    resourceid: r.resource_uuid, account: r.a_name, domainid: r.d_uuid, domain: r.d_name, customer: r.customer });
}

const SPEC: ListSpec<TagRow, ResourceTag> = {
  table: 'resource_tag',
  columns: COLUMNS,
  joins: JOINS,
  scope: 'owned',
  filters: { resourcetype: { eq: 'resource_type' }, resourceid: { eq: 'resource_uuid', exact: true }, key: { eq: 'key' },
    value: { eq: 'value' }, customer: { eq: 'customer' } },
  keyword: ['key', 'value'],
  map: mapTag,
};

export class TagRepository {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Fills `tags` of a page of objects (one query for the whole page).
   * @internal Takes internal keys: for the store's own transactions only, never for the data protocol.
   */
  attach(resourceType: string, ids: readonly number[], items: { tags: ResourceTag[] }[]): void {
    // Bounded by the page or scan chunk being attached to (ids), times the tags of each.
    const rows = this.ctx.all<TagRow>(`SELECT ${COLUMNS} FROM resource_tag t ${JOINS} WHERE t.resource_type = ?
      AND t.resource_id IN (SELECT value FROM json_each(?)) ORDER BY t.id`, resourceType, idList(ids));
    if (rows.length === 0) return;
    const byId = groupBy(rows, (r) => r.resource_id);
    ids.forEach((id, i) => {
      const item = items[i];
      if (item !== undefined) item.tags = (byId.get(id) ?? []).map(mapTag);
    });
  }

  list(scope: Scope, params: ListParams = {}): ListResult<ResourceTag> {
    const type = params.resourcetype;
    if (typeof type === 'string') {
      const canonical = canonicalResourceType(type);
      if (canonical === undefined) return { count: 0, items: [] };
      return listResources(this.ctx, SPEC, scope, { ...params, resourcetype: canonical });
    }
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<ResourceTag> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  /** createTags: each tag on each resource; the resources must be visible to the caller. */
  create(scope: Scope, type: string, resourceUuids: readonly string[], tags: readonly TagInput[]): void {
    const resourceType = this.canonical(type);
    const table = this.table(resourceType);
    this.ctx.tx(() => {
      for (const uuid of resourceUuids) {
        const owner = this.owner(scope, table, resourceType, uuid);
        for (const t of tags) {
          if (t.key === '') throw new InvalidParameterError('a tag key cannot be empty');
          this.ctx.run(`INSERT INTO resource_tag (uuid, key, value, resource_type, resource_id, resource_uuid,
            account_id, domain_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (resource_type, resource_id, key) DO UPDATE SET value = excluded.value`,
          this.ctx.uuid(), t.key, t.value, resourceType, owner.id, uuid, owner.account_id, owner.domain_id,
          this.ctx.now());
        }
      }
    });
  }

  /** deleteTags: the named keys (all tags when `keys` is omitted) of each resource. */
  delete(scope: Scope, type: string, resourceUuids: readonly string[], keys?: readonly string[]): void {
    const resourceType = this.canonical(type);
    const table = this.table(resourceType);
    this.ctx.tx(() => {
      for (const uuid of resourceUuids) {
        const owner = this.owner(scope, table, resourceType, uuid);
        if (keys === undefined) {
          this.ctx.run('DELETE FROM resource_tag WHERE resource_type = ? AND resource_id = ?', resourceType, owner.id);
        } else {
          this.ctx.run(`DELETE FROM resource_tag WHERE resource_type = ? AND resource_id = ? AND key IN
            (SELECT value FROM json_each(?))`, resourceType, owner.id, JSON.stringify(keys));
        }
      }
    });
  }

  /** Removes every tag of a resource (when it is expunged). Runs in the caller's transaction. */
  purge(resourceType: string, id: number): void {
    this.ctx.run('DELETE FROM resource_tag WHERE resource_type = ? AND resource_id = ?', resourceType, id);
  }

  private canonical(type: string): string {
    return canonicalResourceType(type) ?? type;
  }

  private table(resourceType: string): UuidTable {
    const table = TAGGABLE[resourceType];
    if (table === undefined) {
      throw new InvalidParameterError(`resource type ${resourceType} cannot be tagged; use one of ` +
        Object.keys(TAGGABLE).join(', '));
    }
    return table;
  }

  private owner(scope: Scope, table: UuidTable, type: string, uuid: string):
    { id: number; account_id: number | null; domain_id: number | null } {
    const row = this.ctx.one<{ id: number; account_id: number | null; domain_id: number | null }>(
      OWNER_SQL[table] ?? `SELECT id, account_id, domain_id FROM ${table} WHERE uuid = ?`, uuid);
    if (row !== undefined && row.account_id === null && row.domain_id === null && scope !== SYSTEM
      && resolveCaller(this.ctx, scope).role !== 'admin') {
      throw new PermissionDeniedError(`Account ${scope.accountId} does not have permission to tag ${type} ${uuid}`);
    }
    assertVisible(this.ctx, scope, type, uuid, row);
    return row!;
  }
}
