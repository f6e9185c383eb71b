/**
 * Resource tags (createTags, deleteTags, listTags). CloudStack runs createTags and deleteTags as jobs;
 * `resourcetype` is matched case-insensitively (Ansible sends `Firewallrule`), and every tagged resource
 * answers its tags in its own `tags` array.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getList, getMap } from '../params.js';
import type { Params } from '../types.js';
import { OWNER_LIST_PARAMS, listOf, listParams, required, listed } from './common.js';
import { asyncReply, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

function tagsOf(params: Params, needValue: boolean): { key: string; value?: string }[] | undefined {
  const entries = getMap(params, 'tags');
  if (entries === undefined) return undefined;
  return entries.map((e) => {
    const key = e['key'];
    const value = e['value'];
    if (key === undefined || key === '') throw new InvalidParameterError('every tag needs a key: tags[0].key=...&tags[0].value=...');
    if (needValue && value === undefined) throw new InvalidParameterError(`tag ${key} needs a value`);
    return value === undefined ? { key } : { key, value };
  });
}

export function tagCommands(deps: OrchestrationDeps): HandledCommand[] {
  const resourceParams = [
    { name: 'resourcetype', type: 'string', required: true, description: 'type of the resource (UserVm, Volume, PublicIpAddress, FirewallRule...)' },
    { name: 'resourceids', type: 'list', collectionType: 'string', required: true, description: 'list of resources to tag (ids)' },
  ] as const;
  return [
    defineCommand({
      name: 'createTags', description: 'Creates resource tag(s)', isAsync: true, access: 'user',
      params: [...resourceParams, { name: 'tags', type: 'map', required: true, description: 'Map of tags (key/value pairs)' },
        { name: 'customer', type: 'string', description: 'identifies client specific tag' }],
      async handler({ caller, params }) {
        return asyncReply(await deps.orchestrator.submit({ op: 'createTags', caller: scopeOf(caller), resourcetype: required(params, 'resourcetype'),
          resourceids: [...getList(params, 'resourceids')!], tags: tagsOf(params, true) ?? [] }));
      },
    }),
    defineCommand({
      name: 'deleteTags', description: 'Deleting resource tag(s)', isAsync: true, access: 'user',
      params: [...resourceParams, { name: 'tags', type: 'map', description: 'Delete tags matching key/value pairs (all when omitted)' }],
      async handler({ caller, params }) {
        const tags = tagsOf(params, false);
        const req: Parameters<OrchestrationDeps['orchestrator']['submit']>[0] = { op: 'deleteTags', caller: scopeOf(caller),
          resourcetype: required(params, 'resourcetype'), resourceids: [...getList(params, 'resourceids')!] };
        if (tags !== undefined && req.op === 'deleteTags') req.tags = tags;
        return asyncReply(await deps.orchestrator.submit(req));
      },
    }),
    defineCommand({
      name: 'listTags', description: 'List resource tag(s)', isAsync: false, access: 'user', objectName: 'tag', paged: true,
      params: [
        { name: 'resourcetype', type: 'string', description: 'list by resource type' },
        { name: 'resourceid', type: 'string', description: 'list by resource id' },
        { name: 'key', type: 'string', description: 'list by key' },
        { name: 'value', type: 'string', description: 'list by value' },
        { name: 'customer', type: 'string', description: 'list by customer name' },
        ...OWNER_LIST_PARAMS,
      ],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['resourcetype', 'resourceid', 'key', 'value',
        'customer', 'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => deps.data.tags.list(ctx.caller, q), scan: (q, w) => deps.data.tags.scan(ctx.caller, q, w),
        }),
    }),
  ];
}
