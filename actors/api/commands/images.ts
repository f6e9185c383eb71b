/**
 * Templates, ISOs and OS types. A registered template is recorded "Download Pending" in its zones; the
 * storage component makes it ready. Which templates a caller sees follows `templatefilter` (reference
 * section 3), applied by the data service.
 */
import { InvalidParameterError, PermissionDeniedError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList, getMap, getString } from '../params.js';
import type { Caller, Params } from '../types.js';
import { accountIdFor, listOf, listed, listParams, ownerParams, required, type CommandDeps } from './common.js';
import { osCommands } from './os-categories.js';
import { hypervisorName } from './zones.js';

type RegisterInput = Parameters<DataApi['templates']['register']>[1];

const FORMATS = ['QCOW2', 'RAW', 'VHD', 'VHDX', 'OVA', 'TAR', 'BAREMETAL', 'DIR'];
const TEMPLATE_TYPES = ['USER', 'VNF', 'SYSTEM', 'ROUTING', 'BUILTIN'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALL_ZONES = '-1';

/**
 * The zones to register in, undefined meaning every zone (cross-zone). As in RegisterTemplateCmd:
 * exactly one of zoneid and zoneids, and `-1` (alone) means all zones. Both are declared as strings
 * because CloudStack accepts `-1` in place of a UUID here.
 */
function zonesOf(params: Params): string[] | undefined {
  const zoneid = getString(params, 'zoneid');
  const zoneids = getList(params, 'zoneids');
  if (zoneid !== undefined && zoneids !== undefined && zoneids.length > 0) {
    throw new InvalidParameterError('Both zoneid and zoneids cannot be specified at the same time');
  }
  const ids = zoneid !== undefined ? [zoneid] : zoneids ?? [];
  if (ids.length === 0) throw new InvalidParameterError('Either zoneid or zoneids is required. Both cannot be null.');
  if (ids.includes(ALL_ZONES)) {
    if (ids.length > 1) throw new InvalidParameterError('Parameter zoneids cannot combine all zones (-1) option with other zones');
    return undefined;
  }
  const bad = ids.find((z) => !UUID.test(z));
  if (bad !== undefined) throw new InvalidParameterError(`Unable to execute API command registertemplate due to invalid value. Invalid parameter zoneid value=${bad}`);
  return ids.map((z) => z.toLowerCase());
}

function pick(name: string, value: string, allowed: readonly string[]): string {
  const found = allowed.find((a) => a === value.toUpperCase());
  if (found === undefined) throw new InvalidParameterError(`Invalid ${name} ${value}; supported: ${allowed.join(', ')}`);
  return found;
}

async function registerInput(deps: CommandDeps, caller: Caller, params: Params): Promise<RegisterInput> {
  const name = required(params, 'name');
  const input: RegisterInput = {
    name, displaytext: getString(params, 'displaytext') || name, format: pick('format', required(params, 'format'), FORMATS),
    hypervisor: hypervisorName(required(params, 'hypervisor')), url: required(params, 'url'),
  };
  const zones = zonesOf(params);
  if (zones !== undefined) input.zoneids = zones;
  const type = getString(params, 'templatetype');
  if (type !== undefined) {
    input.templatetype = pick('templatetype', type, TEMPLATE_TYPES);
    if (!['USER', 'VNF'].includes(input.templatetype) && caller.role !== 'admin') {
      throw new PermissionDeniedError(`only the root admin can register ${input.templatetype} templates`);
    }
  }
  for (const n of ['ispublic', 'isfeatured', 'isextractable', 'passwordenabled', 'sshkeyenabled', 'requireshvm', 'isdynamicallyscalable'] as const) {
    const v = getBoolean(params, n);
    if (v !== undefined) input[n] = v;
  }
  for (const n of ['ostypeid', 'checksum'] as const) {
    const v = getString(params, n);
    if (v !== undefined) input[n] = v;
  }
  const details = getMap(params, 'details');
  if (details !== undefined) input.details = Object.assign({}, ...details) as Record<string, string>;
  const accountid = await accountIdFor(deps, caller, params);
  if (accountid !== undefined) input.accountid = accountid;
  return input;
}

const TEMPLATE_FILTER = 'possible values are "featured", "self", "selfexecutable","sharedexecutable","executable", and "community". ' +
  '* featured : templates that have been marked as featured and public. * self : templates that have been registered or created by the calling user. ' +
  '* selfexecutable : same as self, but only returns templates that can be used to deploy a new VM. ' +
  '* sharedexecutable : templates ready to be deployed that have been granted to the calling user by another user. ' +
  '* executable : templates that are owned by the calling user, or public templates, that can be used to deploy a VM. ' +
  '* community : templates that have been marked as public but not featured. * all : all templates (only usable by admins).';

function templateCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'registerTemplate',
      description: 'Registers an existing template into the CloudStack cloud. ',
      isAsync: false,
      access: 'user',
      objectName: 'template',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the name of the template' },
        { name: 'displaytext', type: 'string', description: "The display text of the template, defaults to 'name'.", length: 4096 },
        { name: 'format', type: 'string', required: true, description: 'the format for the template. Possible values include QCOW2, RAW, VHD and OVA.' },
        { name: 'hypervisor', type: 'string', required: true, description: 'the target hypervisor for the template' },
        { name: 'url', type: 'string', required: true, length: 2048, description: 'the URL of where the template is hosted. Possible URL include http:// and https://' },
        { name: 'zoneid', type: 'string', description: 'the ID of the zone the template is to be hosted on (-1: all zones)' },
        { name: 'zoneids', type: 'list', description: 'A list of zone ids where the template will be hosted. Passing only -1 to this will cause the template to be registered as a cross zone template and will be copied to all zones.' },
        { name: 'ostypeid', type: 'uuid', description: 'the ID of the OS Type that best represents the OS of this template.' },
        { name: 'ispublic', type: 'boolean', description: 'true if the template is available to all accounts; default is true' },
        { name: 'isfeatured', type: 'boolean', description: 'true if this template is a featured template, false otherwise' },
        { name: 'isextractable', type: 'boolean', description: 'true if the template or its derivatives are extractable; default is false' },
        { name: 'passwordenabled', type: 'boolean', description: 'true if the template supports the password reset feature; default is false' },
        { name: 'sshkeyenabled', type: 'boolean', description: 'true if the template supports the sshkey upload feature; default is false' },
        { name: 'requireshvm', type: 'boolean', description: 'true if this template requires HVM' },
        { name: 'isdynamicallyscalable', type: 'boolean', description: 'true if template contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory' },
        { name: 'checksum', type: 'string', description: 'the checksum value of this template.' },
        { name: 'details', type: 'map', description: 'Template details in key/value pairs using format details[i].keyname=keyvalue. Example: details[0].hypervisortoolsversion=xenserver61' },
        { name: 'templatetype', type: 'string', since: '4.19.0', description: 'the type of the template. Valid options are: USER/VNF (for all users) and SYSTEM/ROUTING/BUILTIN (for admins only).' },
        ...ownerParams('template'),
      ],
      async handler({ caller, params }) {
        const entries = await deps.data.templates.register(caller, await registerInput(deps, caller, params));
        return listOf({ count: entries.length, items: entries });
      },
    }),
    defineCommand({
      name: 'listTemplates',
      description: 'List all public, private, and privileged templates.',
      isAsync: false,
      access: 'user',
      objectName: 'template',
      paged: true,
      params: [
        { name: 'templatefilter', type: 'string', required: true, description: TEMPLATE_FILTER },
        { name: 'id', type: 'uuid', description: 'the template ID' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the templates, mutually exclusive with id', since: '4.9' },
        { name: 'name', type: 'string', description: 'the template name' },
        { name: 'zoneid', type: 'uuid', description: 'list templates by zoneId' },
        { name: 'hypervisor', type: 'string', description: 'the hypervisor for which to restrict the search' },
      ],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['templatefilter', 'id', 'ids', 'name', 'zoneid', 'hypervisor']), {
          page: (q) => deps.data.templates.list(ctx.caller, q), scan: (q, w) => deps.data.templates.scan(ctx.caller, q, w),
        });
      },
    }),
    defineCommand({
      name: 'listIsos',
      description: 'Lists all available ISO files.',
      isAsync: false,
      access: 'user',
      objectName: 'iso',
      paged: true,
      params: [
        { name: 'isofilter', type: 'string', description: TEMPLATE_FILTER.replace(/templates/g, 'ISO files') },
        { name: 'id', type: 'uuid', description: 'list ISO by ID' },
        { name: 'name', type: 'string', description: 'list all ISOs by name' },
        { name: 'zoneid', type: 'uuid', description: 'the ID of the zone' },
        { name: 'hypervisor', type: 'string', description: 'the hypervisor for which to restrict the search' },
        { name: 'isready', type: 'boolean', description: 'true if this ISO is ready to be deployed' },
      ],
      async handler(ctx) {
        const p = listParams(ctx, ['isofilter', 'id', 'name', 'zoneid', 'hypervisor', 'isready']);
        // ListIsosCmd's default filter.
        p['isofilter'] ??= 'selfexecutable';
        return listed(ctx, p, {
          page: (q) => deps.data.templates.listIsos(ctx.caller, q), scan: (q, w) => deps.data.templates.scanIsos(ctx.caller, q, w),
        });
      },
    }),
  ];
}

/** Templates, ISOs and OS types (with their categories: os-categories.ts). */
export function imageCommands(deps: CommandDeps): HandledCommand[] {
  return [...templateCommands(deps), ...osCommands(deps)];
}
