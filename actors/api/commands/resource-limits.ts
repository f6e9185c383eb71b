/**
 * listResourceLimits (ListResourceLimitsCmd) and updateResourceLimit (UpdateResourceLimitCmd): the limits
 * cloudstackd enforces at deploy time — an account's user VMs, their CPU cores and their memory (MiB) —
 * and the domain limits above them. An account's limit is the one set on it, else the global setting
 * max.account.user.vms / max.account.cpus / max.account.memory; root admin accounts are not limited (-1).
 * A domain has no limit (-1) until one is set on it. Only these three types are listed and can be set:
 * the others (volumes, IPs, networks...) are not limited here, so setting one is refused rather than
 * stored to no effect. The UI's account and domain pages show and save them in their Limits tab.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getNumber, getString } from '../params.js';
import type { Caller, ParamDef, Params, ResponseFieldDef, ResponseObject } from '../types.js';
import { accountIdFor, type CommandDeps } from './common.js';

type LimitOwner = Parameters<DataApi['resourceLimits']['list']>[1];
type LimitedType = NonNullable<Parameters<DataApi['resourceLimits']['list']>[2]>;

/** CloudStack's Resource.ResourceType numbers of the limited types. */
const TYPE_BY_NUMBER: Readonly<Record<string, LimitedType>> = { 0: 'user_vm', 8: 'cpu', 9: 'memory' };

/** Resource.ResourceType's names by number, to name a type that is valid in CloudStack but not limited here. */
const CLOUDSTACK_TYPES: Readonly<Record<string, string>> = {
  0: 'user_vm', 1: 'public_ip', 2: 'volume', 3: 'snapshot', 4: 'template', 5: 'project', 6: 'network', 7: 'vpc',
  8: 'cpu', 9: 'memory', 10: 'primary_storage', 11: 'secondary_storage',
};

const TYPE_HELP = '0 - Instance, 8 - CPU, 9 - Memory (the types cloudstackd limits)';

const RESPONSE: readonly ResponseFieldDef[] = [
  { name: 'resourcetype', description: 'resource type. Values include 0, 8, 9.', type: 'string' },
  { name: 'resourcetypename', description: 'resource type name. Values include user_vm, cpu, memory.', type: 'string' },
  { name: 'max', description: 'the maximum number of the resource. A -1 means the resource currently has no limit.', type: 'long' },
  { name: 'account', description: 'the account of the resource limit', type: 'string' },
  { name: 'domainid', description: 'the domain ID of the resource limit', type: 'string' },
  { name: 'domain', description: 'the domain name of the resource limit', type: 'string' },
  { name: 'domainpath', description: 'path of the domain to which the resource limit belongs', type: 'string' },
];

/** Whose limits a request names: `domainid` alone is the domain; otherwise an account (the caller's by default). */
async function ownerOf(deps: CommandDeps, caller: Caller, params: Params): Promise<LimitOwner | undefined> {
  const domainid = getString(params, 'domainid');
  if (getString(params, 'account') === undefined && getString(params, 'projectid') === undefined && domainid !== undefined) {
    // The caller must see the domain (a domain it may not see is CloudStack's "not found" for it).
    const d = await deps.data.domains.get(caller, domainid);
    return { domainid: d.id };
  }
  const accountId = await accountIdFor(deps, caller, params);
  if (accountId === undefined) return undefined;
  const a = (await deps.data.accounts.list(caller, { id: accountId, listall: true, page: 1, pagesize: 1 })).items[0];
  if (a === undefined) throw new InvalidParameterError(`Unable to find account ${accountId}`);
  return { accountid: a.id };
}

function listCommand(deps: CommandDeps): HandledCommand {
  return defineCommand({
    name: 'listResourceLimits', description: 'Lists resource limits.', isAsync: false, access: 'user', objectName: 'resourcelimit',
    paged: true,
    params: [
      { name: 'account', type: 'string', description: 'list resources by account. Must be used with the domainId parameter.' },
      { name: 'domainid', type: 'uuid', description: 'list only resources belonging to the domain specified' },
      { name: 'projectid', type: 'uuid', description: 'list resource limits by project' },
      { name: 'resourcetype', type: 'integer', description: `Type of resource: ${TYPE_HELP}.` },
      { name: 'resourcetypename', type: 'string', description: 'Type of resource by name: user_vm, cpu or memory.' },
      { name: 'listall', type: 'boolean', description: "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false" },
    ],
    response: RESPONSE,
    async handler(ctx) {
      const { caller, params } = ctx;
      const typeText = params['resourcetype'] === undefined ? undefined : String(params['resourcetype']);
      const typeName = getString(params, 'resourcetypename');
      if (typeText !== undefined && typeName !== undefined) throw new InvalidParameterError('give resourcetype or resourcetypename, not both');
      const byName = Object.values(TYPE_BY_NUMBER).find((t) => t === typeName?.toLowerCase());
      const wanted = typeText !== undefined ? TYPE_BY_NUMBER[typeText] : byName;
      // A type cloudstackd does not limit has no limit to list.
      if ((typeText !== undefined || typeName !== undefined) && wanted === undefined) return { kind: 'list', count: 0, items: [] };
      const owner = (await ownerOf(deps, caller, params)) ?? { accountid: caller.accountId };
      const items = (await deps.data.resourceLimits.list(caller, owner, wanted)) as unknown as ResponseObject[];
      const start = ctx.page?.startIndex ?? 0;
      const end = ctx.page?.pageSize === undefined ? items.length : start + ctx.page.pageSize;
      return { kind: 'list', count: items.length, items: items.slice(start, end) };
    },
  });
}

const UPDATE_PARAMS: readonly ParamDef[] = [
  { name: 'account', type: 'string', description: 'Update resource for a specified account. Must be used with the domainId parameter.' },
  { name: 'domainid', type: 'uuid', description: 'Update resource limits for all accounts in specified domain. If used with the account parameter, updates resource limits for a specified account in specified domain.' },
  { name: 'projectid', type: 'uuid', description: 'Update resource limits for project' },
  { name: 'max', type: 'long', description: 'Maximum resource limit; -1 (the default) for no limit.' },
  { name: 'resourcetype', type: 'integer', required: true, description: `Type of resource to update: ${TYPE_HELP}.` },
];

function updateCommand(deps: CommandDeps): HandledCommand {
  return defineCommand({
    name: 'updateResourceLimit', description: 'Updates resource limits for an account or domain.', isAsync: false, access: 'domainadmin',
    objectName: 'resourcelimit', params: UPDATE_PARAMS, response: RESPONSE,
    async handler({ caller, params }) {
      const number = String(params['resourcetype']);
      const type = TYPE_BY_NUMBER[number];
      if (type === undefined) {
        const known = CLOUDSTACK_TYPES[number];
        throw new InvalidParameterError(known === undefined ? 'Please specify valid resource type' :
          `Please specify valid resource type: cloudstackd limits only user_vm (0), cpu (8) and memory (9); ${known} (${number}) is not limited here`);
      }
      const owner = await ownerOf(deps, caller, params);
      if (owner === undefined) throw new InvalidParameterError('AccountId or domainId have to be specified in order to update resource limit');
      const max = getNumber(params, 'max') ?? -1;
      const limit = await deps.data.resourceLimits.update(caller, owner, { type, max });
      return { kind: 'object', object: limit as unknown as ResponseObject };
    },
  });
}

export function resourceLimitCommands(deps: CommandDeps): HandledCommand[] {
  return [listCommand(deps), updateCommand(deps)];
}
