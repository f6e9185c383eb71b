/**
 * Projects: resources created with `projectid` belong to the project (its own account); its member
 * accounts see and use them (lists with `projectid`), nobody else does. Changes are jobs, as in CloudStack.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { accountIdFor, listOf, listParams, required, listed } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const PROJECT_ID = { name: 'id', type: 'uuid', required: true, description: 'id of the project' } as const;

export function projectCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { data, orchestrator: o } = deps;
  const stateJob = (name: string, description: string, state: 'Active' | 'Suspended'): HandledCommand => defineCommand({
    name, description, isAsync: true, access: 'user', objectName: 'project', params: [PROJECT_ID],
    handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'updateProject', caller: scopeOf(caller), projectid: required(params, 'id'), state })),
  });
  return [
    defineCommand({
      name: 'createProject', description: 'Creates a project', isAsync: true, access: 'user', objectName: 'project',
      params: [{ name: 'name', type: 'string', required: true, description: 'name of the project' },
        { name: 'displaytext', type: 'string', description: 'display text of the project (default: its name)' },
        { name: 'account', type: 'string', description: 'account who will be Admin for the project' },
        { name: 'domainid', type: 'uuid', description: 'domain ID of the account owning a project' }],
      async handler({ caller, params }) {
        const displaytext = getString(params, 'displaytext');
        const accountid = await accountIdFor(deps, caller, params);
        return asyncReply(await o.submit({ op: 'createProject', caller: scopeOf(caller), name: required(params, 'name'),
          ...(displaytext === undefined ? {} : { displaytext }), ...(accountid === undefined ? {} : { accountid }) }));
      },
    }),
    defineCommand({
      name: 'listProjects', description: 'Lists projects and provides detailed information for listed projects', isAsync: false, access: 'user',
      objectName: 'project', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'list projects by project ID' },
        { name: 'name', type: 'string', description: 'list projects by name' },
        { name: 'displaytext', type: 'string', description: 'list projects by display text' },
        { name: 'state', type: 'string', description: 'list projects by state' },
        { name: 'listall', type: 'boolean', description: 'admins: every project they may see, not only those they are members of' },
        { name: 'domainid', type: 'uuid', description: 'list only projects of the domain' },
        { name: 'account', type: 'string', description: 'list projects of the account (ignored: members see theirs)' }],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'name', 'displaytext', 'state', 'listall', 'domainid']), {
          page: (q) => data.projects.list(ctx.caller, q), scan: (q, w) => data.projects.scan(ctx.caller, q, w),
        }),
    }),
    defineCommand({
      name: 'updateProject', description: 'Updates a project', isAsync: true, access: 'user', objectName: 'project',
      params: [PROJECT_ID, { name: 'displaytext', type: 'string', description: 'display text of the project' }],
      async handler({ caller, params }) {
        const displaytext = getString(params, 'displaytext');
        return asyncReply(await o.submit({ op: 'updateProject', caller: scopeOf(caller), projectid: required(params, 'id'),
          ...(displaytext === undefined ? {} : { displaytext }) }));
      },
    }),
    stateJob('activateProject', 'Activates a project', 'Active'),
    stateJob('suspendProject', 'Suspends a project', 'Suspended'),
    defineCommand({
      name: 'deleteProject', description: 'Deletes a project (it must own no resources any more)', isAsync: true, access: 'user', params: [PROJECT_ID],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'deleteProject', caller: scopeOf(caller), projectid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'addAccountToProject', description: 'Adds account to a project', isAsync: true, access: 'user',
      params: [{ name: 'projectid', type: 'uuid', required: true, description: 'ID of project to add the account to' },
        { name: 'account', type: 'string', required: true, description: 'name of the account to be added to the project' },
        { name: 'projectroleid', type: 'uuid', description: 'ID of the project role (not supported: members are Regular)' },
        { name: 'roletype', type: 'string', description: 'Project role type to be assigned to the user - Admin/Regular; default: Regular' }],
      async handler({ caller, params }) {
        const role = getString(params, 'roletype')?.toLowerCase() === 'admin' ? 'Admin' : 'Regular';
        return asyncReply(await o.submit({ op: 'addAccountToProject', caller: scopeOf(caller), projectid: required(params, 'projectid'),
          account: required(params, 'account'), role }));
      },
    }),
    defineCommand({
      name: 'deleteAccountFromProject', description: 'Deletes account from the project', isAsync: true, access: 'user',
      params: [{ name: 'projectid', type: 'uuid', required: true, description: 'ID of the project to remove the account from' },
        { name: 'account', type: 'string', required: true, description: 'name of the account to be removed from the project' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'deleteAccountFromProject', caller: scopeOf(caller),
        projectid: required(params, 'projectid'), account: required(params, 'account') })),
    }),
    defineCommand({
      name: 'listProjectAccounts', description: "Lists project's accounts", isAsync: false, access: 'user', objectName: 'projectaccount', paged: true,
      params: [{ name: 'projectid', type: 'uuid', required: true, description: 'ID of the project' },
        { name: 'account', type: 'string', description: 'list accounts of the project by account name' },
        { name: 'role', type: 'string', description: 'list accounts of the project by role' }],
      async handler(ctx) {
        const account = getString(ctx.params, 'account');
        const role = getString(ctx.params, 'role');
        const all = (await data.projects.accounts(ctx.caller, required(ctx.params, 'projectid')))
          .filter((m) => (account === undefined || m.account === account) && (role === undefined || m.role.toLowerCase() === role.toLowerCase()));
        const start = ctx.page?.startIndex ?? 0;
        const size = ctx.page?.pageSize ?? all.length;
        return listOf({ count: all.length, items: all.slice(start, start + size) });
      },
    }),
  ];
}
