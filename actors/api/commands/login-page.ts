/**
 * What the UI's login page asks before anyone has logged in. CloudStack answers listOauthProvider
 * (an API authenticator) and listGuiThemes without a session; the UI logs out and redirects when
 * either is refused. cloudstackd has neither OAuth providers nor GUI themes, so both list nothing —
 * as CloudStack does when none is configured — and both stay out of listApis, so that the UI shows no
 * page for these features. (listIdps, forgotPassword and cloudianIsEnabled need a
 * session in CloudStack when SAML, password reset and Cloudian are off, and get the same 401 here.)
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';

export function loginPageCommands(): HandledCommand[] {
  return [
    defineCommand({
      name: 'listOauthProvider',
      description: 'List OAuth providers registered',
      isAsync: false,
      access: 'anonymous',
      listed: false,
      objectName: 'oauthprovider',
      since: '4.19.0',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the OAuth provider' },
        { name: 'provider', type: 'string', description: 'Name of the provider' },
      ],
      response: [
        { name: 'id', description: 'ID of the provider', type: 'string' },
        { name: 'provider', description: 'Name of the provider', type: 'string' },
        { name: 'enabled', description: 'Whether the OAuth provider is enabled or not', type: 'boolean' },
      ],
      async handler({ params }) {
        const id = getString(params, 'id');
        // No provider can be registered here, so any id names nothing.
        if (id !== undefined) throw unknownUuidError('listoauthprovider', 'id', id);
        return { kind: 'list', count: 0, items: [] };
      },
    }),
    defineCommand({
      name: 'listGuiThemes',
      description: 'Lists GUI themes.',
      isAsync: false,
      access: 'anonymous',
      listed: false,
      objectName: 'guiThemes',
      since: '4.21.0.0',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'The theme ID.' },
        { name: 'name', type: 'string', description: 'The name of the theme.' },
        { name: 'commonname', type: 'string', description: 'The internet Common Name (CN) to be filtered.' },
        { name: 'domainid', type: 'uuid', description: 'The ID of the domain to be filtered.' },
        { name: 'accountid', type: 'uuid', description: 'The ID of the account to be filtered.' },
        { name: 'listall', type: 'boolean', description: 'Whether to list all themes.' },
        { name: 'showremoved', type: 'boolean', description: 'Whether to list removed themes.' },
        { name: 'showpublic', type: 'boolean', description: 'Whether to list public themes.' },
        { name: 'listonlydefaulttheme', type: 'boolean', description: 'Whether to only list the default theme.' },
      ],
      response: [
        { name: 'id', description: 'ID of the custom GUI theme.', type: 'string' },
        { name: 'name', description: 'Name of the GUI theme.', type: 'string' },
      ],
      async handler({ params }) {
        const id = getString(params, 'id');
        // Themes cannot be created here (createGuiTheme is not served), so any id names nothing.
        if (id !== undefined) throw unknownUuidError('listguithemes', 'id', id);
        return { kind: 'list', count: 0, items: [] };
      },
    }),
  ];
}
