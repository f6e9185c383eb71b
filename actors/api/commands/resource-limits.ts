/**
 * listResourceLimits (ListResourceLimitsCmd): the limits cloudstackd applies to an account — the number
 * of user VMs, their CPU cores and their memory (MiB), from the global settings max.account.user.vms /
 * max.account.cpus / max.account.memory that the data service checks at deploy time; root admin
 * accounts are not limited (-1). cloudstackd applies no domain limits, so a domain's are all -1. Only
 * these three types are listed: the others (volumes, IPs, networks...) are not limited here. The UI's
 * account and domain pages show them in their Configure Limits tab.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString } from '../params.js';
import type { ResponseObject } from '../types.js';
import { accountIdFor, type CommandDeps } from './common.js';

/** The limited types: CloudStack's Resource.ResourceType number and name, and the setting (with its default) that sets it. */
const LIMITED = [
  { type: 0, name: 'user_vm', setting: 'max.account.user.vms', fallback: 20 },
  { type: 8, name: 'cpu', setting: 'max.account.cpus', fallback: 40 },
  { type: 9, name: 'memory', setting: 'max.account.memory', fallback: 40960 },
] as const;

export function resourceLimitCommands(deps: CommandDeps): HandledCommand[] {
  return [defineCommand({
    name: 'listResourceLimits',
    description: 'Lists resource limits.',
    isAsync: false,
    access: 'user',
    objectName: 'resourcelimit',
    paged: true,
    params: [
      { name: 'account', type: 'string', description: 'list resources by account. Must be used with the domainId parameter.' },
      { name: 'domainid', type: 'uuid', description: 'list only resources belonging to the domain specified' },
      { name: 'resourcetype', type: 'integer', description: 'Type of resource: 0 - Instance, 8 - CPU, 9 - Memory (the types cloudstackd limits).' },
      { name: 'resourcetypename', type: 'string', description: 'Type of resource by name: user_vm, cpu or memory.' },
      { name: 'listall', type: 'boolean', description: "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false" },
    ],
    response: [
      { name: 'resourcetype', description: 'resource type. Values include 0, 8, 9.', type: 'string' },
      { name: 'resourcetypename', description: 'resource type name. Values include user_vm, cpu, memory.', type: 'string' },
      { name: 'max', description: 'the maximum number of the resource. A -1 means the resource currently has no limit.', type: 'long' },
      { name: 'account', description: 'the account of the resource limit', type: 'string' },
      { name: 'domainid', description: 'the domain ID of the resource limit', type: 'string' },
      { name: 'domain', description: 'the domain name of the resource limit', type: 'string' },
      { name: 'domainpath', description: 'path of the domain to which the resource limit belongs', type: 'string' },
    ],
    async handler(ctx) {
      const { caller, params } = ctx;
      const typeText = params['resourcetype'] === undefined ? undefined : String(params['resourcetype']);
      const typeName = getString(params, 'resourcetypename');
      if (typeText !== undefined && typeName !== undefined) throw new InvalidParameterError('give resourcetype or resourcetypename, not both');
      const types = LIMITED.filter((t) => (typeText === undefined || String(t.type) === typeText) &&
        (typeName === undefined || t.name === typeName.toLowerCase()));

      let owner: ResponseObject;
      let limited: boolean;
      const domainid = getString(params, 'domainid');
      if (getString(params, 'account') === undefined && domainid !== undefined) {
        const d = await deps.data.domains.get(caller, domainid);
        owner = { domainid: d.id, domain: d.name, domainpath: d.path };
        limited = false;
      } else {
        const accountId = (await accountIdFor(deps, caller, params)) ?? caller.accountId;
        const a = (await deps.data.accounts.list(caller, { id: accountId, listall: true, page: 1, pagesize: 1 })).items[0];
        if (a === undefined) throw new InvalidParameterError(`Unable to find account ${accountId}`);
        owner = { account: a.name, domainid: a.domainid, domain: a.domain, domainpath: a.domainpath };
        limited = a.roletype !== 'Admin';
      }
      const items: ResponseObject[] = [];
      for (const t of types) {
        const max = limited ? await deps.data.config.number(t.setting, t.fallback) : -1;
        items.push({ resourcetype: String(t.type), resourcetypename: t.name, max: max < 0 ? -1 : max, ...owner });
      }
      const start = ctx.page?.startIndex ?? 0;
      const end = ctx.page?.pageSize === undefined ? items.length : start + ctx.page.pageSize;
      return { kind: 'list', count: items.length, items: items.slice(start, end) };
    },
  })];
}
