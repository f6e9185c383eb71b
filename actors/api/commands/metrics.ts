/**
 * The metrics plugin's list commands (listVirtualMachinesMetrics, listZonesMetrics, ...): each answers
 * the rows of its base list command with CloudStack's metric fields added, computed from the data the
 * cloud has — capacity totals, what is allocated, state counts. Figures that need host statistics the
 * simulator does not collect (CPU used, network and disk I/O) are left out rather than made up. The UI
 * builds its Instances, Zones and Hosts pages only when listApis lists these commands.
 */
import { InternalError } from '../../../src/errors.js';
import { PAGING_PARAMS, defineCommand, type HandledCommand } from '../command-table.js';
import { responseFieldsOf } from '../response-fields.js';
import type { Caller, CommandResult, HandlerContext, ResponseFieldDef, ResponseObject } from '../types.js';
import type { CommandDeps } from './common.js';

const GIB = 1024 * 1024 * 1024;

/** Java's `%.2f`. */
const f2 = (n: number): string => n.toFixed(2);

/** CloudStack's alert thresholds (fractions) and their defaults, read from the settings at each call. */
const THRESHOLDS = {
  cpuNotify: ['cluster.cpu.allocated.capacity.notificationthreshold', 0.75],
  cpuDisable: ['cluster.cpu.allocated.capacity.disablethreshold', 0.85],
  memNotify: ['cluster.memory.allocated.capacity.notificationthreshold', 0.75],
  memDisable: ['cluster.memory.allocated.capacity.disablethreshold', 0.85],
  storageUsedNotify: ['cluster.storage.capacity.notificationthreshold', 0.75],
  storageUsedDisable: ['pool.storage.capacity.disablethreshold', 0.85],
  storageAllocNotify: ['cluster.storage.allocated.capacity.notificationthreshold', 0.75],
  storageAllocDisable: ['pool.storage.allocated.capacity.disablethreshold', 0.85],
} as const;
type Thresholds = Record<keyof typeof THRESHOLDS, number>;

async function thresholds(deps: CommandDeps): Promise<Thresholds> {
  const out: Partial<Thresholds> = {};
  for (const [key, [name, fallback]] of Object.entries(THRESHOLDS)) out[key as keyof Thresholds] = await deps.data.config.number(name, fallback);
  return out as Thresholds;
}

type Enrich = (items: readonly ResponseObject[], ctx: HandlerContext<Caller>) => Promise<ResponseObject[]>;

interface MetricsSpec {
  readonly base: string;
  readonly name: string;
  readonly description: string;
  readonly response: readonly ResponseFieldDef[];
  readonly enrich: Enrich;
}

const num = (o: ResponseObject, field: string): number => Number(o[field] ?? 0);

/** Sums of the Routing hosts given: CPU (MHz) and memory (bytes), total and allocated, and how many are Up. */
function hostSums(hosts: readonly ResponseObject[]): { cpu: number; cpuAllocated: number; mem: number; memAllocated: number; up: number } {
  const s = { cpu: 0, cpuAllocated: 0, mem: 0, memAllocated: 0, up: 0 };
  for (const h of hosts) {
    s.cpu += num(h, 'cpunumber') * num(h, 'cpuspeed');
    s.cpuAllocated += num(h, 'cpuallocatedvalue');
    s.mem += num(h, 'memorytotal');
    s.memAllocated += num(h, 'memoryallocated');
    if (h['state'] === 'Up') s.up++;
  }
  return s;
}

/** ZoneMetricsResponse / ClusterMetricsResponse's capacity fields from host sums. */
function capacityFields(s: ReturnType<typeof hostSums>, t: Thresholds): ResponseObject {
  const cpuFraction = s.cpu === 0 ? undefined : s.cpuAllocated / s.cpu;
  const memFraction = s.mem === 0 ? undefined : s.memAllocated / s.mem;
  return {
    cputotal: `${f2(s.cpu / 1000)} Ghz`,
    cpuallocated: cpuFraction === undefined ? undefined : `${f2(cpuFraction * 100)}%`,
    memorytotal: `${f2(s.mem / GIB)} GB`,
    memoryallocated: memFraction === undefined ? undefined : `${f2(memFraction * 100)}%`,
    cpuallocatedthreshold: cpuFraction === undefined ? undefined : cpuFraction > t.cpuNotify,
    cpuallocateddisablethreshold: cpuFraction === undefined ? undefined : cpuFraction > t.cpuDisable,
    memoryallocatedthreshold: memFraction === undefined ? undefined : memFraction > t.memNotify,
    memoryallocateddisablethreshold: memFraction === undefined ? undefined : memFraction > t.memDisable,
  };
}

const CAPACITY_RESPONSE: readonly ResponseFieldDef[] = [
  { name: 'state', description: 'state of the resource (its allocation state)', type: 'string' },
  { name: 'cputotal', description: 'the total cpu capacity in Ghz', type: 'string' },
  { name: 'cpuallocated', description: 'the total cpu allocated in percent', type: 'string' },
  { name: 'memorytotal', description: 'the total memory capacity in GiB', type: 'string' },
  { name: 'memoryallocated', description: 'the total memory allocated in percent', type: 'string' },
  { name: 'cpuallocatedthreshold', description: 'cpu allocated notification threshold exceeded', type: 'boolean' },
  { name: 'cpuallocateddisablethreshold', description: 'cpu allocated disable threshold exceeded', type: 'boolean' },
  { name: 'memoryallocatedthreshold', description: 'memory allocated notification threshold exceeded', type: 'boolean' },
  { name: 'memoryallocateddisablethreshold', description: 'memory allocated disable threshold exceeded', type: 'boolean' },
];

function specs(deps: CommandDeps): MetricsSpec[] {
  const routingHosts = (filter: Record<string, string>) => deps.data.hosts.all({ ...filter, type: 'Routing' }) as unknown as Promise<ResponseObject[]>;
  return [
    {
      base: 'listVirtualMachines', name: 'listVirtualMachinesMetrics', description: 'Lists VM metrics',
      response: [
        { name: 'ipaddress', description: "the VM's primary IP address", type: 'string' },
        { name: 'cputotal', description: 'the total cpu capacity in Ghz', type: 'string' },
        { name: 'memorytotal', description: 'the total memory capacity in GiB', type: 'string' },
      ],
      enrich: async (items) => items.map((vm) => {
        const nics = vm['nic'];
        const first = Array.isArray(nics) ? (nics[0] as ResponseObject | undefined) : undefined;
        return {
          ...vm,
          ipaddress: first?.['ipaddress'],
          cputotal: `${(num(vm, 'cpunumber') * num(vm, 'cpuspeed') / 1000).toFixed(1)} Ghz`,
          memorytotal: `${f2(num(vm, 'memory') / 1024)} GiB`,
        };
      }),
    },
    {
      base: 'listVolumes', name: 'listVolumesMetrics', description: 'Lists volume metrics',
      response: [
        { name: 'sizegb', description: 'disk size in GiB', type: 'string' },
        { name: 'storagetype', description: 'shared or local storage, and the volume type', type: 'string' },
      ],
      enrich: async (items) => items.map((v) => {
        const st = typeof v['storagetype'] === 'string' ? v['storagetype'] : '';
        const type = typeof v['type'] === 'string' ? v['type'] : '';
        return {
          ...v,
          sizegb: v['size'] === undefined ? undefined : `${f2(num(v, 'size') / GIB)} GiB`,
          storagetype: st !== '' && type !== '' ? `${st[0]!.toUpperCase()}${st.slice(1)} (${type})` : v['storagetype'],
        };
      }),
    },
    {
      base: 'listHosts', name: 'listHostsMetrics', description: 'Lists hosts metrics',
      response: [
        { name: 'powerstate', description: 'out-of-band management power state (Disabled: no out-of-band management)', type: 'string' },
        { name: 'instances', description: 'instances on the host: running / total', type: 'string' },
        { name: 'cputotalghz', description: 'the total cpu capacity in Ghz', type: 'string' },
        { name: 'cpuallocatedghz', description: 'the total cpu allocated in Ghz', type: 'string' },
        { name: 'memorytotalgb', description: 'the total memory capacity in GiB', type: 'string' },
        { name: 'memoryallocatedgb', description: 'the total memory allocated in GiB', type: 'string' },
        { name: 'cpuallocatedthreshold', description: 'cpu allocated notification threshold exceeded', type: 'boolean' },
        { name: 'cpuallocateddisablethreshold', description: 'cpu allocated disable threshold exceeded', type: 'boolean' },
        { name: 'memoryallocatedthreshold', description: 'memory allocated notification threshold exceeded', type: 'boolean' },
        { name: 'memoryallocateddisablethreshold', description: 'memory allocated disable threshold exceeded', type: 'boolean' },
      ],
      enrich: async (items, ctx) => {
        const t = await thresholds(deps);
        return Promise.all(items.map(async (h) => {
          const id = String(h['id']);
          const [all, running] = await Promise.all([
            deps.data.vms.list(ctx.caller, { hostid: id, listall: true, page: 1, pagesize: 1 }),
            deps.data.vms.list(ctx.caller, { hostid: id, listall: true, state: 'Running', page: 1, pagesize: 1 }),
          ]);
          const cpu = num(h, 'cpunumber') * num(h, 'cpuspeed');
          const cpuFraction = cpu === 0 ? 0 : num(h, 'cpuallocatedvalue') / cpu;
          const mem = num(h, 'memorytotal');
          const memAllocated = num(h, 'memoryallocated');
          return {
            ...h,
            powerstate: 'Disabled',
            instances: `${running.count} / ${all.count}`,
            cputotalghz: `${f2(cpu / 1000)} Ghz`,
            cpuallocatedghz: `${f2(num(h, 'cpuallocatedvalue') / 1000)} Ghz`,
            memorytotalgb: `${f2(mem / GIB)} GB`,
            memoryallocatedgb: `${f2(memAllocated / GIB)} GB`,
            cpuallocatedthreshold: cpuFraction > t.cpuNotify,
            cpuallocateddisablethreshold: cpuFraction > t.cpuDisable,
            memoryallocatedthreshold: memAllocated > mem * t.memNotify,
            memoryallocateddisablethreshold: memAllocated > mem * t.memDisable,
          };
        }));
      },
    },
    {
      base: 'listZones', name: 'listZonesMetrics', description: 'Lists zone metrics',
      response: [{ name: 'clusters', description: 'enabled / total clusters in the zone', type: 'string' }, ...CAPACITY_RESPONSE],
      enrich: async (items) => {
        const t = await thresholds(deps);
        return Promise.all(items.map(async (z) => {
          const zoneid = String(z['id']);
          const clusters = await deps.data.zones.allClusters({ zoneid });
          const up = clusters.filter((c) => c.allocationstate === 'Enabled' && c.managedstate === 'Managed').length;
          return { ...z, state: z['allocationstate'], clusters: `${up} / ${clusters.length}`,
            ...capacityFields(hostSums(await routingHosts({ zoneid })), t) };
        }));
      },
    },
    {
      base: 'listClusters', name: 'listClustersMetrics', description: 'Lists cluster metrics',
      response: [{ name: 'hosts', description: 'Up / total hosts in the cluster', type: 'string' }, ...CAPACITY_RESPONSE],
      enrich: async (items) => {
        const t = await thresholds(deps);
        return Promise.all(items.map(async (c) => {
          const hosts = await routingHosts({ clusterid: String(c['id']) });
          const s = hostSums(hosts);
          return { ...c, state: c['allocationstate'], hosts: `${s.up} / ${hosts.length}`, ...capacityFields(s, t) };
        }));
      },
    },
    {
      base: 'listStoragePools', name: 'listStoragePoolsMetrics', description: 'Lists storage pool metrics',
      response: [
        { name: 'disksizeusedgb', description: 'disk size used in GiB', type: 'string' },
        { name: 'disksizetotalgb', description: 'disk size in GiB, with the over-provisioning factor', type: 'string' },
        { name: 'disksizeallocatedgb', description: 'disk size allocated in GiB', type: 'string' },
        { name: 'disksizeunallocatedgb', description: 'disk size unallocated in GiB', type: 'string' },
        { name: 'storageusagethreshold', description: 'storage usage notification threshold exceeded', type: 'boolean' },
        { name: 'storageusagedisablethreshold', description: 'storage usage disable threshold exceeded', type: 'boolean' },
        { name: 'storageallocatedthreshold', description: 'storage allocated notification threshold exceeded', type: 'boolean' },
        { name: 'storageallocateddisablethreshold', description: 'storage allocated disable threshold exceeded', type: 'boolean' },
      ],
      enrich: async (items) => {
        const t = await thresholds(deps);
        return items.map((p) => {
          const total = num(p, 'disksizetotal');
          const used = num(p, 'disksizeused');
          const allocated = num(p, 'disksizeallocated');
          const factorText = p['overprovisionfactor'] === undefined ? '1' : String(p['overprovisionfactor']);
          const factor = Number(factorText);
          const capacity = total * factor;
          return {
            ...p,
            disksizeusedgb: `${f2(used / GIB)} GB`,
            disksizetotalgb: `${f2(total / GIB)} GB (x${factorText})`,
            disksizeallocatedgb: `${f2(allocated / GIB)} GB`,
            disksizeunallocatedgb: `${f2((capacity - allocated) / GIB)} GB`,
            storageusagethreshold: used > capacity * t.storageUsedNotify,
            storageusagedisablethreshold: used > capacity * t.storageUsedDisable,
            storageallocatedthreshold: allocated > capacity * t.storageAllocNotify,
            storageallocateddisablethreshold: allocated > capacity * t.storageAllocDisable,
          };
        });
      },
    },
    {
      base: 'listManagementServers', name: 'listManagementServersMetrics', description: 'Lists Management Server metrics',
      response: [{ name: 'collectiontime', description: 'the time these statistics were collected', type: 'date' }],
      enrich: async (items, ctx) => {
        const now = new Date(ctx.clock.now());
        return items.map((m) => ({ ...m, collectiontime: now }));
      },
    },
  ];
}

async function enrichResult(result: CommandResult, ctx: HandlerContext<Caller>, enrich: Enrich): Promise<CommandResult> {
  if (result.kind === 'list') return { ...result, items: await enrich(result.items, ctx) };
  if (result.kind === 'stream') {
    const rest = result.rest;
    return {
      ...result,
      first: await enrich(result.first, ctx),
      rest: (async function* () { for await (const chunk of rest) yield await enrich(chunk, ctx); })(),
    };
  }
  throw new InternalError(`metrics: the base command answered a ${result.kind}, not a list`);
}

const PAGING = new Set(PAGING_PARAMS.map((p) => p.name));

/**
 * The counts of listInfrastructure, each taken from the list command that lists those things (its `count`
 * with a one-row page), so that a count and its page always agree. CloudStack's ilbvms and objectstores
 * are left out: cloudstackd has neither internal load-balancer VMs nor object stores, and no command lists them.
 */
const INFRASTRUCTURE_COUNTS: readonly (readonly [field: string, command: string, params: Readonly<Record<string, string>>])[] = [
  ['zones', 'listZones', {}],
  ['pods', 'listPods', {}],
  ['clusters', 'listClusters', {}],
  ['hosts', 'listHosts', { type: 'Routing' }],
  ['storagepools', 'listStoragePools', {}],
  ['imagestores', 'listImageStores', {}],
  ['systemvms', 'listSystemVms', {}],
  ['routers', 'listRouters', { listall: 'true' }],
  ['alerts', 'listAlerts', {}],
  ['managementservers', 'listManagementServers', {}],
];

/**
 * listInfrastructure (the metrics plugin's ListInfrastructureCmd, root admin only): how many zones,
 * pods, clusters, hosts... the cloud has, and the CPU sockets of its hypervisor hosts. The UI shows its
 * whole Infrastructure menu only when listApis lists this command.
 */
function infrastructureCommand(byName: ReadonlyMap<string, HandledCommand>, deps: CommandDeps): HandledCommand | undefined {
  const counted = INFRASTRUCTURE_COUNTS.filter(([, command]) => byName.has(command));
  if (counted.length !== INFRASTRUCTURE_COUNTS.length) return undefined;
  return defineCommand({
    name: 'listInfrastructure',
    description: 'Lists infrastructure',
    isAsync: false,
    access: 'admin',
    objectName: 'infrastructure',
    since: '4.9.3',
    params: [],
    response: [
      ...INFRASTRUCTURE_COUNTS.map(([field]) => ({ name: field, description: `Number of ${field}`, type: 'integer' })),
      { name: 'cpusockets', description: 'Number of cpu sockets', type: 'integer' },
    ],
    async handler(ctx) {
      const out: Record<string, number> = {};
      for (const [field, command, params] of INFRASTRUCTURE_COUNTS) {
        const result = await byName.get(command)!.invoke({ ...ctx, params, page: { startIndex: 0, pageSize: 1 } });
        if (result.kind !== 'list') throw new InternalError(`listInfrastructure: ${command} answered a ${result.kind}, not a list`);
        out[field] = result.count;
      }
      let cpusockets = 0;
      for (const h of await deps.data.hosts.all({ type: 'Routing' })) cpusockets += Number(h.cpusockets ?? 0);
      return { kind: 'object', object: { ...out, cpusockets } };
    },
  });
}

/**
 * The metrics commands whose base command is among `commands` (each takes the base's parameters and access),
 * and listInfrastructure when every list it counts is served.
 */
export function metricsCommands(commands: readonly HandledCommand[], deps: CommandDeps): HandledCommand[] {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const out: HandledCommand[] = [];
  const infrastructure = infrastructureCommand(byName, deps);
  if (infrastructure !== undefined) out.push(infrastructure);
  for (const spec of specs(deps)) {
    const base = byName.get(spec.base);
    if (base === undefined) continue;
    out.push(defineCommand({
      name: spec.name,
      description: spec.description,
      isAsync: false,
      access: base.access === 'anonymous' ? 'user' : base.access,
      ...(base.objectName === undefined ? {} : { objectName: base.objectName }),
      paged: base.paged,
      since: '4.9.3',
      params: base.params.filter((p) => !base.paged || !PAGING.has(p.name)),
      response: [...(base.response.length > 0 ? base.response : responseFieldsOf(base.objectName)), ...spec.response],
      async handler(ctx) {
        return enrichResult(await base.invoke(ctx), ctx, spec.enrich);
      },
    }));
  }
  return out;
}
