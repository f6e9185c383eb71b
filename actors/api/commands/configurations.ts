/**
 * Global settings (listConfigurations, updateConfiguration): only the settings cloudstackd really
 * reads — each where it is used, at every use, so a change applies at once (`isdynamic`). None of them
 * can be set per zone, cluster, pool, account or domain: asked for such a scope, the list is empty and
 * an update is refused.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString } from '../params.js';
import type { ParamDef, ResponseObject } from '../types.js';
import { listParams, listed, required, type CommandDeps } from './common.js';

const SCOPES: readonly ParamDef[] = [
  { name: 'zoneid', type: 'uuid', description: 'the ID of the Zone to update the parameter value for corresponding zone' },
  { name: 'clusterid', type: 'uuid', description: 'the ID of the Cluster to update the parameter value for corresponding cluster' },
  { name: 'storageid', type: 'uuid', description: 'the ID of the Storage pool to update the parameter value for corresponding storage pool' },
  { name: 'accountid', type: 'uuid', description: 'the ID of the Account to update the parameter value for corresponding account' },
  { name: 'domainid', type: 'uuid', description: 'the ID of the Domain to update the parameter value for corresponding domain' },
  { name: 'imagestoreuuid', type: 'uuid', description: 'the ID of the Image Store to update the parameter value for corresponding image store' },
];

const RESPONSE = [
  { name: 'name', description: 'the name of the configuration', type: 'string' },
  { name: 'value', description: 'the value of the configuration', type: 'string' },
  { name: 'defaultvalue', description: 'the default value of the configuration', type: 'string' },
  { name: 'category', description: 'the category of the configuration', type: 'string' },
  { name: 'description', description: 'the description of the configuration', type: 'string' },
  { name: 'isdynamic', description: 'true if the configuration is dynamic', type: 'boolean' },
  { name: 'type', description: 'the type of the configuration value', type: 'string' },
  { name: 'displaytext', description: 'the display text of the configuration', type: 'string' },
];

function scoped(params: Record<string, unknown>): string | undefined {
  return SCOPES.map((s) => s.name).find((n) => params[n] !== undefined);
}

/** ConfigurationResponse: what the data service keeps, and how the setting is read. */
function describe(c: { name: string; value?: string; defaultvalue?: string; category: string; description?: string }): ResponseObject {
  const numeric = c.defaultvalue !== undefined && Number.isFinite(Number(c.defaultvalue));
  return { ...c, isdynamic: true, type: numeric ? 'Number' : 'String', displaytext: c.name, scope: 'global' };
}

export function configurationCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'listConfigurations',
      description: 'Lists all configurations.',
      isAsync: false,
      access: 'admin',
      objectName: 'configuration',
      paged: true,
      params: [
        { name: 'name', type: 'string', description: 'lists configuration by name' },
        { name: 'category', type: 'string', description: 'lists configurations by category' },
        ...SCOPES,
      ],
      response: RESPONSE,
      async handler(ctx) {
        if (scoped(ctx.params) !== undefined) return { kind: 'list', count: 0, items: [] };
        return listed(ctx, listParams(ctx, ['name', 'category']), {
          page: (q) => deps.data.config.listSettings(q), scan: (q, w) => deps.data.config.scanSettings(q, w),
        }, describe);
      },
    }),
    defineCommand({
      name: 'updateConfiguration',
      description: 'Updates a configuration.',
      isAsync: false,
      access: 'admin',
      objectName: 'configuration',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the name of the configuration' },
        { name: 'value', type: 'string', length: 4095, description: 'the value of the configuration' },
        ...SCOPES,
      ],
      response: RESPONSE,
      async handler({ params }) {
        const name = required(params, 'name');
        const scope = scoped(params);
        if (scope !== undefined) throw new InvalidParameterError(`${name} is a global setting here; it cannot be set for a ${scope.replace(/id$|uuid$/, '')}`);
        const value = getString(params, 'value') ?? '';
        return { kind: 'object', object: describe(await deps.data.config.update(name, value)) };
      },
    }),
  ];
}
