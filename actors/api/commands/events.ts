/**
 * Events, capacity and the server's capabilities.
 */
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getDate, getList, getNumber, getString } from '../params.js';
import type { Caller, HandlerContext, ResponseObject } from '../types.js';
import { OWNER_LIST_PARAMS, listOf, listed, listParams, objectOf, type CommandDeps } from './common.js';

type CapacityQuery = NonNullable<Parameters<DataApi['capacity']['list']>[0]>;

/** A page of an in-memory list (capacity records are a handful per zone, computed whole). */
function pageOfArray<T>(items: readonly T[], page: HandlerContext['page']): T[] {
  if (page === undefined) return [...items];
  const end = page.pageSize === undefined ? undefined : page.startIndex + page.pageSize;
  return items.slice(page.startIndex, end);
}

async function capabilities(deps: CommandDeps, caller: Caller): Promise<ResponseObject> {
  // Every zone the caller sees (a few per cloud).
  const zones = await deps.data.zones.all(caller, {});
  return {
    securitygroupsenabled: zones.some((z) => z.securitygroupsenabled),
    dynamicrolesenabled: true,
    cloudstackversion: deps.cloudStackVersion,
    // The data service lets users register public templates (allow.public.user.templates=true).
    userpublictemplateenabled: true,
    supportELB: 'false',
    // Projects, region-wide secondary storage and KVM VM snapshots are not implemented.
    projectinviterequired: false,
    allowusercreateprojects: false,
    regionsecondaryenabled: false,
    kvmsnapshotenabled: false,
    allowuserviewdestroyedvm: false,
    allowuserexpungerecovervm: false,
    allowuserexpungerecovervolume: false,
    allowuserviewalldomainaccounts: false,
    kubernetesserviceenabled: false,
    kubernetesclusterexperimentalfeaturesenabled: false,
    defaultuipagesize: deps.maxPageSize,
  };
}

export function eventCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'listEvents',
      description: 'A command to list events.',
      isAsync: false,
      access: 'user',
      objectName: 'event',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the event' },
        { name: 'type', type: 'string', description: 'the event type (see event types)' },
        { name: 'level', type: 'string', description: 'the event level (INFO, WARN, ERROR)' },
        { name: 'startid', type: 'uuid', description: 'the parent/start ID of the event, when provided this will list all the events with the start/parent ID including the parent event' },
        { name: 'resourceid', type: 'uuid', description: 'the ID of the resource associated with the event', since: '4.17.0' },
        ...OWNER_LIST_PARAMS,
      ],
      async handler(ctx) {
        const names = ['id', 'type', 'level', 'startid', 'resourceid', 'listall', 'domainid', 'isrecursive', 'account'];
        const p = listParams(ctx, names);
        const level = getString(ctx.params, 'level');
        if (level !== undefined) p['level'] = level.toUpperCase();
        return listed(ctx, p, {
          page: (q) => deps.data.events.list(ctx.caller, q), scan: (q, w) => deps.data.events.scan(ctx.caller, q, w),
        });
      },
    }),
    ...(['archive', 'delete'] as const).map((what) => defineCommand({
      name: `${what}Events`,
      description: what === 'archive' ? 'Archive one or more events.' : 'Delete one or more events.',
      isAsync: false,
      access: 'user',
      params: [
        { name: 'ids', type: 'list', collectionType: 'uuid', description: `the IDs of the events to ${what}` },
        { name: 'type', type: 'string', description: `${what} by event type` },
        { name: 'enddate', type: 'date', description: `end date range to ${what} events (including) this date` },
      ],
      async handler({ caller, params }) {
        const sel: Parameters<typeof deps.data.events.archive>[1] = {};
        const ids = getList(params, 'ids');
        if (ids !== undefined) sel.ids = [...ids];
        const type = getString(params, 'type');
        if (type !== undefined) sel.type = type;
        const end = getDate(params, 'enddate');
        if (end !== undefined) sel.sentBefore = end.getTime();
        await (what === 'archive' ? deps.data.events.archive(caller, sel) : deps.data.events.delete(caller, sel));
        return { kind: 'success' };
      },
    })),
    defineCommand({
      name: 'listCapacity',
      description: 'Lists all the system wide capacities.',
      isAsync: false,
      access: 'admin',
      objectName: 'capacity',
      paged: true,
      params: [
        { name: 'zoneid', type: 'uuid', description: 'lists capacity by the Zone ID' },
        { name: 'podid', type: 'uuid', description: 'lists capacity by the Pod ID' },
        { name: 'clusterid', type: 'uuid', description: 'lists capacity by the Cluster ID' },
        { name: 'type', type: 'integer', description: 'lists capacity by type* CAPACITY_TYPE_MEMORY = 0* CAPACITY_TYPE_CPU = 1* CAPACITY_TYPE_STORAGE = 2* CAPACITY_TYPE_STORAGE_ALLOCATED = 3* CAPACITY_TYPE_VIRTUAL_NETWORK_PUBLIC_IP = 4* CAPACITY_TYPE_PRIVATEIP = 5* CAPACITY_TYPE_SECONDARY_STORAGE = 6* CAPACITY_TYPE_VLAN = 7* CAPACITY_TYPE_DIRECT_ATTACHED_PUBLIC_IP = 8* CAPACITY_TYPE_LOCAL_STORAGE = 9* CAPACITY_TYPE_CPU_CORE = 90.' },
      ],
      async handler(ctx) {
        const q: CapacityQuery = {};
        for (const n of ['zoneid', 'podid', 'clusterid'] as const) {
          const v = getString(ctx.params, n);
          if (v !== undefined) q[n] = v;
        }
        const type = getNumber(ctx.params, 'type');
        if (type !== undefined) q.type = type;
        const all = await deps.data.capacity.list(q);
        return listOf({ count: all.length, items: pageOfArray(all, ctx.page) });
      },
    }),
    defineCommand({
      name: 'listCapabilities',
      description: 'Lists capabilities',
      isAsync: false,
      access: 'user',
      objectName: 'capability',
      params: [],
      async handler({ caller }) {
        return objectOf(await capabilities(deps, caller));
      },
    }),
  ];
}
