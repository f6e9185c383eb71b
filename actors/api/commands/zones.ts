/**
 * The physical hierarchy above the hosts: zones, pods and clusters (root admin, except listZones).
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getString } from '../params.js';
import type { ParamDef, Params } from '../types.js';
import { listOf, listed, listParams, objectOf, required, type CommandDeps } from './common.js';

type CreateZoneInput = Parameters<DataApi['zones']['create']>[0];
type UpdateZoneInput = Parameters<DataApi['zones']['update']>[1];
type AllocationState = 'Enabled' | 'Disabled';

/** HypervisorType names, matched case-insensitively as HypervisorType.getType does. */
const HYPERVISORS = ['KVM', 'XenServer', 'VMware', 'Hyperv', 'BareMetal', 'Simulator', 'Ovm', 'Ovm3', 'LXC', 'External'];

export function hypervisorName(value: string): string {
  const found = HYPERVISORS.find((h) => h.toLowerCase() === value.toLowerCase());
  if (found === undefined) throw new InvalidParameterError(`Unable to resolve Hypervisor type ${value}; use one of ${HYPERVISORS.join(', ')}`);
  return found;
}

export function allocationState(params: Params): AllocationState | undefined {
  const v = getString(params, 'allocationstate');
  if (v === undefined) return undefined;
  if (v.toLowerCase() === 'enabled') return 'Enabled';
  if (v.toLowerCase() === 'disabled') return 'Disabled';
  throw new InvalidParameterError(`Unable to resolve Allocation State '${v}' to a supported state; use Enabled or Disabled`);
}

const ALLOCATION_PARAM: ParamDef = { name: 'allocationstate', type: 'string', description: 'Allocation state of this Zone for allocation of new resources' };

/** Zone fields shared by createZone and updateZone (request name → data-service name). */
const ZONE_STRINGS: readonly [string, keyof UpdateZoneInput][] = [
  ['dns1', 'dns1'], ['dns2', 'dns2'], ['internaldns1', 'internaldns1'], ['internaldns2', 'internaldns2'],
  ['ip6dns1', 'ip6dns1'], ['ip6dns2', 'ip6dns2'], ['guestcidraddress', 'guestcidraddress'], ['domain', 'networkdomain'],
];

const ZONE_PARAMS: readonly ParamDef[] = [
  { name: 'dns2', type: 'string', description: 'the second DNS for the Zone' },
  { name: 'internaldns2', type: 'string', description: 'the second internal DNS for the Zone' },
  { name: 'ip6dns1', type: 'string', description: 'the first DNS for IPv6 network in the Zone' },
  { name: 'ip6dns2', type: 'string', description: 'the second DNS for IPv6 network in the Zone' },
  { name: 'guestcidraddress', type: 'string', description: 'the guest CIDR address for the Zone' },
  { name: 'domain', type: 'string', description: 'Network domain name for the networks in the zone' },
  { name: 'localstorageenabled', type: 'boolean', description: 'true if local storage offering enabled, false otherwise' },
  ALLOCATION_PARAM,
];

function zoneFields(params: Params, into: UpdateZoneInput): void {
  for (const [from, to] of ZONE_STRINGS) {
    const v = getString(params, from);
    if (v !== undefined) (into as Record<string, unknown>)[to] = v;
  }
  const local = getBoolean(params, 'localstorageenabled');
  if (local !== undefined) into.localstorageenabled = local;
  const state = allocationState(params);
  if (state !== undefined) into.allocationstate = state;
}

function networkType(value: string): 'Basic' | 'Advanced' {
  if (value.toLowerCase() === 'basic') return 'Basic';
  if (value.toLowerCase() === 'advanced') return 'Advanced';
  throw new InvalidParameterError(`Invalid network type ${value}; use Basic or Advanced`);
}

function zoneLevel(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createZone',
      description: 'Creates a Zone.',
      isAsync: false,
      access: 'admin',
      objectName: 'zone',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the name of the Zone' },
        { name: 'networktype', type: 'string', required: true, description: 'network type of the zone, can be Basic or Advanced' },
        { name: 'dns1', type: 'string', required: true, description: 'the first DNS for the Zone' },
        { name: 'internaldns1', type: 'string', required: true, description: 'the first internal DNS for the Zone' },
        ...ZONE_PARAMS,
        { name: 'domainid', type: 'uuid', description: 'the ID of the containing domain, null for public zones' },
        { name: 'securitygroupenabled', type: 'boolean', description: 'true if network is security group enabled, false otherwise' },
      ],
      async handler({ params }) {
        const input: CreateZoneInput = { name: required(params, 'name'), networktype: networkType(required(params, 'networktype')) };
        zoneFields(params, input);
        const domainid = getString(params, 'domainid');
        if (domainid !== undefined) input.domainid = domainid;
        const sg = getBoolean(params, 'securitygroupenabled');
        if (sg !== undefined) input.securitygroupenabled = sg;
        return objectOf(await deps.data.zones.create(input));
      },
    }),
    defineCommand({
      name: 'updateZone',
      description: 'Updates a Zone.',
      isAsync: false,
      access: 'admin',
      objectName: 'zone',
      params: [
        { name: 'id', type: 'uuid', required: true, description: 'the ID of the Zone' },
        { name: 'name', type: 'string', description: 'the name of the Zone' },
        { name: 'dns1', type: 'string', description: 'the first DNS for the Zone' },
        { name: 'internaldns1', type: 'string', description: 'the first internal DNS for the Zone' },
        ...ZONE_PARAMS,
      ],
      async handler({ params }) {
        const patch: UpdateZoneInput = {};
        zoneFields(params, patch);
        const name = getString(params, 'name');
        if (name !== undefined) patch.name = name;
        return objectOf(await deps.data.zones.update(required(params, 'id'), patch));
      },
    }),
    defineCommand({
      name: 'listZones',
      description: 'Lists zones',
      isAsync: false,
      access: 'user',
      objectName: 'zone',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the zone' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the zones, mutually exclusive with id', since: '4.19.0' },
        { name: 'name', type: 'string', description: 'the name of the zone' },
        { name: 'networktype', type: 'string', description: 'the network type of the zone that the virtual machine belongs to' },
        { name: 'domainid', type: 'uuid', description: 'the ID of the domain associated with the zone' },
        // No zone is ever dedicated here, so "exclude dedicated zones" (available=true) changes nothing.
        { name: 'available', type: 'boolean', description: 'true if you want to retrieve all available Zones. False if you only want to return the Zones from which you have at least one VM. Default is false.' },
      ],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['id', 'ids', 'name', 'networktype', 'domainid']), {
          page: (q) => deps.data.zones.list(ctx.caller, q), scan: (q, w) => deps.data.zones.scan(ctx.caller, q, w),
        });
      },
    }),
  ];
}

function podLevel(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createPod',
      description: 'Creates a new Pod.',
      isAsync: false,
      access: 'admin',
      objectName: 'pod',
      params: [
        { name: 'zoneid', type: 'uuid', required: true, description: 'the Zone ID in which the Pod will be created' },
        { name: 'name', type: 'string', required: true, description: 'the name of the Pod' },
        { name: 'gateway', type: 'string', description: 'the gateway for the Pod' },
        { name: 'netmask', type: 'string', description: 'the netmask for the Pod' },
        { name: 'startip', type: 'string', description: 'the starting IP address for the Pod' },
        { name: 'endip', type: 'string', description: 'the ending IP address for the Pod' },
        { ...ALLOCATION_PARAM, description: 'Allocation state of this Pod for allocation of new resources' },
      ],
      async handler({ params }) {
        const input: Parameters<DataApi['zones']['createPod']>[0] = { zoneid: required(params, 'zoneid'), name: required(params, 'name') };
        for (const n of ['gateway', 'netmask', 'startip', 'endip'] as const) {
          const v = getString(params, n);
          if (v !== undefined) input[n] = v;
        }
        const state = allocationState(params);
        if (state !== undefined) input.allocationstate = state;
        return objectOf(await deps.data.zones.createPod(input));
      },
    }),
    defineCommand({
      name: 'listPods',
      description: 'Lists all Pods.',
      isAsync: false,
      access: 'admin',
      objectName: 'pod',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'list Pods by ID' },
        { name: 'name', type: 'string', description: 'list Pods by name' },
        { name: 'zoneid', type: 'uuid', description: 'list Pods by Zone ID' },
        { name: 'allocationstate', type: 'string', description: 'list pods by allocation state' },
      ],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['id', 'name', 'zoneid', 'allocationstate']), {
          page: (q) => deps.data.zones.listPods(q), scan: (q, w) => deps.data.zones.scanPods(q, w),
        });
      },
    }),
  ];
}

function clusterType(value: string): 'CloudManaged' | 'ExternalManaged' {
  if (value.toLowerCase() === 'cloudmanaged') return 'CloudManaged';
  if (value.toLowerCase() === 'externalmanaged') return 'ExternalManaged';
  throw new InvalidParameterError(`Unable to resolve cluster type ${value} to a supported type; use CloudManaged or ExternalManaged`);
}

function clusterLevel(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'addCluster',
      description: 'Adds a new cluster',
      isAsync: false,
      access: 'admin',
      objectName: 'cluster',
      params: [
        { name: 'clustername', type: 'string', required: true, description: 'the cluster name' },
        { name: 'zoneid', type: 'uuid', required: true, description: 'the Zone ID for the cluster' },
        { name: 'podid', type: 'uuid', required: true, description: 'the Pod ID for the host' },
        { name: 'hypervisor', type: 'string', required: true, description: 'hypervisor type of the cluster: XenServer,KVM,VMware,Hyperv,BareMetal,Simulator,Ovm3' },
        { name: 'clustertype', type: 'string', required: true, description: 'type of the cluster: CloudManaged, ExternalManaged' },
        { ...ALLOCATION_PARAM, description: 'Allocation state of this cluster for allocation of new resources' },
      ],
      async handler({ params }) {
        const input: Parameters<DataApi['zones']['createCluster']>[0] = {
          clustername: required(params, 'clustername'), zoneid: required(params, 'zoneid'), podid: required(params, 'podid'),
          hypervisor: hypervisorName(required(params, 'hypervisor')), clustertype: clusterType(required(params, 'clustertype')),
        };
        const state = allocationState(params);
        if (state !== undefined) input.allocationstate = state;
        // AddClusterCmd answers with a list of the clusters it added (one here).
        return listOf({ count: 1, items: [await deps.data.zones.createCluster(input)] });
      },
    }),
    defineCommand({
      name: 'listClusters',
      description: 'Lists clusters.',
      isAsync: false,
      access: 'admin',
      objectName: 'cluster',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'lists clusters by the cluster ID' },
        { name: 'name', type: 'string', description: 'lists clusters by the cluster name' },
        { name: 'podid', type: 'uuid', description: 'lists clusters by Pod ID' },
        { name: 'zoneid', type: 'uuid', description: 'lists clusters by Zone ID' },
        { name: 'hypervisor', type: 'string', description: 'lists clusters by hypervisor type' },
        { name: 'clustertype', type: 'string', description: 'lists clusters by cluster type' },
        { name: 'allocationstate', type: 'string', description: 'lists clusters by allocation state' },
      ],
      async handler(ctx) {
        const names = ['id', 'name', 'podid', 'zoneid', 'hypervisor', 'clustertype', 'allocationstate'];
        return listed(ctx, listParams(ctx, names), {
          page: (q) => deps.data.zones.listClusters(q), scan: (q, w) => deps.data.zones.scanClusters(q, w),
        });
      },
    }),
  ];
}

/** Zones, pods and clusters. */
export function zoneCommands(deps: CommandDeps): HandledCommand[] {
  return [...zoneLevel(deps), ...podLevel(deps), ...clusterLevel(deps)];
}
