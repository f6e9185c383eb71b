/**
 * Affinity groups, honoured by the host planner: host anti-affinity keeps a group's VMs on different
 * hosts, host affinity on one host. create/delete/updateVMAffinityGroup are jobs, as in CloudStack.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getList } from '../params.js';
import type { Caller, Params } from '../types.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listParams, ownerParams, required, listed } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const TYPES = ['host anti-affinity', 'host affinity'];

/** A group named by `id` or by `name` (in the caller's or the named account). */
async function groupId(deps: OrchestrationDeps, caller: Caller, params: Params): Promise<string> {
  const id = getString(params, 'id');
  const name = getString(params, 'name');
  if ((id === undefined) === (name === undefined)) throw new InvalidParameterError('Either the affinity group id or name must be specified, not both');
  if (id !== undefined) return id;
  return (await deps.data.affinityGroups.byName(caller, name!, await accountIdFor(deps, caller, params))).id;
}

export function affinityGroupCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { data, orchestrator: o } = deps;
  return [
    defineCommand({
      name: 'createAffinityGroup', description: 'Creates an affinity/anti-affinity group', isAsync: true, access: 'user', objectName: 'affinitygroup',
      params: [{ name: 'name', type: 'string', required: true, description: 'name of the affinity group' },
        { name: 'type', type: 'string', required: true, description: `Type of the affinity group: ${TYPES.join(', ')}` },
        { name: 'description', type: 'string', description: 'optional description of the affinity group' }, ...ownerParams('affinity group')],
      async handler({ caller, params }) {
        const req: Parameters<typeof o.submit>[0] = { op: 'createAffinityGroup', caller: scopeOf(caller), name: required(params, 'name'),
          type: required(params, 'type') };
        const description = getString(params, 'description');
        const accountid = await accountIdFor(deps, caller, params);
        if (req.op === 'createAffinityGroup') {
          if (description !== undefined) req.description = description;
          if (accountid !== undefined) req.accountid = accountid;
        }
        return asyncReply(await o.submit(req));
      },
    }),
    defineCommand({
      name: 'deleteAffinityGroup', description: 'Deletes affinity group', isAsync: true, access: 'user',
      params: [{ name: 'id', type: 'uuid', description: 'The ID of the affinity group. Mutually exclusive with name parameter' },
        { name: 'name', type: 'string', description: 'The name of the affinity group. Mutually exclusive with id parameter' }, ...ownerParams('affinity group')],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'deleteAffinityGroup', caller: scopeOf(caller),
        groupid: await groupId(deps, caller, params) })),
    }),
    defineCommand({
      name: 'updateVMAffinityGroup', description: 'Updates the affinity/anti-affinity group associations of a virtual machine. The VM has to be ' +
        'stopped and restarted for the new properties to take effect.', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'The ID of the virtual machine' },
        { name: 'affinitygroupids', type: 'list', collectionType: 'uuid', description: 'comma separated list of affinity groups id (empty: none)' },
        { name: 'affinitygroupnames', type: 'list', description: 'comma separated list of affinity groups names' }],
      async handler({ caller, params }) {
        const ids = getList(params, 'affinitygroupids');
        const names = getList(params, 'affinitygroupnames');
        if (ids !== undefined && names !== undefined) throw new InvalidParameterError('affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter');
        const vmid = required(params, 'id');
        const vm = await data.vms.get(caller, vmid);
        const groupids = ids !== undefined ? [...ids]
          : await Promise.all((names ?? []).map(async (n) => (await data.affinityGroups.byName(caller, n, vm.account === caller.accountName ? undefined
            : (await data.accounts.list(caller, { name: vm.account, domainid: vm.domainid, listall: true, pagesize: 1 })).items[0]?.id)).id));
        return asyncReply(await o.submit({ op: 'updateVmAffinityGroup', caller: scopeOf(caller), vmid, groupids }));
      },
    }),
    defineCommand({
      name: 'listAffinityGroups', description: 'Lists affinity groups', isAsync: false, access: 'user', objectName: 'affinitygroup', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'list the affinity group by the ID provided' },
        { name: 'name', type: 'string', description: 'lists affinity groups by name' },
        { name: 'type', type: 'string', description: 'lists affinity groups by type' },
        { name: 'virtualmachineid', type: 'uuid', description: 'lists affinity groups by virtual machine ID' }, ...OWNER_LIST_PARAMS],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'name', 'type', 'virtualmachineid', 'listall',
        'domainid', 'isrecursive', 'account']), {
          page: (q) => data.affinityGroups.list(ctx.caller, q), scan: (q, w) => data.affinityGroups.scan(ctx.caller, q, w),
        }),
    }),
    defineCommand({
      name: 'listAffinityGroupTypes', description: 'Lists affinity group types available', isAsync: false, access: 'user',
      objectName: 'affinityGroupType', responseName: 'listaffinitygrouptypesresponse', params: [],
      handler: async () => ({ kind: 'list', count: TYPES.length, items: TYPES.map((type) => ({ type })) }),
    }),
  ];
}
