/**
 * The fabric admin's commands (root admin): enabling and disabling pods and clusters (zones have
 * updateZone), host tags and allocation state (updateHost), maintenance mode, deleteHost, and addHost
 * for a compute node (`url=cloudstackd://<node-name>`, see hosts.ts). listCapacity (events.ts) reads
 * the allocation columns the planner reserves, so it always reflects real allocations.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { ServiceLocator } from '../../../src/locator.js';
import { FabricAdminProtocol, NODE_URL_SCHEME, type AdmitRequest } from '../../fabric-admin/protocol.js';
import type { Caller as DataCaller } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList, getString } from '../params.js';
import type { Params } from '../types.js';
import { objectOf, required, type CommandDeps } from './common.js';
import { scopeOf } from './orchestration-common.js';
import { allocationState } from './zones.js';

/** The fabric admin as the commands see it. */
export interface FabricAdminClient {
  admit(r: AdmitRequest): Promise<Record<string, unknown>>;
  prepareMaintenance(hostid: string, caller: DataCaller): Promise<{ jobid: string }>;
  cancelMaintenance(hostid: string, caller: DataCaller): Promise<{ jobid: string }>;
  deleteHost(hostid: string, forced: boolean): Promise<{ success: boolean }>;
}

/** Deadline of an ask to the fabric admin, ms (an admission asks the node's agent; a forced delete fences). */
export const DEFAULT_FABRIC_TIMEOUT_MS = 30_000;

export function locatedFabricAdmin(locator: ServiceLocator, timeoutMs = DEFAULT_FABRIC_TIMEOUT_MS): FabricAdminClient {
  const ref = () => locator.ref(FabricAdminProtocol);
  return {
    admit: (r) => ref().ask('admit', r, { timeoutMs }),
    prepareMaintenance: (hostid, caller) => ref().ask('prepareMaintenance', { hostid, caller }, { timeoutMs }),
    cancelMaintenance: (hostid, caller) => ref().ask('cancelMaintenance', { hostid, caller }, { timeoutMs }),
    deleteHost: (hostid, forced) => ref().ask('deleteHost', { hostid, forced }, { timeoutMs }),
  };
}

/** True when addHost's URL names a compute node (`cloudstackd://<node-name>`) rather than a simulator host. */
export function isNodeUrl(url: string): boolean {
  return url.toLowerCase().startsWith(`${NODE_URL_SCHEME}//`);
}

/** addHost for a compute node: admits the discovered node the URL names, where the parameters say. */
export async function addNodeHost(fabric: FabricAdminClient, params: Params): Promise<Record<string, unknown>> {
  const url = required(params, 'url');
  const hostName = decodeURIComponent(url.slice(NODE_URL_SCHEME.length + 2).replace(/\/+$/, ''));
  if (!/^[A-Za-z0-9._:@+-]{1,128}$/.test(hostName)) {
    throw new InvalidParameterError(`host url ${url} does not name a compute node: expected cloudstackd://<node-name>`);
  }
  const r: AdmitRequest = { hostName, zoneid: required(params, 'zoneid'), podid: required(params, 'podid') };
  const clusterid = getString(params, 'clusterid');
  if (clusterid !== undefined) r.clusterid = clusterid;
  const tags = getList(params, 'hosttags');
  if (tags !== undefined) r.hosttags = tags.join(',');
  return fabric.admit(r);
}

const ID = (what: string) => ({ name: 'id', type: 'uuid' as const, required: true, description: `the ID of the ${what}` });

function podAndCluster(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'updatePod', description: 'Updates a Pod.', isAsync: false, access: 'admin', objectName: 'pod',
      params: [ID('Pod'), { name: 'name', type: 'string', description: 'the name of the Pod' },
        { name: 'allocationstate', type: 'string', description: 'Allocation state of this cluster for allocation of new resources' }],
      async handler({ params }) {
        const patch: Parameters<CommandDeps['data']['zones']['updatePod']>[1] = {};
        const name = getString(params, 'name');
        if (name !== undefined) patch.name = name;
        const state = allocationState(params);
        if (state !== undefined) patch.allocationstate = state;
        return objectOf(await deps.data.zones.updatePod(required(params, 'id'), patch));
      },
    }),
    defineCommand({
      name: 'updateCluster', description: 'Updates an existing cluster', isAsync: false, access: 'admin', objectName: 'cluster',
      params: [ID('Cluster'), { name: 'clustername', type: 'string', description: 'the cluster name' },
        { name: 'allocationstate', type: 'string', description: 'Allocation state of this cluster for allocation of new resources' },
        { name: 'managedstate', type: 'string', description: 'whether this cluster is managed by cloudstack' }],
      async handler({ params }) {
        const patch: Parameters<CommandDeps['data']['zones']['updateCluster']>[1] = {};
        const name = getString(params, 'clustername');
        if (name !== undefined) patch.name = name;
        const state = allocationState(params);
        if (state !== undefined) patch.allocationstate = state;
        const managed = getString(params, 'managedstate');
        if (managed !== undefined) patch.managedstate = managed;
        return objectOf(await deps.data.zones.updateCluster(required(params, 'id'), patch));
      },
    }),
  ];
}

/** updateHost's allocationstate: Enable or Disable (CloudStack's ResourceState events). */
function hostAllocation(params: Params): 'Enable' | 'Disable' | undefined {
  const v = getString(params, 'allocationstate');
  if (v === undefined) return undefined;
  if (v.toLowerCase() === 'enable') return 'Enable';
  if (v.toLowerCase() === 'disable') return 'Disable';
  throw new InvalidParameterError(`Invalid allocation state ${v} for a host: use Enable or Disable`);
}

function hostCommands(deps: CommandDeps, fabric: FabricAdminClient): HandledCommand[] {
  return [
    defineCommand({
      name: 'updateHost', description: 'Updates a host.', isAsync: false, access: 'admin', objectName: 'host',
      params: [ID('host to update'), { name: 'hosttags', type: 'list', description: 'list of tags to be added to the host' },
        { name: 'allocationstate', type: 'string', description: 'Change resource state of host, valid values are [Enable, Disable]. Operation may failed if host in states not allowing Enable/Disable' },
        { name: 'name', type: 'string', description: 'the new name of the host' }],
      async handler({ params }) {
        const id = required(params, 'id');
        const patch: Parameters<CommandDeps['data']['hosts']['update']>[1] = {};
        const tags = getList(params, 'hosttags');
        if (tags !== undefined) patch.hosttags = tags.join(',');
        const name = getString(params, 'name');
        if (name !== undefined) patch.name = name;
        let host = await deps.data.hosts.update(id, patch);
        const state = hostAllocation(params);
        if (state !== undefined) host = await deps.data.hosts.resourceTransition(id, state);
        return objectOf(host);
      },
    }),
    defineCommand({
      name: 'deleteHost', description: 'Deletes a host.', isAsync: false, access: 'admin', objectName: 'success',
      params: [ID('host'), { name: 'forced', type: 'boolean', description: 'Force delete the host. All HA enabled vms running on the host will be put to HA; HA disabled ones will be stopped' },
        { name: 'forcedestroylocalstorage', type: 'boolean', description: 'Force destroy local storage on this host. All VMs created on this local storage will be destroyed' }],
      async handler({ params }) {
        await fabric.deleteHost(required(params, 'id'), getBoolean(params, 'forced') ?? false);
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'prepareHostForMaintenance', description: 'Prepares a host for maintenance.', isAsync: true, access: 'admin', objectName: 'host',
      params: [ID('host')],
      handler: async ({ caller, params }) => ({ kind: 'async', jobid: (await fabric.prepareMaintenance(required(params, 'id'), scopeOf(caller))).jobid }),
    }),
    defineCommand({
      name: 'cancelHostMaintenance', description: 'Cancels host maintenance.', isAsync: true, access: 'admin', objectName: 'host',
      params: [ID('host')],
      handler: async ({ caller, params }) => ({ kind: 'async', jobid: (await fabric.cancelMaintenance(required(params, 'id'), scopeOf(caller))).jobid }),
    }),
  ];
}

/** The fabric commands (appended to the command table when a fabric admin is reachable). */
export function fabricCommands(deps: CommandDeps & { readonly fabric: FabricAdminClient }): HandledCommand[] {
  return [...podAndCluster(deps), ...hostCommands(deps, deps.fabric)];
}

