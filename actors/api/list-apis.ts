/**
 * listApis, generated from the command table itself (ApiDiscoveryResponse): for every command the
 * caller's role may use, `name, description, since, isasync` (a JSON boolean: csclient's single-executor
 * mode routes on `isasync === true`), `related`, `params[] {name, description, type, length, required,
 * since}` and `response[] {name, description, type}`.
 */
import { InternalError } from '../../src/errors.js';
import { defineCommand, roleAllows, type CommandDefinition, type CommandTable, type HandledCommand } from './command-table.js';
import { DEFAULT_STRING_LENGTH, getString } from './params.js';
import { responseFieldsOf } from './response-fields.js';
import type { ResponseObject } from './types.js';

function describeCommand(def: CommandDefinition): ResponseObject {
  return {
    name: def.name,
    description: def.description,
    since: def.since,
    isasync: def.isAsync,
    related: def.related.length > 0 ? def.related.join(',') : undefined,
    params: def.params.map((p) => ({
      name: p.name,
      description: p.description,
      type: p.type,
      length: p.length ?? DEFAULT_STRING_LENGTH,
      required: p.required === true,
      since: p.since,
    })),
    response: (def.response.length > 0 ? def.response : responseFieldsOf(def.objectName))
      .map((r) => ({ name: r.name, description: r.description, type: r.type })),
  };
}

/** listApis over `getTable()` (a function, because the table it describes includes listApis itself). */
export function createListApisCommand(getTable: () => CommandTable): HandledCommand {
  return defineCommand({
    name: 'listApis',
    description: 'lists all available apis on the server, provided by the Api Discovery plugin',
    isAsync: false,
    access: 'user',
    objectName: 'api',
    since: '4.1.0',
    params: [{ name: 'name', type: 'string', description: 'API name' }],
    response: [
      { name: 'name', description: 'the name of the api command', type: 'string' },
      { name: 'description', description: 'description of the api', type: 'string' },
      { name: 'isasync', description: 'true if api is asynchronous', type: 'boolean' },
      { name: 'params', description: 'the list params the api accepts', type: 'list' },
      { name: 'response', description: 'api response fields', type: 'list' },
    ],
    async handler({ caller, params }) {
      const name = getString(params, 'name');
      const visible = getTable().all().filter((d) => d.listed && d.available() && roleAllows(d.access, caller.role));
      const chosen = name === undefined ? visible : visible.filter((d) => d.name === name);
      if (chosen.length === 0) {
        // ListApisCmd's own error when the discovery service finds nothing.
        throw new InternalError('Api Discovery plugin was unable to find an api by that name or process any apis');
      }
      return { kind: 'list', objectName: 'api', count: chosen.length, items: chosen.map(describeCommand) };
    },
  });
}
