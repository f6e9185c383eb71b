/**
 * SSH key pairs, named per account. createSSHKeyPair answers the private key once (it is never
 * stored); create and register answer under `keypair`, the list under `sshkeypair`, as CloudStack does.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { listOf, listed, listParams, objectOf, ownerParams, OWNER_LIST_PARAMS, accountIdFor, required, type CommandDeps } from './common.js';

export function sshKeyCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createSSHKeyPair',
      description: 'Create a new keypair and returns the private key',
      isAsync: false,
      access: 'user',
      objectName: 'keypair',
      params: [
        { name: 'name', type: 'string', required: true, description: 'Name of the keypair' },
        ...ownerParams('ssh key'),
      ],
      async handler({ caller, params }) {
        const accountid = await accountIdFor(deps, caller, params);
        return objectOf(await deps.data.sshKeys.create(caller, required(params, 'name'), accountid));
      },
    }),
    defineCommand({
      name: 'registerSSHKeyPair',
      description: 'Register a public key in a keypair under a certain name',
      isAsync: false,
      access: 'user',
      objectName: 'keypair',
      params: [
        { name: 'name', type: 'string', required: true, description: 'Name of the keypair' },
        { name: 'publickey', type: 'string', required: true, length: 5120, description: 'Public key material of the keypair' },
        ...ownerParams('ssh key'),
      ],
      async handler({ caller, params }) {
        const accountid = await accountIdFor(deps, caller, params);
        return objectOf(await deps.data.sshKeys.register(caller, required(params, 'name'), required(params, 'publickey'), accountid));
      },
    }),
    defineCommand({
      name: 'listSSHKeyPairs',
      description: 'List registered keypairs',
      isAsync: false,
      access: 'user',
      objectName: 'sshkeypair',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the ssh keypair', since: '4.17' },
        { name: 'name', type: 'string', description: 'A key pair name to look for' },
        { name: 'fingerprint', type: 'string', description: 'A public key fingerprint to look for' },
        ...OWNER_LIST_PARAMS,
      ],
      async handler(ctx) {
        const names = ['id', 'name', 'fingerprint', 'listall', 'domainid', 'isrecursive', 'account'];
        return listed(ctx, listParams(ctx, names), {
          page: (q) => deps.data.sshKeys.list(ctx.caller, q), scan: (q, w) => deps.data.sshKeys.scan(ctx.caller, q, w),
        });
      },
    }),
    defineCommand({
      name: 'deleteSSHKeyPair',
      description: 'Deletes a keypair by name',
      isAsync: false,
      access: 'user',
      params: [
        { name: 'name', type: 'string', required: true, description: 'Name of the keypair' },
        ...ownerParams('ssh key'),
      ],
      async handler({ caller, params }) {
        const accountid = await accountIdFor(deps, caller, params);
        await deps.data.sshKeys.delete(caller, required(params, 'name'), accountid);
        return { kind: 'success' };
      },
    }),
  ];
}
