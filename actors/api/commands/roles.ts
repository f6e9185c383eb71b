/**
 * listRoles: the built-in roles an account can be created with (the UI's Add Account form asks for
 * them). Roles cannot be created or changed here, so there is no create/update/delete to list.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { CommandDeps } from './common.js';

export function roleCommands(deps: CommandDeps): HandledCommand[] {
  return [defineCommand({
    name: 'listRoles',
    description: 'Lists dynamic roles in CloudStack',
    isAsync: false,
    access: 'domainadmin',
    objectName: 'role',
    paged: true,
    since: '4.9.0',
    params: [
      { name: 'id', type: 'uuid', description: 'List role by role ID.' },
      { name: 'name', type: 'string', description: 'List role by role name.' },
      { name: 'type', type: 'string', description: 'List role by role type, valid options are: Admin, ResourceAdmin, DomainAdmin, User.' },
    ],
    response: [
      { name: 'id', description: 'the ID of the role', type: 'string' },
      { name: 'name', description: 'the name of the role', type: 'string' },
      { name: 'type', description: 'the type of the role', type: 'string' },
      { name: 'description', description: 'the description of the role', type: 'string' },
      { name: 'isdefault', description: 'true if role is default, false otherwise', type: 'boolean' },
      { name: 'state', description: 'the state of the role', type: 'string' },
    ],
    async handler({ params, caller, page }) {
      const id = getString(params, 'id');
      const name = getString(params, 'name')?.toLowerCase();
      const type = getString(params, 'type')?.toLowerCase();
      const keyword = getString(params, 'keyword')?.toLowerCase();
      const all = await deps.data.accounts.roles();
      if (id !== undefined && !all.some((r) => r.id === id)) throw unknownUuidError('listroles', 'id', id);
      // A domain admin may give only the roles below the root admin's.
      const mayUse = all.filter((r) => caller.role === 'admin' || r.type !== 'Admin');
      const matches = mayUse.filter((r) => (id === undefined || r.id === id) && (name === undefined || r.name.toLowerCase() === name) &&
        (type === undefined || r.type.toLowerCase() === type) && (keyword === undefined || r.name.toLowerCase().includes(keyword)));
      const start = page?.startIndex ?? 0;
      const items = page?.pageSize === undefined ? matches.slice(start) : matches.slice(start, start + page.pageSize);
      return { kind: 'list', count: matches.length, items: items.map((r) => ({ ...r, isdefault: true, state: 'ENABLED' })) };
    },
  })];
}
