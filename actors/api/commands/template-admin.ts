/**
 * Templates after registration (updateTemplate, deleteTemplate, copyTemplate, createTemplate) and
 * ISOs (registerIso, updateIso, deleteIso, copyIso, attachIso, detachIso). Registered images are
 * downloaded by the storage component; their progress shows in listTemplates / listIsos.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList } from '../params.js';
import type { ParamDef, Params } from '../types.js';
import { accountIdFor, listOf, objectOf, ownerParams, required } from './common.js';
import { asyncReply, getString, present, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const UPDATE_PARAMS: readonly ParamDef[] = [
  { name: 'name', type: 'string', description: 'the name of the image file' },
  { name: 'displaytext', type: 'string', length: 4096, description: 'the display text of the image' },
  { name: 'ostypeid', type: 'uuid', description: 'the ID of the OS type that best represents the OS of this image.' },
  { name: 'passwordenabled', type: 'boolean', description: 'true if the image supports the password reset feature; default is false' },
  { name: 'sshkeyenabled', type: 'boolean', description: 'true if the template supports the sshkey upload feature; default is false' },
  { name: 'isdynamicallyscalable', type: 'boolean', description: 'true if template/ISO contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory' },
  { name: 'bootable', type: 'boolean', description: 'true if image is bootable, false otherwise' },
  { name: 'requireshvm', type: 'boolean', description: 'true if the template requires HVM, false otherwise' },
];
const UPDATE_FIELDS = ['name', 'displaytext', 'ostypeid', 'passwordenabled', 'sshkeyenabled', 'isdynamicallyscalable', 'bootable', 'requireshvm'] as const;

function destZones(params: Params): string[] {
  const list = getList(params, 'destzoneids');
  const one = getString(params, 'destzoneid');
  const out = [...(list ?? []), ...(one === undefined ? [] : [one])];
  if (out.length === 0) throw new InvalidParameterError('Please specify a valid destination zone: destzoneid or destzoneids');
  return out;
}

function imageCommands(deps: OrchestrationDeps, iso: boolean): HandledCommand[] {
  const { data, orchestrator: o } = deps;
  const Kind = iso ? 'Iso' : 'Template';
  const what = iso ? 'ISO' : 'template';
  const ID = { name: 'id', type: 'uuid', required: true, description: `the ID of the ${what}` } as const;
  return [
    defineCommand({
      name: `update${Kind}`, description: `Updates attributes of a ${what}.`, isAsync: false, access: 'user', objectName: iso ? 'iso' : 'template',
      params: [ID, ...UPDATE_PARAMS],
      async handler({ caller, params }) {
        const patch = present<Parameters<typeof data.templateAdmin.update>[3]>({}, params, UPDATE_FIELDS);
        return objectOf(await data.templateAdmin.update(caller, required(params, 'id'), iso, patch));
      },
    }),
    defineCommand({
      name: `delete${Kind}`, description: `Deletes a ${what} from the system. All virtual machines using the deleted ${what} will not be affected.`,
      isAsync: true, access: 'user',
      params: [ID, { name: 'zoneid', type: 'uuid', description: `the ID of zone of the ${what} (default: every zone)` },
        ...(iso ? [] : [{ name: 'forced', type: 'boolean', description: 'Force delete a template even if VMs use it', since: '4.9+' } as const])],
      async handler({ caller, params }) {
        const zoneid = getString(params, 'zoneid');
        const forced = getBoolean(params, 'forced');
        return asyncReply(await o.submit({ op: 'deleteTemplate', caller: scopeOf(caller), templateid: required(params, 'id'), iso,
          ...(zoneid === undefined ? {} : { zoneid }), ...(forced === undefined ? {} : { forced }) }));
      },
    }),
    defineCommand({
      name: `copy${Kind}`, description: `Copies a ${what} from one zone to another.`, isAsync: true, access: 'user', objectName: iso ? 'iso' : 'template',
      params: [ID, { name: 'sourcezoneid', type: 'uuid', description: `ID of the zone the ${what} is currently hosted on (default: any zone where it is ready)` },
        { name: 'destzoneid', type: 'uuid', description: `ID of the zone the ${what} is being copied to.` },
        { name: 'destzoneids', type: 'list', collectionType: 'uuid', description: `A list of IDs of the zones that the ${what} needs to be copied to.` }],
      async handler({ caller, params }) {
        const sourcezoneid = getString(params, 'sourcezoneid');
        return asyncReply(await o.submit({ op: 'copyTemplate', caller: scopeOf(caller), templateid: required(params, 'id'), iso,
          destzoneids: destZones(params), ...(sourcezoneid === undefined ? {} : { sourcezoneid }) }));
      },
    }),
  ];
}

export function templateAdminCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { data, orchestrator: o } = deps;
  return [
    ...imageCommands(deps, false),
    ...imageCommands(deps, true),
    defineCommand({
      name: 'createTemplate', description: 'Creates a template of a virtual machine. The virtual machine must be in a STOPPED state. A template ' +
        'created from this command is automatically designated as a private template visible to the account that created it.',
      isAsync: true, access: 'user', objectName: 'template',
      params: [{ name: 'name', type: 'string', required: true, description: 'the name of the template' },
        { name: 'displaytext', type: 'string', length: 4096, description: "The display text of the template, defaults to the 'name'." },
        { name: 'ostypeid', type: 'uuid', description: 'the ID of the OS Type that best represents the OS of this template (default: the VM\'s).' },
        { name: 'volumeid', type: 'uuid', description: 'the ID of the disk volume the template is being created from. Either this parameter, or snapshotId has to be passed in' },
        { name: 'snapshotid', type: 'uuid', description: 'the ID of the snapshot the template is being created from. Either this parameter, or volumeId has to be passed in' },
        { name: 'ispublic', type: 'boolean', description: 'true if this template is a public template, false otherwise' },
        { name: 'isfeatured', type: 'boolean', description: 'true if this template is a featured template, false otherwise' },
        { name: 'passwordenabled', type: 'boolean', description: 'true if the template supports the password reset feature; default is false' },
        { name: 'sshkeyenabled', type: 'boolean', description: 'true if the template supports the sshkey upload feature; default is false' },
        { name: 'isdynamicallyscalable', type: 'boolean', description: 'true if template contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory' }],
      async handler({ caller, params }) {
        const req = present<Extract<Parameters<typeof o.submit>[0], { op: 'createTemplate' }>>({ op: 'createTemplate', caller: scopeOf(caller),
          name: required(params, 'name') }, params, ['displaytext', 'ostypeid', 'volumeid', 'snapshotid', 'ispublic', 'isfeatured', 'passwordenabled',
          'sshkeyenabled', 'isdynamicallyscalable']);
        return asyncReply(await o.submit(req));
      },
    }),
    defineCommand({
      name: 'registerIso', description: 'Registers an existing ISO into the CloudStack Cloud.', isAsync: false, access: 'user', objectName: 'iso',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the name of the ISO' },
        { name: 'displaytext', type: 'string', length: 4096, description: "the display text of the ISO, defaults to the 'name'" },
        { name: 'url', type: 'string', required: true, length: 2048, description: 'the URL to where the ISO is currently being hosted' },
        { name: 'zoneid', type: 'string', required: true, description: 'the ID of the zone you wish to register the ISO to (-1: all zones)' },
        { name: 'ostypeid', type: 'uuid', description: 'the ID of the OS type that best represents the OS of this ISO.' },
        { name: 'bootable', type: 'boolean', description: 'true if this ISO is bootable. If not passed explicitly its assumed to be true' },
        { name: 'ispublic', type: 'boolean', description: 'true if you want to register the ISO to be publicly available to all users, false otherwise.' },
        { name: 'isfeatured', type: 'boolean', description: 'true if you want this ISO to be featured' },
        { name: 'isextractable', type: 'boolean', description: 'true if the ISO or its derivatives are extractable; default is false' },
        { name: 'isdynamicallyscalable', type: 'boolean', description: 'true if ISO contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory' },
        { name: 'checksum', type: 'string', description: 'the checksum value of this ISO.' },
        ...ownerParams('ISO'),
      ],
      async handler({ caller, params }) {
        const name = required(params, 'name');
        const zone = required(params, 'zoneid');
        const input = present<Parameters<typeof data.templates.register>[1]>({ name, displaytext: getString(params, 'displaytext') || name,
          format: 'ISO', url: required(params, 'url') }, params, ['ostypeid', 'bootable', 'ispublic', 'isfeatured', 'isextractable',
          'isdynamicallyscalable', 'checksum']);
        if (zone !== '-1') input.zoneids = [zone];
        const accountid = await accountIdFor(deps, caller, params);
        if (accountid !== undefined) input.accountid = accountid;
        const entries = await data.templates.register(caller, input, true);
        return listOf({ count: entries.length, items: entries });
      },
    }),
    defineCommand({
      name: 'attachIso', description: 'Attaches an ISO to a virtual machine.', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the ISO file' },
        { name: 'virtualmachineid', type: 'uuid', required: true, description: 'the ID of the virtual machine' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'attachIso', caller: scopeOf(caller), vmid: required(params, 'virtualmachineid'),
        isoid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'detachIso', description: 'Detaches any ISO file (if any) currently attached to a virtual machine.', isAsync: true, access: 'user',
      objectName: 'virtualmachine',
      params: [{ name: 'virtualmachineid', type: 'uuid', required: true, description: 'The ID of the virtual machine' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'detachIso', caller: scopeOf(caller), vmid: required(params, 'virtualmachineid') })),
    }),
  ];
}
