/** Instance groups (a name per account that VMs carry; `group` on deploy and updateVirtualMachine). */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listParams, objectOf, ownerParams, required, type CommandDeps, listed } from './common.js';

export function instanceGroupCommands(deps: CommandDeps): HandledCommand[] {
  const { data } = deps;
  const ID = { name: 'id', type: 'uuid', required: true, description: 'the ID of the instance group' } as const;
  return [
    defineCommand({
      name: 'createInstanceGroup', description: 'Creates a vm group', isAsync: false, access: 'user', objectName: 'instancegroup',
      params: [{ name: 'name', type: 'string', required: true, description: 'the name of the instance group' }, ...ownerParams('instance group')],
      async handler({ caller, params }) {
        return objectOf(await data.instanceGroups.create(caller, required(params, 'name'), await accountIdFor(deps, caller, params)));
      },
    }),
    defineCommand({
      name: 'updateInstanceGroup', description: 'Updates a vm group', isAsync: false, access: 'user', objectName: 'instancegroup',
      params: [ID, { name: 'name', type: 'string', description: 'new instance group name' }],
      async handler({ caller, params }) {
        const id = required(params, 'id');
        const name = params['name'];
        return objectOf(typeof name === 'string' ? await data.instanceGroups.rename(caller, id, name) : await data.instanceGroups.get(caller, id));
      },
    }),
    defineCommand({
      name: 'deleteInstanceGroup', description: 'Deletes a vm group', isAsync: false, access: 'user', params: [ID],
      async handler({ caller, params }) {
        await data.instanceGroups.delete(caller, required(params, 'id'));
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'listInstanceGroups', description: 'Lists vm groups', isAsync: false, access: 'user', objectName: 'instancegroup', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'list instance groups by ID' }, { name: 'name', type: 'string', description: 'list instance groups by name' },
        ...OWNER_LIST_PARAMS],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'name', 'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => data.instanceGroups.list(ctx.caller, q), scan: (q, w) => data.instanceGroups.scan(ctx.caller, q, w),
        }),
    }),
  ];
}
