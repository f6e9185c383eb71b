/**
 * listHypervisors: the hypervisor types of the clusters of a zone (or of every zone), as CloudStack
 * lists those a zone can deploy to.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString } from '../params.js';
import type { CommandDeps } from './common.js';

export function hypervisorCommands(deps: CommandDeps): HandledCommand[] {
  return [defineCommand({
    name: 'listHypervisors',
    description: 'List hypervisors',
    isAsync: false,
    access: 'user',
    objectName: 'hypervisor',
    params: [{ name: 'zoneid', type: 'uuid', description: 'the zone id for listing hypervisors.' }],
    response: [{ name: 'name', description: 'Hypervisor name', type: 'string' }],
    async handler({ params, caller }) {
      const zoneid = getString(params, 'zoneid');
      if (zoneid !== undefined) await deps.data.zones.get(caller, zoneid);
      const clusters = await deps.data.zones.allClusters(zoneid === undefined ? {} : { zoneid });
      const names = [...new Set(clusters.map((c) => c.hypervisortype))].sort();
      return { kind: 'list', count: names.length, items: names.map((name) => ({ name })) };
    },
  })];
}
