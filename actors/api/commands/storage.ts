/**
 * Primary storage pools and secondary (image) stores (root admin). The URLs are recorded, not mounted:
 * the storage component decides what a pool really is.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList, getNumber, getString } from '../params.js';
import type { Params } from '../types.js';
import { listOf, listed, listParams, objectOf, required, type CommandDeps } from './common.js';
import { doneJobRecord } from './jobs.js';
import { hypervisorName } from './zones.js';

type CreatePoolInput = Parameters<DataApi['storage']['createPool']>[0];
type PoolScope = NonNullable<CreatePoolInput['scope']>;

function poolScope(value: string): PoolScope {
  const v = value.toUpperCase();
  if (v === 'CLUSTER' || v === 'ZONE' || v === 'HOST') return v;
  throw new InvalidParameterError(`Invalid scope ${value} for primary storage; use cluster or zone`);
}

/** Checks that the pod is in the zone and the cluster in the pod (CloudStack refuses mismatches). */
async function checkPlacement(deps: CommandDeps, zoneid: string, podid?: string, clusterid?: string): Promise<void> {
  if (clusterid !== undefined && podid === undefined) throw new InvalidParameterError('Cluster id requires pod id');
  if (podid !== undefined) {
    const pod = await deps.data.zones.getPod(podid);
    if (pod.zoneid !== zoneid) throw new InvalidParameterError(`pod ${podid} is not in zone ${zoneid}`);
  }
  if (clusterid !== undefined) {
    const cluster = await deps.data.zones.getCluster(clusterid);
    if (cluster.podid !== podid) throw new InvalidParameterError(`cluster ${clusterid} is not in pod ${podid}`);
  }
}

async function createPool(deps: CommandDeps, params: Params): Promise<Awaited<ReturnType<DataApi['storage']['createPool']>>> {
  const input: CreatePoolInput = { zoneid: required(params, 'zoneid'), name: required(params, 'name'), url: required(params, 'url') };
  const podid = getString(params, 'podid');
  const clusterid = getString(params, 'clusterid');
  await checkPlacement(deps, input.zoneid, podid, clusterid);
  if (podid !== undefined) input.podid = podid;
  if (clusterid !== undefined) input.clusterid = clusterid;
  const scope = getString(params, 'scope');
  if (scope !== undefined) input.scope = poolScope(scope);
  if (input.scope === 'ZONE' && clusterid !== undefined) throw new InvalidParameterError('a zone-wide storage pool takes no clusterid');
  const hypervisor = getString(params, 'hypervisor');
  if (hypervisor !== undefined) input.hypervisor = hypervisorName(hypervisor);
  const tags = getString(params, 'tags');
  if (tags !== undefined) input.tags = tags;
  const capacity = getNumber(params, 'capacitybytes');
  if (capacity !== undefined) {
    if (capacity < 0) throw new InvalidParameterError('capacitybytes must not be negative');
    input.capacitybytes = capacity;
  }
  return deps.data.storage.createPool(input);
}

const PROVIDERS = ['NFS', 'SMB', 'S3', 'Swift'];

export function storageCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createStoragePool',
      description: 'Creates a storage pool.',
      isAsync: false,
      access: 'admin',
      objectName: 'storagepool',
      params: [
        { name: 'zoneid', type: 'uuid', required: true, description: 'the Zone ID for the storage pool' },
        { name: 'name', type: 'string', required: true, description: 'the name for the storage pool' },
        { name: 'url', type: 'string', required: true, description: 'the URL of the storage pool', length: 2048 },
        { name: 'podid', type: 'uuid', description: 'the Pod ID for the storage pool' },
        { name: 'clusterid', type: 'uuid', description: 'the cluster ID for the storage pool' },
        { name: 'scope', type: 'string', description: 'the scope of the storage: cluster or zone' },
        { name: 'hypervisor', type: 'string', description: 'hypervisor type of the hosts in zone that will be attached to this storage pool. KVM, VMware supported as of now.' },
        { name: 'tags', type: 'string', description: 'the tags for the storage pool' },
        { name: 'capacitybytes', type: 'long', description: 'bytes CloudStack can provision from this storage pool' },
      ],
      async handler({ params }) {
        return objectOf(await createPool(deps, params));
      },
    }),
    defineCommand({
      name: 'updateStoragePool',
      description: 'Updates a storage pool. A disabled pool (enabled=false) takes no new volumes; enabled=true puts it back Up.',
      isAsync: false,
      access: 'admin',
      objectName: 'storagepool',
      params: [
        { name: 'id', type: 'uuid', required: true, description: 'the Id of the storage pool' },
        { name: 'name', type: 'string', description: 'Change the name of the storage pool' },
        { name: 'tags', type: 'list', description: 'comma-separated list of tags for the storage pool' },
        { name: 'capacitybytes', type: 'long', description: 'bytes CloudStack can provision from this storage pool' },
        { name: 'enabled', type: 'boolean', description: 'false to disable the pool for allocation of new volumes, true to enable it back.' },
      ],
      async handler({ params }) {
        const id = required(params, 'id');
        const pool = await deps.data.storage.getPool(id);
        const patch: Parameters<typeof deps.data.storage.updatePool>[1] = {};
        const name = getString(params, 'name');
        if (name !== undefined) patch.name = name;
        const tags = getList(params, 'tags');
        if (tags !== undefined) patch.tags = tags.join(',');
        const capacity = getNumber(params, 'capacitybytes');
        if (capacity !== undefined) {
          if (capacity < 1) throw new InvalidParameterError('capacitybytes must be a positive number of bytes');
          patch.capacitybytes = capacity;
        }
        const enabled = getBoolean(params, 'enabled');
        if (enabled !== undefined) {
          // Only between Up and Disabled: a pool in another state (maintenance...) is not switched by this.
          if (pool.state !== 'Up' && pool.state !== 'Disabled') {
            throw new InvalidParameterError(`storage pool ${pool.name} is ${pool.state}; only an Up or Disabled pool can be enabled or disabled`);
          }
          patch.state = enabled ? 'Up' : 'Disabled';
        }
        return objectOf(await deps.data.storage.updatePool(id, patch));
      },
    }),
    ...([['enableStorageMaintenance', 'Puts storage pool into maintenance state: no new volume is placed on it and no VM with a volume ' +
      'on it starts. The VMs using it must be stopped first.', 'EnableStorageMaintenanceCmd'],
    ['cancelStorageMaintenance', 'Cancels maintenance for primary storage', 'CancelPrimaryStorageMaintenanceCmd']] as const).map(([name, description, cmd]) =>
      defineCommand({
        name, description, isAsync: true, access: 'admin', objectName: 'storagepool',
        params: [{ name: 'id', type: 'uuid', required: true, description: 'Primary storage ID' }],
        async handler(ctx) {
          const id = required(ctx.params, 'id');
          const pool = name === 'enableStorageMaintenance' ? await deps.data.storage.enterMaintenance(id) : await deps.data.storage.cancelMaintenance(id);
          return doneJobRecord(deps.data, ctx, { cmd: `org.apache.cloudstack.api.command.admin.storage.${cmd}`, instancetype: 'StoragePool',
            instanceid: id }, { storagepool: objectOf(pool).object });
        },
      })),
    defineCommand({
      name: 'deleteImageStore', description: 'Deletes an image store or Secondary Storage.', isAsync: false, access: 'admin',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'The image store ID or Secondary Storage ID.' }],
      async handler({ params }) {
        await deps.data.storage.deleteImageStore(required(params, 'id'));
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'listStoragePools',
      description: 'Lists storage pools.',
      isAsync: false,
      access: 'admin',
      objectName: 'storagepool',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the storage pool' },
        { name: 'name', type: 'string', description: 'the name of the storage pool' },
        { name: 'zoneid', type: 'uuid', description: 'the Zone ID for the storage pool' },
        { name: 'podid', type: 'uuid', description: 'the Pod ID for the storage pool' },
        { name: 'clusterid', type: 'uuid', description: 'list storage pools belongig to the specific cluster' },
        { name: 'ipaddress', type: 'string', description: 'the IP address for the storage pool' },
        { name: 'path', type: 'string', description: 'the storage pool path' },
        { name: 'scope', type: 'string', description: 'the scope of the storage pool' },
      ],
      async handler(ctx) {
        const p = listParams(ctx, ['id', 'name', 'zoneid', 'podid', 'clusterid', 'ipaddress', 'path']);
        const scope = getString(ctx.params, 'scope');
        if (scope !== undefined) p['scope'] = poolScope(scope);
        return listed(ctx, p, {
          page: (q) => deps.data.storage.listPools(q), scan: (q, w) => deps.data.storage.scanPools(q, w),
        });
      },
    }),
    defineCommand({
      name: 'addImageStore',
      description: 'Adds backup image store.',
      isAsync: false,
      access: 'admin',
      objectName: 'imagestore',
      params: [
        { name: 'provider', type: 'string', required: true, description: 'the image store provider name' },
        { name: 'name', type: 'string', description: 'the name for the image store' },
        { name: 'url', type: 'string', description: 'the URL for the image store', length: 2048 },
        { name: 'zoneid', type: 'uuid', description: 'the Zone ID for the image store' },
      ],
      async handler({ params }) {
        const provider = PROVIDERS.find((p) => p.toLowerCase() === required(params, 'provider').toLowerCase());
        if (provider === undefined) throw new InvalidParameterError(`Unable to find image store provider ${required(params, 'provider')}; use ${PROVIDERS.join(', ')}`);
        const url = getString(params, 'url');
        if (url === undefined) throw new InvalidParameterError(`the ${provider} image store provider needs url`);
        const input: Parameters<DataApi['storage']['createImageStore']>[0] = { name: getString(params, 'name') ?? url, url, provider };
        const zoneid = getString(params, 'zoneid');
        if (zoneid !== undefined) input.zoneid = zoneid;
        return objectOf(await deps.data.storage.createImageStore(input));
      },
    }),
    defineCommand({
      name: 'listImageStores',
      description: 'Lists image stores.',
      isAsync: false,
      access: 'admin',
      objectName: 'imagestore',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the storage pool' },
        { name: 'name', type: 'string', description: 'the name of the image store' },
        { name: 'zoneid', type: 'uuid', description: 'the Zone ID for the image store' },
        { name: 'protocol', type: 'string', description: 'the image store protocol' },
        { name: 'provider', type: 'string', description: 'the image store provider' },
      ],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['id', 'name', 'zoneid', 'protocol', 'provider']), {
          page: (q) => deps.data.storage.listImageStores(q), scan: (q, w) => deps.data.storage.scanImageStores(q, w),
        });
      },
    }),
  ];
}
