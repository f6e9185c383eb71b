/**
 * listRolePermissions: the rules of a built-in role, as they are enforced here — one `allow` rule per
 * command the role may call (the command table's access levels), the commands left out of listApis
 * included. Roles and their rules cannot be changed here, so there is nothing to create or update.
 */
import { createHash } from 'node:crypto';
import { roleAllows, defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { Access, Role } from '../types.js';
import type { CommandDeps } from './common.js';

/** A command as the rules see it. */
export interface RuleSource {
  readonly name: string;
  readonly access: Access;
}

/** listApis is added to every table by the HTTP layer, for every role. */
const HTTP_LAYER_COMMANDS: readonly RuleSource[] = [{ name: 'listApis', access: 'user' }];

const ROLE_OF_TYPE: Readonly<Record<string, Role>> = { Admin: 'admin', DomainAdmin: 'domainadmin', User: 'user' };

function ruleId(roleid: string, rule: string): string {
  const h = createHash('sha1').update(`cloudstackd-role-permission:${roleid}:${rule}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function rolePermissionCommands(deps: CommandDeps, commands: () => readonly RuleSource[]): HandledCommand[] {
  return [defineCommand({
    name: 'listRolePermissions',
    description: 'Lists role permissions',
    isAsync: false,
    access: 'domainadmin',
    objectName: 'rolepermission',
    since: '4.9.0',
    params: [{ name: 'roleid', type: 'uuid', description: 'ID of the role' }],
    response: [
      { name: 'id', description: 'the ID of the role permission', type: 'string' },
      { name: 'roleid', description: 'the ID of the role to which the role permission belongs', type: 'string' },
      { name: 'rolename', description: 'the name of the role to which the role permission belongs', type: 'string' },
      { name: 'rule', description: 'the api name or wildcard rule', type: 'string' },
      { name: 'permission', description: 'the permission type of the api name or wildcard rule, allow/deny', type: 'string' },
      { name: 'description', description: 'the description of the role permission', type: 'string' },
    ],
    async handler({ params, caller }) {
      const roleid = getString(params, 'roleid');
      const roles = (await deps.data.accounts.roles()).filter((r) => caller.role === 'admin' || r.type !== 'Admin');
      if (roleid !== undefined && !roles.some((r) => r.id === roleid)) {
        throw unknownUuidError('listrolepermissions', 'roleid', roleid);
      }
      const names = [...commands(), ...HTTP_LAYER_COMMANDS];
      const items = roles.filter((r) => roleid === undefined || r.id === roleid).flatMap((r) => {
        const role = ROLE_OF_TYPE[r.type];
        // Commands served without a session (the login page's) are allowed to every role too.
        return names.filter((c) => role !== undefined && roleAllows(c.access, role))
          .map((c) => c.name).sort()
          .map((rule) => ({ id: ruleId(r.id, rule), roleid: r.id, rolename: r.name, rule, permission: 'allow',
            description: `${rule} is allowed to ${r.name}` }));
      });
      return { kind: 'list', count: items.length, items };
    },
  })];
}
