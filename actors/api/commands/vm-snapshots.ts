/** VM snapshots (createVMSnapshot, listVMSnapshot, revertToVMSnapshot, deleteVMSnapshot), as jobs under their VM's lock. */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean } from '../params.js';
import { OWNER_LIST_PARAMS, listOf, listParams, required, listed } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const SNAP_ID = { name: 'vmsnapshotid', type: 'uuid', required: true, description: 'The ID of the VM snapshot' } as const;

export function vmSnapshotCommands(deps: OrchestrationDeps): HandledCommand[] {
  const o = deps.orchestrator;
  return [
    defineCommand({
      name: 'createVMSnapshot', description: 'Creates snapshot for a vm.', isAsync: true, access: 'user', objectName: 'vmsnapshot',
      params: [{ name: 'virtualmachineid', type: 'uuid', required: true, description: 'The ID of the vm' },
        { name: 'name', type: 'string', description: 'The display name of the snapshot' },
        { name: 'description', type: 'string', length: 4096, description: 'The description of the snapshot' },
        { name: 'snapshotmemory', type: 'boolean', description: 'snapshot memory if true (the VM must be Running)' },
        { name: 'quiescevm', type: 'boolean', description: 'quiesce vm if true' }],
      async handler({ caller, params }) {
        const name = getString(params, 'name');
        const description = getString(params, 'description');
        const memory = getBoolean(params, 'snapshotmemory');
        return asyncReply(await o.submit({ op: 'createVmSnapshot', caller: scopeOf(caller), vmid: required(params, 'virtualmachineid'),
          ...(name === undefined ? {} : { name }), ...(description === undefined ? {} : { description }),
          ...(memory === undefined ? {} : { snapshotmemory: memory }) }));
      },
    }),
    defineCommand({
      name: 'listVMSnapshot', description: 'List virtual machine snapshot by conditions', isAsync: false, access: 'user', objectName: 'vmSnapshot',
      paged: true,
      params: [{ name: 'vmsnapshotid', type: 'uuid', description: 'The ID of the VM snapshot' },
        { name: 'virtualmachineid', type: 'uuid', description: 'the ID of the vm' },
        { name: 'name', type: 'string', description: 'lists snapshot by snapshot name or display name' },
        { name: 'state', type: 'string', description: 'state of the virtual machine snapshot' }, ...OWNER_LIST_PARAMS],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['vmsnapshotid', 'virtualmachineid', 'name', 'state',
        'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => deps.data.vmSnapshots.list(ctx.caller, q), scan: (q, w) => deps.data.vmSnapshots.scan(ctx.caller, q, w),
        }),
    }),
    defineCommand({
      name: 'revertToVMSnapshot', description: 'Revert VM from a vmsnapshot.', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [SNAP_ID],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'revertToVmSnapshot', caller: scopeOf(caller),
        snapshotid: required(params, 'vmsnapshotid') })),
    }),
    defineCommand({
      name: 'deleteVMSnapshot', description: 'Deletes a vmsnapshot.', isAsync: true, access: 'user', params: [SNAP_ID],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'deleteVmSnapshot', caller: scopeOf(caller),
        snapshotid: required(params, 'vmsnapshotid') })),
    }),
  ];
}
