/**
 * Recurring snapshot policies of a volume (createSnapshotPolicy, updateSnapshotPolicy,
 * listSnapshotPolicies, deleteSnapshotPolicies). One policy per volume and interval type; creating one
 * again for the same interval updates it, as CloudStack does.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList } from '../params.js';
import { OWNER_LIST_PARAMS, listOf, listParams, objectOf, required, type CommandDeps, listed } from './common.js';
import { getNumber, getString } from './orchestration-common.js';

export function snapshotPolicyCommands(deps: CommandDeps): HandledCommand[] {
  const { data } = deps;
  return [
    defineCommand({
      name: 'createSnapshotPolicy', description: 'Creates a snapshot policy for the account.', isAsync: false, access: 'user', objectName: 'snapshotpolicy',
      params: [
        { name: 'volumeid', type: 'uuid', required: true, description: 'the ID of the disk volume' },
        { name: 'intervaltype', type: 'string', required: true, description: 'valid values are HOURLY, DAILY, WEEKLY, and MONTHLY' },
        { name: 'schedule', type: 'string', required: true, description: 'time the snapshot is scheduled to be taken. Format is: * if HOURLY, MM * ' +
          'if DAILY, MM:HH * if WEEKLY, MM:HH:DD (1-7) * if MONTHLY, MM:HH:DD (1-28)' },
        { name: 'maxsnaps', type: 'integer', required: true, description: 'maximum number of snapshots to retain' },
        { name: 'timezone', type: 'string', required: true, description: 'Specifies a timezone for this command.' },
        { name: 'fordisplay', type: 'boolean', description: 'an optional field, whether to the display the policy to the end user or not' },
      ],
      async handler({ caller, params }) {
        const input: Parameters<typeof data.snapshotPolicies.create>[1] = { volumeid: required(params, 'volumeid'),
          intervaltype: required(params, 'intervaltype'), schedule: required(params, 'schedule'), maxsnaps: getNumber(params, 'maxsnaps')!,
          timezone: required(params, 'timezone') };
        const fordisplay = getBoolean(params, 'fordisplay');
        if (fordisplay !== undefined) input.fordisplay = fordisplay;
        return objectOf(await data.snapshotPolicies.create(caller, input));
      },
    }),
    defineCommand({
      name: 'updateSnapshotPolicy', description: 'Updates the snapshot policy.', isAsync: false, access: 'user', objectName: 'snapshotpolicy',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the snapshot policy' },
        { name: 'fordisplay', type: 'boolean', description: 'an optional field, whether to the display the snapshot policy to the end user or not.' }],
      async handler({ caller, params }) {
        const fordisplay = getBoolean(params, 'fordisplay');
        return objectOf(await data.snapshotPolicies.update(caller, required(params, 'id'), fordisplay === undefined ? {} : { fordisplay }));
      },
    }),
    defineCommand({
      name: 'listSnapshotPolicies', description: 'Lists snapshot policies.', isAsync: false, access: 'user', objectName: 'snapshotpolicy', paged: true,
      params: [{ name: 'volumeid', type: 'uuid', description: 'the ID of the disk volume' },
        { name: 'id', type: 'uuid', description: 'the ID of the snapshot policy' },
        { name: 'fordisplay', type: 'boolean', description: 'list resources by display flag' }, ...OWNER_LIST_PARAMS],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['volumeid', 'id', 'fordisplay', 'listall', 'domainid',
        'isrecursive', 'account']), {
          page: (q) => data.snapshotPolicies.list(ctx.caller, q), scan: (q, w) => data.snapshotPolicies.scan(ctx.caller, q, w),
        }),
    }),
    defineCommand({
      name: 'deleteSnapshotPolicies', description: 'Deletes snapshot policies for the account.', isAsync: false, access: 'user',
      params: [{ name: 'id', type: 'uuid', description: 'the Id of the snapshot policy' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'list of snapshots policy IDs separated by comma' }],
      async handler({ caller, params }) {
        const ids = [...(getList(params, 'ids') ?? [])];
        const id = getString(params, 'id');
        if (id !== undefined) ids.push(id);
        await data.snapshotPolicies.delete(caller, ids);
        return { kind: 'success' };
      },
    }),
  ];
}
