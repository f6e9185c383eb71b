/**
 * Volume commands. createVolume makes an Allocated DATADISK at once (`{id, jobid}`); it is created on
 * primary storage when first attached to a running VM (attached to a stopped one, by the VM's next start,
 * with its other new volumes: until then it stays Allocated). attach, detach and resize are
 * jobs serialised with the VM's other operations; deleteVolume is synchronous and refuses a volume
 * that is attached (536).
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getNumber } from '../params.js';
import type { JobRequest } from '../../orchestrator/protocol.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listed, listParams, ownerParams, required } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const GIB = 1024 ** 3;

export function volumeCommands(deps: OrchestrationDeps): HandledCommand[] {
  return [...volumeAttachCommands(deps), ...volumeUpkeepCommands(deps)];
}

/** Create, attach and detach. */
function volumeAttachCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { orchestrator: o, data } = deps;
  return [
    defineCommand({
      name: 'createVolume',
      description: 'Creates a disk volume from a disk offering. This disk volume must still be attached to a virtual machine to make use of it.',
      isAsync: true, access: 'user', objectName: 'volume',
      params: [
        { name: 'name', type: 'string', description: 'the name of the disk volume' },
        { name: 'zoneid', type: 'uuid', description: 'the ID of the availability zone (default: the zone of virtualmachineid)' },
        { name: 'diskofferingid', type: 'uuid', description: 'the ID of the disk offering' },
        { name: 'size', type: 'long', description: 'Arbitrary volume size in GiB (customized disk offerings)' },
        { name: 'virtualmachineid', type: 'uuid', description: 'the ID of the virtual machine to attach the volume to once created' },
        { name: 'snapshotid', type: 'uuid', description: 'the snapshot ID for the disk volume. Either diskOfferingId or snapshotId must be passed in.' },
        ...ownerParams('disk volume'),
      ],
      async handler({ caller, params }) {
        const vmid = getString(params, 'virtualmachineid');
        const snapshotid = getString(params, 'snapshotid');
        const zoneid = getString(params, 'zoneid') ?? (vmid === undefined ? undefined : (await data.vms.get(caller, vmid)).zoneid)
          ?? (snapshotid === undefined ? undefined : (await data.snapshots.get(caller, snapshotid)).zoneid);
        if (zoneid === undefined) throw new InvalidParameterError('Unable to execute API command createvolume due to missing parameter zoneid');
        const req: Extract<JobRequest, { op: 'createVolume' }> = { op: 'createVolume', caller: scopeOf(caller), zoneid,
          name: getString(params, 'name') ?? `DATA-${deps.newUuid().slice(0, 8)}` };
        const diskofferingid = getString(params, 'diskofferingid');
        const size = getNumber(params, 'size');
        const accountid = await accountIdFor(deps, caller, params);
        if (diskofferingid !== undefined) req.diskofferingid = diskofferingid;
        if (size !== undefined) req.size = size;
        if (accountid !== undefined) req.accountid = accountid;
        if (vmid !== undefined) req.virtualmachineid = vmid;
        if (snapshotid !== undefined) req.snapshotid = snapshotid;
        return asyncReply(await o.submit(req));
      },
    }),
    defineCommand({
      name: 'attachVolume', description: 'Attaches a disk volume to a virtual machine.', isAsync: true, access: 'user', objectName: 'volume',
      params: [
        { name: 'id', type: 'uuid', required: true, description: 'the ID of the disk volume' },
        { name: 'virtualmachineid', type: 'uuid', required: true, description: 'the ID of the virtual machine' },
        { name: 'deviceid', type: 'long', description: 'the device id of the volume on the VM (default: the lowest free one)' },
      ],
      async handler({ caller, params }) {
        const req: Extract<JobRequest, { op: 'attachVolume' }> = { op: 'attachVolume', caller: scopeOf(caller), volumeid: required(params, 'id'),
          vmid: required(params, 'virtualmachineid') };
        const deviceid = getNumber(params, 'deviceid');
        if (deviceid !== undefined) req.deviceid = deviceid;
        return asyncReply(await o.submit(req));
      },
    }),
    defineCommand({
      name: 'detachVolume', description: 'Detaches a disk volume from a virtual machine.', isAsync: true, access: 'user', objectName: 'volume',
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the disk volume' },
        { name: 'virtualmachineid', type: 'uuid', description: 'the ID of the virtual machine (with deviceid)' },
        { name: 'deviceid', type: 'long', description: 'the device ID on the virtual machine (with virtualmachineid)' },
      ],
      async handler({ caller, params }) {
        let volumeid = getString(params, 'id');
        const vmid = getString(params, 'virtualmachineid');
        const deviceid = getNumber(params, 'deviceid');
        if (volumeid === undefined && vmid !== undefined && deviceid !== undefined) {
          // Every volume of the VM (at most MAX_VOLUMES per VM).
          volumeid = (await data.volumes.all(caller, { virtualmachineid: vmid, listall: true })).find((v) => v.deviceid === deviceid)?.id;
          if (volumeid === undefined) throw new InvalidParameterError(`VM ${vmid} has no volume at device id ${deviceid}`);
        }
        if (volumeid === undefined) throw new InvalidParameterError('give the volume id, or virtualmachineid and deviceid');
        return asyncReply(await o.submit({ op: 'detachVolume', caller: scopeOf(caller), volumeid }));
      },
    }),
  ];
}

/** Delete, resize and list. */
function volumeUpkeepCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { orchestrator: o, data } = deps;
  return [
    defineCommand({
      name: 'deleteVolume', description: 'Deletes a detached disk volume.', isAsync: false, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'The ID of the disk volume' }],
      async handler({ caller, params }) {
        await o.execute({ op: 'deleteVolume', caller: scopeOf(caller), volumeid: required(params, 'id') });
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'resizeVolume', description: 'Resizes a volume', isAsync: true, access: 'user', objectName: 'volume',
      params: [
        { name: 'id', type: 'uuid', required: true, description: 'the ID of the disk volume' },
        { name: 'size', type: 'long', description: 'New volume size in GiB' },
        { name: 'diskofferingid', type: 'uuid', description: 'new disk offering id (its size is the new size)' },
        { name: 'shrinkok', type: 'boolean', description: 'Verify OK to Shrink' },
      ],
      async handler({ caller, params }) {
        let gib = getNumber(params, 'size');
        const offering = getString(params, 'diskofferingid');
        if (gib === undefined && offering !== undefined) gib = (await data.offerings.getDisk(caller, offering)).disksize;
        if (gib === undefined || !(gib > 0)) throw new InvalidParameterError('give a positive size (GiB) or a disk offering with a size');
        return asyncReply(await o.submit({ op: 'resizeVolume', caller: scopeOf(caller), volumeid: required(params, 'id'),
          size: Math.round(gib * GIB), shrinkok: getBoolean(params, 'shrinkok') ?? false }));
      },
    }),
    defineCommand({
      name: 'listVolumes', description: 'Lists all volumes.', isAsync: false, access: 'user', objectName: 'volume', paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the disk volume' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the volumes, mutually exclusive with id' },
        { name: 'name', type: 'string', description: 'the name of the disk volume' },
        { name: 'zoneid', type: 'uuid', description: 'the ID of the availability zone' },
        { name: 'podid', type: 'uuid', description: 'the pod id the disk volume belongs to' },
        { name: 'hostid', type: 'uuid', description: 'list volumes on specified host' },
        { name: 'virtualmachineid', type: 'uuid', description: 'the ID of the virtual machine' },
        { name: 'storageid', type: 'string', description: 'the ID of the storage pool' },
        { name: 'diskofferingid', type: 'uuid', description: 'list volumes by disk offering' },
        { name: 'type', type: 'string', description: 'the type of disk volume (ROOT, DATADISK)' },
        { name: 'state', type: 'string', description: 'state of the volume' },
        ...OWNER_LIST_PARAMS,
      ],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'ids', 'name', 'zoneid', 'podid', 'hostid',
        'virtualmachineid', 'storageid', 'diskofferingid', 'type', 'state', 'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => data.volumes.list(ctx.caller, q), scan: (q, w) => data.volumes.scan(ctx.caller, q, w),
        }),
    }),
  ];
}
