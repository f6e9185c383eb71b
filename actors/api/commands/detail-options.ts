/**
 * listDetailOptions (ListDetailOptionsCmd, QueryManagerImpl.listDetailOptions): the detail keys a VM or
 * template may be given, with their allowed values, for the Settings tab's key and value suggestions
 * (the UI reads `detailoptions.details` and fails without it). CloudStack offers the keys its hypervisor
 * resources read from the details (keyboard, UEFI, nicAdapter, rootDiskController...). cloudstackd's
 * drivers read none of them, so none is offered: the map is empty, rather than suggesting settings that
 * would be stored and never applied. Other resource types are refused (431; CloudStack answers 530
 * "Resource type not supported." for its other types, 431 for an unknown name).
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { CommandDeps } from './common.js';

type UuidTable = Parameters<DataApi['entities']['exists']>[0];

/** The types whose options CloudStack lists, and the table of their ids. */
const SUPPORTED: Readonly<Record<string, UuidTable>> = { uservm: 'vm_instance', template: 'template' };

export function detailOptionCommands(deps: CommandDeps): HandledCommand[] {
  return [defineCommand({
    name: 'listDetailOptions',
    description: 'Lists all possible details and their options for a resource type such as a VM or a template',
    isAsync: false, access: 'user', objectName: 'detailoptions', since: '4.13',
    params: [
      { name: 'resourcetype', type: 'string', required: true, description: 'the resource type such as UserVm, Template etc.' },
      { name: 'resourceid', type: 'string', description: 'the UUID of the resource (optional)' },
    ],
    response: [{ name: 'details', description: 'Map of all possible details and their possible list of values', type: 'map' }],
    async handler({ params }) {
      const type = getString(params, 'resourcetype')!;
      const table = SUPPORTED[type.toLowerCase()];
      if (table === undefined) throw new InvalidParameterError(`Resource type not supported: ${type} (detail options exist for UserVm and Template)`);
      const id = getString(params, 'resourceid');
      if (id !== undefined && id !== '' && !(await deps.data.entities.exists(table, id))) throw unknownUuidError('listdetailoptions', 'resourceid', id);
      return { kind: 'object', object: { details: {} } };
    },
  })];
}
