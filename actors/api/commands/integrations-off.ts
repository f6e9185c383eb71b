/**
 * Integrations that CloudStack ships but that are off here, answered as CloudStack answers when they
 * are not configured: the UI asks both right after login, for every user, and logs out when either is
 * refused. LDAP has no configuration (an empty list); the Cloudian connector is disabled. Both stay out
 * of listApis: the UI then shows no page for features cloudstackd does not have.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';

export function integrationsOffCommands(): HandledCommand[] {
  return [
    defineCommand({
      name: 'listLdapConfigurations',
      description: 'Lists all LDAP configurations',
      isAsync: false,
      access: 'user',
      listed: false,
      responseName: 'ldapconfigurationresponse',
      objectName: 'LdapConfiguration',
      since: '4.2.0',
      paged: true,
      params: [
        { name: 'hostname', type: 'string', description: 'Hostname' },
        { name: 'port', type: 'integer', description: 'Port' },
        { name: 'domainid', type: 'uuid', description: 'linked domain' },
        { name: 'listall', type: 'boolean', description: 'If set to true, and no domainid specified, list all LDAP configurations irrespective of the linked domain' },
      ],
      response: [
        { name: 'hostname', description: 'name of the host running the ldap server', type: 'string' },
        { name: 'port', description: 'port the ldap server is running on', type: 'int' },
      ],
      // No LDAP server can be added here (addLdapConfiguration is not served): there is none to list.
      handler: async () => ({ kind: 'list', count: 0, items: [] }),
    }),
    defineCommand({
      name: 'cloudianIsEnabled',
      description: 'Checks if the Cloudian Connector is enabled',
      isAsync: false,
      access: 'user',
      listed: false,
      objectName: 'cloudianisenabled',
      since: '4.11.0',
      params: [],
      response: [
        { name: 'enabled', description: 'the Cloudian connector enabled state', type: 'boolean' },
        { name: 'url', description: 'the Cloudian Management Console base URL', type: 'string' },
      ],
      // cloudstackd has no Cloudian connector: it is off, and has no console URL.
      handler: async () => ({ kind: 'object', object: { enabled: false } }),
    }),
  ];
}
