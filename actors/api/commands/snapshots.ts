/**
 * Volume snapshots: createSnapshot makes the snapshot Allocated at once (`{id, jobid}`) and its job
 * takes it to BackedUp (the volume is Snapshotting meanwhile); deleteSnapshot is a job too.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import type { JobRequest } from '../../orchestrator/protocol.js';
import { OWNER_LIST_PARAMS, listOf, listed, listParams, required } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

export function snapshotCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { orchestrator: o, data } = deps;
  return [
    defineCommand({
      name: 'createSnapshot', description: 'Creates an instant snapshot of a volume.', isAsync: true, access: 'user', objectName: 'snapshot',
      params: [
        { name: 'volumeid', type: 'uuid', required: true, description: 'The ID of the disk volume' },
        { name: 'name', type: 'string', description: 'the name of the snapshot' },
      ],
      async handler({ caller, params }) {
        const req: Extract<JobRequest, { op: 'createSnapshot' }> = { op: 'createSnapshot', caller: scopeOf(caller), volumeid: required(params, 'volumeid') };
        const name = getString(params, 'name');
        if (name !== undefined) req.name = name;
        return asyncReply(await o.submit(req));
      },
    }),
    defineCommand({
      name: 'deleteSnapshot', description: 'Deletes a snapshot of a disk volume.', isAsync: true, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'The ID of the snapshot' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'deleteSnapshot', caller: scopeOf(caller), snapshotid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'listSnapshots', description: 'Lists all available snapshots for the account.', isAsync: false, access: 'user',
      objectName: 'snapshot', paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'lists snapshot by snapshot ID' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the snapshots, mutually exclusive with id' },
        { name: 'name', type: 'string', description: 'lists snapshot by snapshot name' },
        { name: 'volumeid', type: 'uuid', description: 'the ID of the disk volume' },
        { name: 'zoneid', type: 'uuid', description: 'list snapshots by zone id' },
        { name: 'snapshottype', type: 'string', description: 'valid values are MANUAL or RECURRING.' },
        { name: 'intervaltype', type: 'string', description: 'valid values are HOURLY, DAILY, WEEKLY, and MONTHLY.' },
        { name: 'state', type: 'string', description: 'state of the snapshot' },
        ...OWNER_LIST_PARAMS,
      ],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'ids', 'name', 'volumeid', 'zoneid',
        'snapshottype', 'intervaltype', 'state', 'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => data.snapshots.list(ctx.caller, q), scan: (q, w) => data.snapshots.scan(ctx.caller, q, w),
        }),
    }),
  ];
}
