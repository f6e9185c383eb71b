/**
 * Domains, accounts, users and API keys. The data service enforces who may create what and who sees
 * what (root admin: everything; domain admin: its domain subtree; user: its own account); the handlers
 * translate parameters and shape responses.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getNumber, getString } from '../params.js';
import type { ParamDef, Params } from '../types.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listed, listParams, objectOf, required, type CommandDeps } from './common.js';

type CreateAccountInput = Parameters<DataApi['accounts']['create']>[1];
type CreateUserInput = Parameters<DataApi['users']['create']>[2];
type CreateDomainInput = Parameters<DataApi['domains']['create']>[1];

/** Copies the optional string parameters that are present onto `target`. */
function copyStrings<T extends object>(target: T, params: Params, names: readonly (keyof T & string)[]): T {
  for (const n of names) {
    const v = getString(params, n);
    if (v !== undefined) (target as Record<string, unknown>)[n] = v;
  }
  return target;
}

const USER_PARAMS: readonly ParamDef[] = [
  { name: 'username', type: 'string', required: true, description: 'Unique username.' },
  {
    name: 'password', type: 'string', required: true,
    description: 'Clear text password (Default hashed to SHA256SALT). If you wish to use any other hashing algorithm, you would need to write a custom authentication adapter See Docs section.',
  },
  { name: 'email', type: 'string', required: true, description: 'email' },
  { name: 'firstname', type: 'string', required: true, description: 'firstname' },
  { name: 'lastname', type: 'string', required: true, description: 'lastname' },
  {
    name: 'timezone', type: 'string',
    description: 'Specifies a timezone for this command. For more information on the timezone parameter, see Time Zone Format.',
  },
];

function userInput(params: Params): CreateUserInput {
  const password = required(params, 'password');
  if (password === '') throw new InvalidParameterError('Empty passwords are not allowed');
  return copyStrings<CreateUserInput>({ username: required(params, 'username'), password }, params,
    ['firstname', 'lastname', 'email', 'timezone']);
}

function domainCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createDomain',
      description: 'Creates a domain',
      isAsync: false,
      access: 'domainadmin',
      objectName: 'domain',
      params: [
        { name: 'name', type: 'string', required: true, description: 'creates domain with this name' },
        { name: 'parentdomainid', type: 'uuid', description: 'assigns new domain a parent domain by domain ID of the parent.  If no parent domain is specified, the ROOT domain is assumed.' },
        { name: 'networkdomain', type: 'string', description: "Network domain for networks in the domain" },
      ],
      async handler({ caller, params }) {
        const input = copyStrings<CreateDomainInput>({ name: required(params, 'name') }, params, ['parentdomainid', 'networkdomain']);
        return objectOf(await deps.data.domains.create(caller, input));
      },
    }),
    defineCommand({
      name: 'listDomains',
      description: 'Lists domains and provides detailed information for listed domains',
      isAsync: false,
      access: 'user',
      objectName: 'domain',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'List domain by domain ID.' },
        { name: 'level', type: 'integer', description: 'List domains by domain level.' },
        { name: 'name', type: 'string', description: 'List domain by domain name.' },
        { name: 'listall', type: 'boolean', description: "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false" },
      ],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['id', 'level', 'name', 'listall']), {
          page: (q) => deps.data.domains.list(ctx.caller, q), scan: (q, w) => deps.data.domains.scan(ctx.caller, q, w),
        });
      },
    }),
  ];
}

/**
 * listDomainChildren (ListDomainChildrenCmd): the sub-domains of `id` (default: the caller's domain),
 * direct ones or with `isrecursive` the whole tree below it, among the domains the caller may see. The
 * UI shows its Domains page only when listApis lists it, and expands the domain tree with it.
 */
function domainChildrenCommand(deps: CommandDeps): HandledCommand {
  return defineCommand({
    name: 'listDomainChildren',
    description: 'Lists all children domains belonging to a specified domain',
    isAsync: false,
    // An admin's and a domain admin's command, as in CloudStack's API reference: a plain user gets no
    // Domains page.
    access: 'domainadmin',
    objectName: 'domain',
    paged: true,
    params: [
      { name: 'id', type: 'uuid', description: 'list children domain by parent domain ID.' },
      { name: 'name', type: 'string', description: 'list children domains by name' },
      { name: 'isrecursive', type: 'boolean', description: 'to return the entire tree, use the value "true". To return the first level children, use the value "false".' },
      { name: 'listall', type: 'boolean', description: "If set to false, list only resources belonging to the command's caller; if set to true - list resources that the caller is authorized to see. Default value is false" },
    ],
    async handler(ctx) {
      // The parent must be a domain the caller may see (an unknown or foreign one is refused, as
      // CloudStack's checkAccess does); its children are then read within the caller's subtree.
      const parent = getString(ctx.params, 'id') ?? ctx.caller.domainId;
      await deps.data.domains.get(ctx.caller, parent);
      const q = { ...listParams(ctx, ['name']), listall: true,
        ...(ctx.params['isrecursive'] === true ? { belowdomainid: parent } : { parentdomainid: parent }) };
      return listed(ctx, q, {
        page: (p) => deps.data.domains.list(ctx.caller, p), scan: (p, w) => deps.data.domains.scan(ctx.caller, p, w),
      });
    },
  });
}

function accountManagementCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createAccount',
      description: 'Creates an account',
      isAsync: false,
      access: 'domainadmin',
      objectName: 'account',
      params: [
        { name: 'account', type: 'string', description: 'Name of the account to be created. The user will be added to this newly created account. If no account is specified, the username will be used as the account name.' },
        { name: 'accounttype', type: 'integer', description: 'Type of the account.  Specify 0 for user, 1 for root admin, and 2 for domain admin' },
        { name: 'roleid', type: 'uuid', description: 'Creates the account under the specified role.' },
        { name: 'domainid', type: 'uuid', description: 'Creates the user under the specified domain.' },
        { name: 'networkdomain', type: 'string', description: "Network domain for the account's networks" },
        ...USER_PARAMS,
      ],
      async handler({ caller, params }) {
        const accounttype = getNumber(params, 'accounttype');
        const roleid = getString(params, 'roleid');
        if (accounttype === undefined && roleid === undefined) {
          throw new InvalidParameterError('Neither account type and role ID are not provided');
        }
        const input: CreateAccountInput = copyStrings<CreateAccountInput>({ ...userInput(params) }, params,
          ['account', 'roleid', 'domainid', 'networkdomain']);
        if (accounttype !== undefined) input.accounttype = accounttype;
        return objectOf(await deps.data.accounts.create(caller, input));
      },
    }),
    defineCommand({
      name: 'listAccounts',
      description: 'Lists accounts and provides detailed account information for listed accounts',
      isAsync: false,
      access: 'user',
      objectName: 'account',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'list account by account ID' },
        { name: 'name', type: 'string', description: 'list account by account name' },
        { name: 'accounttype', type: 'integer', description: 'list accounts by account type. Valid account types are 1 (admin), 2 (domain-admin), and 0 (user).' },
        { name: 'state', type: 'string', description: 'list accounts by state. Valid states are enabled, disabled, and locked.' },
        ...OWNER_LIST_PARAMS.filter((p) => p.name !== 'account'),
      ],
      async handler(ctx) {
        const names = ['id', 'name', 'accounttype', 'state', 'listall', 'domainid', 'isrecursive'];
        return listed(ctx, listParams(ctx, names), {
          page: (q) => deps.data.accounts.list(ctx.caller, q), scan: (q, w) => deps.data.accounts.scan(ctx.caller, q, w),
        });
      },
    }),
  ];
}

function userCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createUser',
      description: 'Creates a user for an account that already exists',
      isAsync: false,
      access: 'domainadmin',
      objectName: 'user',
      params: [
        { name: 'account', type: 'string', required: true, description: 'Creates the user under the specified account. If no account is specified, the username will be used as the account name.' },
        { name: 'domainid', type: 'uuid', description: 'Creates the user under the specified domain. Has to be accompanied with the account parameter' },
        ...USER_PARAMS,
      ],
      async handler({ caller, params }) {
        const accountId = await accountIdFor(deps, caller, params);
        return objectOf(await deps.data.users.create(caller, accountId!, userInput(params)));
      },
    }),
    defineCommand({
      name: 'listUsers',
      description: 'Lists user accounts',
      isAsync: false,
      access: 'user',
      objectName: 'user',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'List user by ID.' },
        { name: 'username', type: 'string', description: 'List user by the username' },
        { name: 'state', type: 'string', description: 'List users by state of the user account.' },
        { name: 'accountid', type: 'uuid', description: 'List users by account ID' },
        ...OWNER_LIST_PARAMS,
      ],
      async handler(ctx) {
        const names = ['id', 'username', 'state', 'accountid', 'listall', 'domainid', 'isrecursive', 'account'];
        const p = listParams(ctx, names);
        // Naming the account (by id) is enough, as naming one user by id is: scoping still limits it to
        // what the caller may see.
        if (p['accountid'] !== undefined) p['listall'] = true;
        return listed(ctx, p, {
          page: (q) => deps.data.users.list(ctx.caller, q), scan: (q, w) => deps.data.users.scan(ctx.caller, q, w),
        });
      },
    }),
    defineCommand({
      name: 'registerUserKeys',
      description: 'This command allows a user to register for the developer API, returning a secret key and an API key. This request is made through the integration API port, so it is a privileged command and must be made on behalf of a user. It is up to the implementer just how the username and password are entered, and then how that translates to an integration API request. Both secret key and API key should be returned to the user',
      isAsync: false,
      access: 'user',
      objectName: 'userkeys',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'User id' }],
      async handler({ caller, params }) {
        const id = required(params, 'id');
        const keys = await deps.data.users.registerKeys(caller, id);
        deps.keysChanged(id);
        return objectOf(keys);
      },
    }),
    defineCommand({
      name: 'getUserKeys',
      description: 'This command allows the user to query the seceret and API keys for the account',
      isAsync: false,
      access: 'user',
      objectName: 'userkeys',
      since: '4.10.0',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'ID of the user whose keys are required' }],
      async handler({ caller, params }) {
        // A user without keys answers `{"userkeys":{}}`, as GetUserKeysCmd does.
        return objectOf((await deps.data.users.getKeys(caller, required(params, 'id'))) ?? {});
      },
    }),
  ];
}

/** Domains, accounts, users and keys. */
export function accountCommands(deps: CommandDeps): HandledCommand[] {
  return [...domainCommands(deps), domainChildrenCommand(deps), ...accountManagementCommands(deps), ...userCommands(deps)];
}
