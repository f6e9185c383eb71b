import { IllegalStateError, InsufficientCapacityError, ResourceUnavailableError } from '../../src/errors.js';
import type { RequestOf, ReplyOf } from '../../src/protocol.js';
import { SYSTEM } from './caller.js';
import type { DataProtocol } from './protocol.js';
import type { DataStore } from './store/index.js';

type P = typeof DataProtocol;
type Op<K extends 'startContext' | 'reserveHostForStart' | 'beginVolumeCreate' | 'completeVolumeCreate'> =
  (req: RequestOf<P, K>) => ReplyOf<P, K>;

/**
 * The deploy operations (deploy-operations.ts) over the store. Each runs inside one transaction of the
 * data actor and composes the repositories' own operations, so that their checks (visibility, state
 * machines, atomic capacity) are the same as through `call`. The return types are the declared reply
 * records: a repository whose result no longer fits one does not compile here.
 */
export interface DeployHandlers {
  startContext: Op<'startContext'>;
  reserveHostForStart: Op<'reserveHostForStart'>;
  beginVolumeCreate: Op<'beginVolumeCreate'>;
  completeVolumeCreate: Op<'completeVolumeCreate'>;
}

export function deployHandlers(store: DataStore): DeployHandlers {
  return {
    startContext: ({ vmid }) => {
      const vm = store.vms.get(SYSTEM, vmid);
      const offering = store.offerings.getService(SYSTEM, vm.serviceofferingid);
      const view: ReplyOf<P, 'startContext'>['vm'] = {
        id: vm.id, name: vm.name, instancename: vm.instancename, state: vm.state, zoneid: vm.zoneid, zonename: vm.zonename,
        serviceofferingid: vm.serviceofferingid, cpunumber: vm.cpunumber, cpuspeed: vm.cpuspeed, memory: vm.memory,
        nic: vm.nic.map((n) => ({ id: n.id, networkid: n.networkid })),
      };
      if (vm.hypervisor !== undefined) view.hypervisor = vm.hypervisor;
      const out: ReplyOf<P, 'startContext'> = {
        vm: view, volumes: store.orchestration.vmVolumes(vmid), affinity: store.affinityGroups.constraints(vmid),
      };
      if (offering.hosttags !== undefined) out.hosttags = offering.hosttags;
      return out;
    },

    reserveHostForStart: ({ vmid, query, spread }) => {
      store.allocation.releaseHost(vmid);
      const found = store.orchestration.hostCandidates(query);
      const from = Math.min(found.length - 1, Math.floor((spread ?? 0) * found.length));
      for (const h of from <= 0 ? found : [...found.slice(from), ...found.slice(0, from)]) {
        try {
          // A savepoint of its own: a host that turns out full is undone alone and the next one is tried.
          store.transaction(() => store.allocation.reserveHost(vmid, h.hostid));
        } catch (err) {
          if (err instanceof InsufficientCapacityError || err instanceof ResourceUnavailableError) continue;
          throw err;
        }
        return { host: h.clusterid === undefined ? { hostid: h.hostid, hostname: h.name } : { hostid: h.hostid, hostname: h.name, clusterid: h.clusterid } };
      }
      return {};
    },

    beginVolumeCreate: ({ volumeid, clusterid, poolCandidates }) => {
      const vol = store.volumes.get(SYSTEM, volumeid);
      if (vol.state !== 'Ready' && vol.state !== 'Allocated') return vol;
      if (vol.storageid !== undefined) checkReach(store, vol.name, vol.storageid, clusterid);
      if (vol.state === 'Ready') return vol;
      if (vol.storageid === undefined) placeVolume(store, vol, clusterid, poolCandidates);
      return store.volumes.transition(SYSTEM, volumeid, 'CreateRequested', { expect: 'Allocated' });
    },

    completeVolumeCreate: ({ volumeid, path, format, templateid }) => {
      const vol = store.volumes.get(SYSTEM, volumeid);
      if (vol.state !== 'Creating') throw new IllegalStateError(`volume ${vol.name} is ${vol.state}, not Creating; its creation cannot complete`);
      let f = format;
      if (templateid !== undefined) {
        if (vol.storageid === undefined) throw new IllegalStateError(`volume ${vol.name} is on no pool; place it before completing its creation`);
        store.orchestration.templateOnPool(templateid, vol.storageid);
        f ??= store.templates.get(SYSTEM, templateid).format;
      }
      return store.volumes.transition(SYSTEM, volumeid, 'OperationSucceeded', { expect: 'Creating', path, format: f ?? 'QCOW2' });
    },
  };
}

function placeVolume(store: DataStore, vol: { id: string; name: string; zoneid: string; size: number }, clusterid: string | undefined, limit: number): void {
  const q: { zoneid: string; size: number; limit: number; clusterid?: string } = { zoneid: vol.zoneid, size: vol.size, limit };
  if (clusterid !== undefined) q.clusterid = clusterid;
  for (const pool of store.allocation.poolsWithCapacity(q)) {
    try {
      store.transaction(() => store.allocation.reservePool(vol.id, pool.poolid));
      return;
    } catch (err) {
      if (!(err instanceof InsufficientCapacityError || err instanceof ResourceUnavailableError)) throw err;
    }
  }
  throw new InsufficientCapacityError(`Insufficient capacity: no primary storage pool in zone ${vol.zoneid}` +
    `${clusterid === undefined ? '' : ` reachable from cluster ${clusterid}`} has ${vol.size} bytes free for volume ${vol.name}`);
}

/** A volume on a cluster-scoped pool of another cluster cannot be used from `clusterid`. */
function checkReach(store: DataStore, name: string, poolid: string, clusterid: string | undefined): void {
  if (clusterid === undefined) return;
  const pool = store.storage.getPool(poolid);
  if (pool.scope === 'CLUSTER' && pool.clusterid !== undefined && pool.clusterid !== clusterid) {
    throw new ResourceUnavailableError(`volume ${name} is on pool ${pool.name} of cluster ${pool.clusterid}, ` +
      `which hosts of cluster ${clusterid} cannot reach`, { details: { poolid: pool.id, clusterid: pool.clusterid } });
  }
}
