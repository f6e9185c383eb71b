/**
 * Changing accounts, users and domains after they exist, as the UI's Accounts, Users and Domains pages
 * do: enable, disable (or lock) and rename accounts; enable, disable, lock and update users; rename and
 * delete (empty) domains. A user or account
 * that is not enabled can neither log in nor sign requests (the data service refuses them); cached
 * API keys of the users concerned are dropped at once. disableAccount and disableUser are async in
 * CloudStack: their job is recorded as done, since the change is one step here.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getString } from '../params.js';
import type { Caller, Params } from '../types.js';
import { accountIdFor, objectOf, required, type CommandDeps } from './common.js';
import { doneJobRecord } from './jobs.js';

const ACCOUNT_REF = [
  { name: 'id', type: 'uuid', description: 'Account id' },
  { name: 'account', type: 'string', description: 'Account name; must be used with domainId' },
  { name: 'domainid', type: 'uuid', description: 'the domain ID of the account; must be used with account' },
] as const;

/** The account named by `id`, or by `account` (+ `domainid`). */
async function accountOf(deps: CommandDeps, caller: Caller, params: Params): Promise<string> {
  const id = getString(params, 'id');
  if (id !== undefined) return id;
  if (getString(params, 'account') === undefined) throw new InvalidParameterError('Either id or account name with domainId must be specified');
  return (await accountIdFor(deps, caller, params))!;
}

/** Drops the cached API keys of every user of an account (its state or name changed). */
async function forgetAccountKeys(deps: CommandDeps, caller: Caller, accountid: string): Promise<void> {
  for (const u of await deps.data.users.all(caller, { accountid, listall: true })) deps.keysChanged(u.id);
}

export function accountAdminCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'enableAccount', description: 'Enables an account', isAsync: false, access: 'domainadmin', objectName: 'account',
      params: [...ACCOUNT_REF],
      async handler({ caller, params }) {
        const id = await accountOf(deps, caller, params);
        const account = await deps.data.accounts.setState(caller, id, 'enabled');
        await forgetAccountKeys(deps, caller, id);
        return objectOf(account);
      },
    }),
    defineCommand({
      name: 'disableAccount', description: 'Disables an account', isAsync: true, access: 'domainadmin', objectName: 'account',
      params: [...ACCOUNT_REF, { name: 'lock', type: 'boolean', required: true, description: 'If true, only lock the account; else disable the account' }],
      async handler(ctx) {
        const { caller, params } = ctx;
        const id = await accountOf(deps, caller, params);
        if (id === caller.accountId) throw new InvalidParameterError('an account cannot disable itself');
        const account = await deps.data.accounts.setState(caller, id, getBoolean(params, 'lock') === true ? 'locked' : 'disabled');
        await forgetAccountKeys(deps, caller, id);
        return doneJobRecord(deps.data, ctx, { cmd: 'org.apache.cloudstack.api.command.admin.account.DisableAccountCmd',
          instancetype: 'Account', instanceid: id }, { account: objectOf(account).object });
      },
    }),
    defineCommand({
      name: 'deleteAccount', description: 'Deletes an account and all users in it (an account that still owns resources is refused: delete them first)',
      isAsync: true, access: 'domainadmin',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'Account id' }],
      async handler(ctx) {
        const id = required(ctx.params, 'id');
        const users = await deps.data.users.all(ctx.caller, { accountid: id, listall: true });
        await deps.data.accounts.remove(ctx.caller, id);
        for (const u of users) deps.keysChanged(u.id);
        return doneJobRecord(deps.data, ctx, { cmd: 'org.apache.cloudstack.api.command.admin.account.DeleteAccountCmd',
          instancetype: 'Account', instanceid: id }, { success: true });
      },
    }),
    defineCommand({
      name: 'updateAccount', description: 'Updates account information for the authenticated user', isAsync: false, access: 'domainadmin',
      objectName: 'account',
      params: [...ACCOUNT_REF, { name: 'newname', type: 'string', required: true, description: 'new name for the account' }],
      async handler({ caller, params }) {
        const id = await accountOf(deps, caller, params);
        return objectOf(await deps.data.accounts.rename(caller, id, required(params, 'newname')));
      },
    }),
    ...(['enabled', 'locked'] as const).map((state) => defineCommand({
      name: state === 'enabled' ? 'enableUser' : 'lockUser',
      description: state === 'enabled' ? 'Enables a user account' : 'Locks a user account',
      isAsync: false, access: 'domainadmin', objectName: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the user' }],
      async handler({ caller, params }) {
        const id = required(params, 'id');
        const user = await deps.data.users.setState(caller, id, state);
        deps.keysChanged(id);
        return objectOf(user);
      },
    })),
    defineCommand({
      name: 'disableUser', description: 'Disables a user account', isAsync: true, access: 'domainadmin', objectName: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the user' }],
      async handler(ctx) {
        const id = required(ctx.params, 'id');
        const user = await deps.data.users.setState(ctx.caller, id, 'disabled');
        deps.keysChanged(id);
        return doneJobRecord(deps.data, ctx, { cmd: 'org.apache.cloudstack.api.command.admin.user.DisableUserCmd',
          instancetype: 'User', instanceid: id }, { user: objectOf(user).object });
      },
    }),
    defineCommand({
      name: 'updateDomain', description: "Updates a domain with a new name", isAsync: false, access: 'domainadmin', objectName: 'domain',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'ID of domain to update' },
        { name: 'name', type: 'string', description: 'updates domain with this name' },
        { name: 'networkdomain', type: 'string', description: "Network domain for the domain's networks; empty string will update domainName with NULL value" }],
      async handler({ caller, params }) {
        const patch: { name?: string; networkdomain?: string } = {};
        const name = getString(params, 'name');
        if (name !== undefined) patch.name = name;
        const networkdomain = getString(params, 'networkdomain');
        if (networkdomain !== undefined) patch.networkdomain = networkdomain;
        return objectOf(await deps.data.domains.update(caller, required(params, 'id'), patch));
      },
    }),
    defineCommand({
      name: 'deleteDomain', description: 'Deletes a specified domain', isAsync: true, access: 'domainadmin',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'ID of domain to delete' },
        { name: 'cleanup', type: 'boolean', description: 'true to delete the domain\'s accounts and sub-domains too; not done here: ' +
          'a domain that still has any is refused either way (delete them first)' }],
      async handler(ctx) {
        const id = required(ctx.params, 'id');
        await deps.data.domains.delete(ctx.caller, id);
        return doneJobRecord(deps.data, ctx, { cmd: 'org.apache.cloudstack.api.command.admin.domain.DeleteDomainCmd',
          instancetype: 'Domain', instanceid: id }, { success: true });
      },
    }),
    defineCommand({
      name: 'deleteUser', description: 'Deletes a user for an account', isAsync: false, access: 'domainadmin',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'id of the user to be deleted' }],
      async handler({ caller, params }) {
        const id = required(params, 'id');
        await deps.data.users.remove(caller, id);
        deps.keysChanged(id);
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'updateUser', description: 'Updates a user account', isAsync: false, access: 'user', objectName: 'user',
      params: [
        { name: 'id', type: 'uuid', required: true, description: 'User uuid' },
        { name: 'firstname', type: 'string', description: 'first name' },
        { name: 'lastname', type: 'string', description: 'last name' },
        { name: 'email', type: 'string', description: 'email' },
        { name: 'timezone', type: 'string', description: 'Specifies a timezone for this command. For more information on the timezone parameter, see Time Zone Format.' },
        { name: 'username', type: 'string', description: 'Unique username' },
      ],
      async handler({ caller, params }) {
        const patch: { firstname?: string; lastname?: string; email?: string; timezone?: string; username?: string } = {};
        for (const k of ['firstname', 'lastname', 'email', 'timezone', 'username'] as const) {
          const v = getString(params, k);
          if (v !== undefined) patch[k] = v;
        }
        return objectOf(await deps.data.users.update(caller, required(params, 'id'), patch));
      },
    }),
  ];
}
