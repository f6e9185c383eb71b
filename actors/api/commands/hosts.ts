/**
 * addHost and listHosts (root admin). addHost records a host of the Simulator hypervisor the way
 * CloudStack's SimulatorDiscoverer does: the URL's host part starts with `sim` (e.g. `http://sim/c0/h0`),
 * optional sizing as `cpuspeed=<MHz>&cpucore=<n>&memory=<bytes>` in the last path segment or the query,
 * a name `SimulatedAgent.<uuid>` and an address inside the pod's range. The host starts in state
 * Connecting: it becomes Up when its compute agent connects, which is the fabric components' business.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getList, getString } from '../params.js';
import type { Params } from '../types.js';
import { listOf, listed, listParams, required, type CommandDeps } from './common.js';
import { allocationState, hypervisorName } from './zones.js';
import { addNodeHost, isNodeUrl, type FabricAdminClient } from './fabric.js';

type CreateHostInput = Parameters<DataApi['hosts']['create']>[0];
type Cluster = Awaited<ReturnType<DataApi['zones']['getCluster']>>;

/** MockAgentManager's defaults for a simulated host: 4 cores of 8000 MHz and 8 GiB. */
export const SIMULATOR_HOST_DEFAULTS = { cpuCores: 4, cpuSpeedMhz: 8000, memoryBytes: 8 * 1024 ** 3 } as const;

export interface SimulatorUrl {
  cpuCores: number;
  cpuSpeedMhz: number;
  memoryBytes: number;
}

function positiveInt(name: string, text: string | null, fallback: number): number {
  if (text === null) return fallback;
  if (!/^\d{1,15}$/.test(text) || Number(text) <= 0) throw new InvalidParameterError(`simulator host url: ${name} must be a positive integer, got ${text}`);
  return Number(text);
}

/** Parses a simulator host URL; InvalidParameterError for anything else. */
export function parseSimulatorUrl(url: string): SimulatorUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidParameterError(`invalid host url ${url}: expected http://sim/<cluster>/<host>`);
  }
  if (u.protocol !== 'http:' || !u.hostname.startsWith('sim')) {
    throw new InvalidParameterError(`host url ${url} is not a simulator url: expected http://sim/<cluster>/<host>`);
  }
  const last = decodeURIComponent(u.pathname.split('/').pop() ?? '');
  const sizing = new URLSearchParams(last.includes('=') ? last : u.search);
  return {
    cpuCores: positiveInt('cpucore', sizing.get('cpucore'), SIMULATOR_HOST_DEFAULTS.cpuCores),
    cpuSpeedMhz: positiveInt('cpuspeed', sizing.get('cpuspeed'), SIMULATOR_HOST_DEFAULTS.cpuSpeedMhz),
    memoryBytes: positiveInt('memory', sizing.get('memory'), SIMULATOR_HOST_DEFAULTS.memoryBytes),
  };
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The first address of the pod's range no host of the pod uses (undefined: no range, or all taken). */
async function freePodAddress(deps: CommandDeps, podid: string, start?: string, end?: string): Promise<string | undefined> {
  const lo = start === undefined ? undefined : ipToInt(start);
  const hi = end === undefined ? lo : ipToInt(end);
  if (lo === undefined || hi === undefined || hi < lo) return undefined;
  // Every host of the pod (its addresses come from the pod's range, so they are as many as the range holds).
  const used = new Set((await deps.data.hosts.all({ podid })).map((h) => h.ipaddress));
  // Concurrent addHost calls may pick the same address; it is informational for simulated hosts.
  for (let n = lo; n <= hi; n++) if (!used.has(intToIp(n))) return intToIp(n);
  return undefined;
}

async function clusterFor(deps: CommandDeps, params: Params, zoneid: string, podid: string, hypervisor: string): Promise<Cluster> {
  const clusterid = getString(params, 'clusterid');
  const clustername = getString(params, 'clustername');
  if (clusterid !== undefined) {
    const c = await deps.data.zones.getCluster(clusterid);
    if (c.podid !== podid) throw new InvalidParameterError(`cluster ${clusterid} is not in pod ${podid}`);
    return c;
  }
  if (clustername === undefined) throw new InvalidParameterError('Unable to add the host: specify clusterid or clustername');
  // One row: cluster names are unique in a pod.
  const existing = (await deps.data.zones.listClusters({ podid, name: clustername, page: 1, pagesize: 1 })).items[0];
  return existing ?? deps.data.zones.createCluster({ zoneid, podid, clustername, hypervisor });
}

type HostDeps = CommandDeps & { readonly fabric?: FabricAdminClient };

async function addHost(deps: HostDeps, params: Params): Promise<Awaited<ReturnType<DataApi['hosts']['create']>>> {
  const zoneid = required(params, 'zoneid');
  const podid = required(params, 'podid');
  const url = required(params, 'url');
  if (isNodeUrl(url)) {
    // A compute node (cloudstackd --role=compute) that has joined: the fabric admin admits it.
    if (deps.fabric === undefined) throw new InvalidParameterError(`Unable to add host ${url}: this cloud has no fabric admin to admit compute nodes`);
    return (await addNodeHost(deps.fabric, params)) as unknown as Awaited<ReturnType<DataApi['hosts']['create']>>;
  }
  const hypervisor = hypervisorName(required(params, 'hypervisor'));
  if (hypervisor !== 'Simulator') {
    throw new InvalidParameterError(`Unable to add a ${hypervisor} host with addHost: only Simulator hosts are added this way; ` +
      'other hosts join as compute nodes (cloudstackd --role=compute)');
  }
  const sizing = parseSimulatorUrl(url);
  const pod = await deps.data.zones.getPod(podid);
  if (pod.zoneid !== zoneid) throw new InvalidParameterError(`pod ${podid} is not in zone ${zoneid}`);
  const cluster = await clusterFor(deps, params, zoneid, podid, hypervisor);
  if (cluster.hypervisortype !== hypervisor) {
    throw new InvalidParameterError(`Can't add host whose hypervisor is: ${hypervisor} into cluster of hypervisor type ${cluster.hypervisortype}`);
  }
  const input: CreateHostInput = {
    zoneid, podid, clusterid: cluster.id, name: `SimulatedAgent.${deps.newUuid()}`, url, hypervisor, version: deps.cloudStackVersion,
    cpunumber: sizing.cpuCores, cpuspeed: sizing.cpuSpeedMhz, memory: sizing.memoryBytes,
  };
  const ip = await freePodAddress(deps, podid, pod.startip, pod.endip);
  if (ip !== undefined) input.ipaddress = ip;
  const tags = getList(params, 'hosttags');
  if (tags !== undefined) input.hosttags = tags.join(',');
  const state = allocationState(params);
  if (state !== undefined) input.resourcestate = state;
  return deps.data.hosts.create(input);
}

export function hostCommands(deps: HostDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'addHost',
      description: 'Adds a new host.',
      isAsync: false,
      access: 'admin',
      objectName: 'host',
      params: [
        { name: 'zoneid', type: 'uuid', required: true, description: 'the Zone ID for the host' },
        { name: 'podid', type: 'uuid', required: true, description: 'the Pod ID for the host' },
        { name: 'url', type: 'string', required: true, description: 'the host URL' },
        { name: 'hypervisor', type: 'string', required: true, description: 'hypervisor type of the host' },
        { name: 'username', type: 'string', description: 'the username for the host; required to be passed for hypervisors other than VMWare' },
        { name: 'password', type: 'string', description: 'the password for the host; required to be passed for hypervisors other than VMWare' },
        { name: 'clusterid', type: 'uuid', description: 'the cluster ID for the host' },
        { name: 'clustername', type: 'string', description: 'the cluster name for the host' },
        { name: 'hosttags', type: 'list', description: 'list of tags to be added to the host' },
        { name: 'allocationstate', type: 'string', description: 'Allocation state of this Host for allocation of new resources' },
      ],
      async handler({ params }) {
        // AddHostCmd answers with a list of the hosts it added (one here).
        return listOf({ count: 1, items: [await addHost(deps, params)] });
      },
    }),
    defineCommand({
      name: 'listHosts',
      description: 'Lists hosts.',
      isAsync: false,
      access: 'admin',
      objectName: 'host',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the id of the host' },
        { name: 'name', type: 'string', description: 'the name of the host' },
        { name: 'zoneid', type: 'uuid', description: 'the Zone ID for the host' },
        { name: 'podid', type: 'uuid', description: 'the Pod ID for the host' },
        { name: 'clusterid', type: 'uuid', description: 'lists hosts existing in particular cluster' },
        { name: 'state', type: 'string', description: 'the state of the host' },
        { name: 'type', type: 'string', description: 'the host type' },
        { name: 'resourcestate', type: 'string', description: 'list hosts by resource state. Resource state represents current state determined by admin of host, value can be one of [Enabled, Disabled, Unmanaged, PrepareForMaintenance, ErrorInMaintenance, Maintenance, Error]' },
        { name: 'hypervisor', type: 'string', description: 'hypervisor type of host: XenServer,KVM,VMware,Hyperv,BareMetal,Simulator' },
      ],
      async handler(ctx) {
        const names = ['id', 'name', 'zoneid', 'podid', 'clusterid', 'state', 'type', 'resourcestate', 'hypervisor'];
        return listed(ctx, listParams(ctx, names), {
          page: (q) => deps.data.hosts.list(q), scan: (q, w) => deps.data.hosts.scan(q, w),
        });
      },
    }),
  ];
}
