import { IllegalStateError, InvalidParameterError, ResourceInUseError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { bool, compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM } from '../scoping.js';
import { getGlobal, updateColumns } from './common.js';

export type PoolScope = 'CLUSTER' | 'ZONE' | 'HOST';

/** listStoragePools' `storagepool` object (sizes in bytes). */
export interface StoragePool {
  id: string;
  name: string;
  zoneid: string;
  zonename: string;
  podid?: string;
  podname?: string;
  clusterid?: string;
  clustername?: string;
  ipaddress?: string;
  path?: string;
  type: string;
  scope: PoolScope;
  state: string;
  disksizetotal: number;
  disksizeallocated: number;
  disksizeused: number;
  overprovisionfactor: string;
  tags?: string;
  hypervisor?: string;
  created: string;
}

export interface CreateStoragePoolInput {
  zoneid: string;
  podid?: string;
  clusterid?: string;
  name: string;
  /** e.g. nfs://10.0.0.5/export/primary; host and path are taken from it. */
  url: string;
  scope?: PoolScope;
  hypervisor?: string;
  tags?: string;
  /** Bytes. Default 0 (unknown until the storage reports it). */
  capacitybytes?: number;
  type?: string;
  state?: string;
}

/** listImageStores' `imagestore` object. */
export interface ImageStore {
  id: string;
  name: string;
  url?: string;
  protocol?: string;
  providername: string;
  scope: string;
  zoneid?: string;
  zonename?: string;
  readonly: boolean;
  disksizetotal?: number;
  disksizeused?: number;
}

export interface CreateImageStoreInput {
  name: string;
  url: string;
  zoneid?: string;
  provider?: string;
  capacitybytes?: number;
}

interface PoolRow {
  uuid: string;
  name: string;
  scope: PoolScope;
  type: string;
  state: string;
  ip_address: string | null;
  path: string | null;
  hypervisor: string | null;
  capacity_bytes: number;
  allocated_bytes: number;
  used_bytes: number;
  tags: string | null;
  created: number;
  z_uuid: string;
  z_name: string;
  p_uuid: string | null;
  p_name: string | null;
  c_uuid: string | null;
  c_name: string | null;
  factor: string | null;
}

const POOL_SPEC: ListSpec<PoolRow, StoragePool> = {
  table: 'storage_pool',
  columns: `t.uuid, t.name, t.scope, t.type, t.state, t.ip_address, t.path, t.hypervisor, t.capacity_bytes,
    t.allocated_bytes, t.used_bytes, t.tags, t.created, z.uuid AS z_uuid, z.name AS z_name, p.uuid AS p_uuid,
    p.name AS p_name, c.uuid AS c_uuid, c.name AS c_name,
    (SELECT value FROM configuration WHERE name = 'storage.overprovisioning.factor') AS factor`,
  joins: 'JOIN zone z ON z.id = t.zone_id LEFT JOIN pod p ON p.id = t.pod_id LEFT JOIN cluster c ON c.id = t.cluster_id',
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { zoneid: { ref: 'zone', column: 'zone_id' }, podid: { ref: 'pod', column: 'pod_id' },
    clusterid: { ref: 'cluster', column: 'cluster_id' }, name: { eq: 'name' }, scope: { eq: 'scope' },
    state: { eq: 'state' }, ipaddress: { eq: 'ip_address' }, path: { eq: 'path' } },
  keyword: ['name'],
  map: (r) => compact<StoragePool>({
    id: r.uuid, name: r.name, zoneid: r.z_uuid, zonename: r.z_name, podid: r.p_uuid, podname: r.p_name,
    clusterid: r.c_uuid, clustername: r.c_name, ipaddress: r.ip_address, path: r.path, type: r.type, scope: r.scope,
    state: r.state, disksizetotal: r.capacity_bytes, disksizeallocated: r.allocated_bytes,
    disksizeused: r.used_bytes, overprovisionfactor: r.factor ?? '1', tags: r.tags, hypervisor: r.hypervisor,
    created: formatDate(r.created),
  }),
};

interface StoreRow {
  uuid: string;
  name: string;
  url: string | null;
  protocol: string | null;
  provider: string;
  scope: string;
  readonly: number;
  capacity_bytes: number | null;
  used_bytes: number | null;
  z_uuid: string | null;
  z_name: string | null;
}

const IMAGE_STORE_SPEC: ListSpec<StoreRow, ImageStore> = {
  table: 'image_store',
  columns: `t.uuid, t.name, t.url, t.protocol, t.provider, t.scope, t.readonly, t.capacity_bytes, t.used_bytes,
    z.uuid AS z_uuid, z.name AS z_name`,
  joins: 'LEFT JOIN zone z ON z.id = t.zone_id',
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { zoneid: { ref: 'zone', column: 'zone_id' }, name: { eq: 'name' }, provider: { eq: 'provider' },
    protocol: { eq: 'protocol' } },
  keyword: ['name'],
  map: (r) => compact<ImageStore>({
    id: r.uuid, name: r.name, url: r.url, protocol: r.protocol, providername: r.provider, scope: r.scope,
    zoneid: r.z_uuid, zonename: r.z_name, readonly: bool(r.readonly), disksizetotal: r.capacity_bytes,
    disksizeused: r.used_bytes,
  }),
};

/** Host and path of a storage URL such as nfs://10.0.0.5/export/primary (undefined parts when absent). */
export function parseStorageUrl(url: string): { protocol?: string; host?: string; path?: string } {
  const m = /^([a-z0-9+.-]+):\/\/([^/]*)(\/.*)?$/i.exec(url);
  if (m === null) throw new InvalidParameterError(`invalid storage url ${url}: expected scheme://host/path`);
  const out: { protocol?: string; host?: string; path?: string } = { protocol: m[1]!.toLowerCase() };
  if (m[2] !== undefined && m[2] !== '') out.host = m[2];
  if (m[3] !== undefined) out.path = m[3];
  return out;
}

const POOL_TYPES: Record<string, string> = { nfs: 'NetworkFilesystem', file: 'Filesystem', sharedmountpoint: 'SharedMountPoint' };

/** Primary storage pools and secondary (image) stores. */
export class StorageRepository {
  constructor(private readonly ctx: StoreContext) {}

  getPool(uuid: string): StoragePool {
    return getGlobal(this.ctx, POOL_SPEC, 'storage pool', uuid).item;
  }

  listPools(params: ListParams = {}): ListResult<StoragePool> {
    return listResources(this.ctx, POOL_SPEC, SYSTEM, params);
  }

  /** Every match of `listPools`, chunk by chunk (see pagination.ts). */
  scanPools(params: ListParams, window: ScanWindow = {}): ScanChunk<StoragePool> {
    return scanResources(this.ctx, POOL_SPEC, SYSTEM, params, window);
  }

  createPool(input: CreateStoragePoolInput): StoragePool {
    const u = parseStorageUrl(input.url);
    const scope = input.scope ?? (input.clusterid === undefined ? 'ZONE' : 'CLUSTER');
    if (scope === 'CLUSTER' && input.clusterid === undefined) {
      throw new InvalidParameterError('a CLUSTER-scoped storage pool needs clusterid (and podid)');
    }
    return this.ctx.tx(() => {
      const { zoneId, podId, clusterId } = this.ctx.placement(input);
      const uuid = this.ctx.uuid();
      this.ctx.run(`INSERT INTO storage_pool (uuid, name, zone_id, pod_id, cluster_id, scope, type, state, url,
        ip_address, path, hypervisor, capacity_bytes, tags, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, zoneId, podId, clusterId, scope, input.type ?? POOL_TYPES[u.protocol ?? ''] ?? 'NetworkFilesystem',
      input.state ?? 'Up', input.url, u.host ?? null, u.path ?? null, input.hypervisor ?? null,
      input.capacitybytes ?? 0, input.tags ?? null, this.ctx.now());
      return this.getPool(uuid);
    });
  }

  updatePool(uuid: string, patch: { name?: string; tags?: string; capacitybytes?: number; usedbytes?: number;
    state?: string }): StoragePool {
    return this.ctx.tx(() => {
      const cols = updateColumns({ name: patch.name, tags: patch.tags, capacity_bytes: patch.capacitybytes,
        used_bytes: patch.usedbytes, state: patch.state });
      const id = this.ctx.requireId('storage_pool', uuid, 'storage pool');
      if (cols.sql !== '') this.ctx.run(`UPDATE storage_pool SET ${cols.sql} WHERE id = ?`, ...cols.args, id);
      return this.getPool(uuid);
    });
  }

  /**
   * enableStorageMaintenance: the pool goes to Maintenance — no new volume is placed on it and no VM
   * with a volume on it starts — once no VM using it is running. CloudStack stops such VMs itself; here
   * the administrator stops them first (ResourceInUseError names how many are still up).
   */
  enterMaintenance(uuid: string): StoragePool {
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('storage_pool', uuid, 'storage pool');
      const state = this.ctx.one<{ state: string }>('SELECT state FROM storage_pool WHERE id = ?', id)!.state;
      if (state !== 'Up' && state !== 'Disabled') throw new IllegalStateError(`storage pool ${uuid} is ${state}; only an Up or Disabled pool enters maintenance`);
      const busy = this.ctx.one<{ n: number }>(`SELECT count(DISTINCT vm.id) AS n FROM volume v JOIN vm_instance vm ON vm.id = v.vm_id
        WHERE v.pool_id = ? AND v.removed IS NULL AND vm.removed IS NULL AND vm.state NOT IN ('Stopped', 'Destroyed', 'Expunging', 'Error')`, id)!.n;
      if (busy > 0) throw new ResourceInUseError(`storage pool ${uuid} still has volumes of ${busy} VM(s) that are not stopped; stop them first`);
      this.ctx.run("UPDATE storage_pool SET state = 'Maintenance' WHERE id = ?", id);
      return this.getPool(uuid);
    });
  }

  /** cancelStorageMaintenance: a pool in Maintenance is Up again. */
  cancelMaintenance(uuid: string): StoragePool {
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('storage_pool', uuid, 'storage pool');
      const state = this.ctx.one<{ state: string }>('SELECT state FROM storage_pool WHERE id = ?', id)!.state;
      if (state !== 'Maintenance') throw new IllegalStateError(`storage pool ${uuid} is ${state}, not in Maintenance`);
      this.ctx.run("UPDATE storage_pool SET state = 'Up' WHERE id = ?", id);
      return this.getPool(uuid);
    });
  }

  /**
   * deleteImageStore: refused while it is the last image store of a zone that still has templates or
   * snapshots (they live on secondary storage), as CloudStack refuses a store with active backups.
   */
  deleteImageStore(uuid: string): void {
    this.ctx.tx(() => {
      const store = this.ctx.one<{ id: number; zone_id: number | null }>('SELECT id, zone_id FROM image_store WHERE uuid = ? AND removed IS NULL', uuid);
      if (store === undefined) throw new InvalidParameterError(`Unable to find image store with id ${uuid}`);
      if (store.zone_id !== null) {
        const others = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM image_store WHERE zone_id = ? AND removed IS NULL AND id <> ?',
          store.zone_id, store.id)!.n;
        const held = this.ctx.one<{ n: number }>(`SELECT (SELECT count(*) FROM template_zone tz JOIN template t ON t.id = tz.template_id
          WHERE tz.zone_id = ? AND t.removed IS NULL) + (SELECT count(*) FROM snapshot WHERE zone_id = ? AND removed IS NULL) AS n`,
        store.zone_id, store.zone_id)!.n;
        if (others === 0 && held > 0) {
          throw new ResourceInUseError(`Cannot delete image store ${uuid} with active templates backup: it is the last image store of its zone, ` +
            `which still has ${held} template(s) and snapshot(s); add another image store first`);
        }
      }
      this.ctx.run('UPDATE image_store SET removed = ? WHERE id = ?', this.ctx.now(), store.id);
    });
  }

  getImageStore(uuid: string): ImageStore {
    return getGlobal(this.ctx, IMAGE_STORE_SPEC, 'image store', uuid).item;
  }

  listImageStores(params: ListParams = {}): ListResult<ImageStore> {
    return listResources(this.ctx, IMAGE_STORE_SPEC, SYSTEM, params);
  }

  /** Every match of `listImageStores`, chunk by chunk (see pagination.ts). */
  scanImageStores(params: ListParams, window: ScanWindow = {}): ScanChunk<ImageStore> {
    return scanResources(this.ctx, IMAGE_STORE_SPEC, SYSTEM, params, window);
  }

  createImageStore(input: CreateImageStoreInput): ImageStore {
    const u = parseStorageUrl(input.url);
    return this.ctx.tx(() => {
      const zoneId = this.ctx.optionalId('zone', input.zoneid, 'zone');
      const uuid = this.ctx.uuid();
      this.ctx.run(`INSERT INTO image_store (uuid, name, zone_id, url, protocol, provider, scope, capacity_bytes,
        created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid, input.name, zoneId, input.url, u.protocol ?? null,
      input.provider ?? 'NFS', zoneId === null ? 'REGION' : 'ZONE', input.capacitybytes ?? null, this.ctx.now());
      return this.getImageStore(uuid);
    });
  }
}
