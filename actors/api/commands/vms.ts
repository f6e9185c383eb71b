/**
 * Virtual machine commands (reference sections 4 and 6.1). Every state change is a durable job of the
 * orchestrator; deployVirtualMachine creates the VM synchronously (Stopped, with its NICs and volumes)
 * and answers `{id, jobid}`, then starts it in its job unless `startvm=false`. Jobs answer
 * `{"virtualmachine": {...}}` through queryAsyncJobResult.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList } from '../params.js';
import type { Caller, ParamDef, Params } from '../types.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listed, listParams, objectOf, ownerParams, required } from './common.js';
import {
  asyncReply, detailNumber, detailsOf, getString, present, scopeOf, type OrchestrationDeps,
} from './orchestration-common.js';
import type { JobRequest } from '../../orchestrator/protocol.js';

const VM_ID: ParamDef = { name: 'id', type: 'uuid', required: true, description: 'The ID of the virtual machine' };

type DeployInput = Extract<JobRequest, { op: 'deployVm' }>['vm'];

const DEPLOY_PARAMS: readonly ParamDef[] = [
  { name: 'zoneid', type: 'uuid', required: true, description: 'availability zone for the virtual machine' },
  { name: 'serviceofferingid', type: 'uuid', required: true, description: 'the ID of the service offering for the virtual machine' },
  { name: 'templateid', type: 'uuid', required: true, description: 'the ID of the template for the virtual machine' },
  { name: 'name', type: 'string', length: 63, description: 'host name for the virtual machine' },
  { name: 'displayname', type: 'string', description: 'an optional user generated name for the virtual machine' },
  { name: 'networkids', type: 'list', collectionType: 'uuid', description: 'list of network ids used by virtual machine' },
  { name: 'diskofferingid', type: 'uuid', description: 'the ID of the disk offering for an additional data disk' },
  { name: 'size', type: 'long', description: 'the arbitrary size for the DATADISK volume (GiB), for a customized disk offering' },
  { name: 'rootdisksize', type: 'long', description: 'the size of the ROOT disk (GiB), overriding the template size' },
  { name: 'keypair', type: 'string', description: 'name of the ssh key pair used to login to the virtual machine' },
  { name: 'userdata', type: 'string', length: 1_048_576, description: 'base64 user data; up to 32 KB through POST as CloudStack' },
  { name: 'group', type: 'string', description: 'an optional group for the virtual machine' },
  { name: 'userdataid', type: 'uuid', description: 'the ID of the registered userdata' },
  { name: 'affinitygroupids', type: 'list', collectionType: 'uuid', description: 'comma separated list of affinity groups id that are going to be applied to the virtual machine' },
  { name: 'affinitygroupnames', type: 'list', description: 'comma separated list of affinity groups names that are going to be applied to the virtual machine' },
  { name: 'hypervisor', type: 'string', description: 'the hypervisor on which to deploy the virtual machine' },
  { name: 'startvm', type: 'boolean', description: 'true by default; false creates the VM without starting it' },
  { name: 'details', type: 'map', description: 'details: cpuNumber, cpuSpeed, memory for customized offerings' },
  { name: 'hostid', type: 'uuid', description: 'destination host for the virtual machine (root admin only)' },
  ...ownerParams('virtual machine'),
];

function adminOnlyHost(caller: Caller, params: Params): string | undefined {
  const hostid = getString(params, 'hostid');
  if (hostid !== undefined && caller.role !== 'admin') throw new InvalidParameterError('Parameter hostid can only be specified by a Root Admin');
  return hostid;
}

async function deployInput(deps: OrchestrationDeps, caller: Caller, params: Params): Promise<DeployInput> {
  const vm = present<DeployInput>({ zoneid: required(params, 'zoneid'), serviceofferingid: required(params, 'serviceofferingid'),
    templateid: required(params, 'templateid') }, params,
  ['name', 'displayname', 'diskofferingid', 'size', 'rootdisksize', 'keypair', 'userdata', 'group', 'hypervisor']);
  const networkids = getList(params, 'networkids');
  if (networkids !== undefined) vm.networkids = [...networkids];
  const userdataid = getString(params, 'userdataid');
  if (userdataid !== undefined) vm.userdataid = userdataid;
  const agIds = getList(params, 'affinitygroupids');
  const agNames = getList(params, 'affinitygroupnames');
  if (agIds !== undefined) vm.affinitygroupids = [...agIds];
  if (agNames !== undefined) vm.affinitygroupnames = [...agNames];
  const details = detailsOf(params);
  if (details !== undefined) {
    vm.details = details;
    const cpu = detailNumber(details, 'cpuNumber');
    const speed = detailNumber(details, 'cpuSpeed');
    const memory = detailNumber(details, 'memory');
    if (cpu !== undefined) vm.cpunumber = cpu;
    if (speed !== undefined) vm.cpuspeed = speed;
    if (memory !== undefined) vm.memory = memory;
  }
  const accountid = await accountIdFor(deps, caller, params);
  if (accountid !== undefined) vm.accountid = accountid;
  return vm;
}

function vmJob(deps: OrchestrationDeps, name: string, description: string, op: 'rebootVm' | 'expungeVm' | 'resetPassword',
  access: 'user' | 'admin' = 'user'): HandledCommand {
  return defineCommand({
    name, description, isAsync: true, access, objectName: 'virtualmachine', params: [VM_ID],
    handler: async ({ caller, params }) => asyncReply(await deps.orchestrator.submit({ op, caller: scopeOf(caller), vmid: required(params, 'id') })),
  });
}

export function vmCommands(deps: OrchestrationDeps): HandledCommand[] {
  return [...vmLifecycleCommands(deps), ...vmChangeCommands(deps)];
}

/** Deploy, start, stop, reboot, destroy and recover. */
function vmLifecycleCommands(deps: OrchestrationDeps): HandledCommand[] {
  const submit = deps.orchestrator.submit;
  return [
    defineCommand({
      name: 'deployVirtualMachine',
      description: 'Creates and automatically starts a virtual machine based on a service offering, disk offering, and template.',
      isAsync: true, access: 'user', objectName: 'virtualmachine', params: DEPLOY_PARAMS,
      async handler({ caller, params }) {
        const hostid = adminOnlyHost(caller, params);
        const req: Extract<JobRequest, { op: 'deployVm' }> = { op: 'deployVm', caller: scopeOf(caller),
          vm: await deployInput(deps, caller, params), startvm: getBoolean(params, 'startvm') ?? true };
        if (hostid !== undefined) req.hostid = hostid;
        return asyncReply(await submit(req));
      },
    }),
    defineCommand({
      name: 'startVirtualMachine', description: 'Starts a virtual machine.', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [VM_ID, { name: 'hostid', type: 'uuid', description: 'destination host (root admin only)' },
        { name: 'podid', type: 'uuid', description: 'destination Pod ID to deploy the VM to - parameter available for root admin only' },
        { name: 'clusterid', type: 'uuid', description: 'destination Cluster ID to deploy the VM to - parameter available for root admin only' }],
      async handler({ caller, params }) {
        const hostid = adminOnlyHost(caller, params);
        const req: Extract<JobRequest, { op: 'startVm' }> = { op: 'startVm', caller: scopeOf(caller), vmid: required(params, 'id') };
        if (hostid !== undefined) req.hostid = hostid;
        for (const name of ['podid', 'clusterid'] as const) {
          const v = getString(params, name);
          if (v === undefined) continue;
          if (caller.role !== 'admin') throw new InvalidParameterError(`Parameter ${name} can only be specified by a Root Admin`);
          req[name] = v;
        }
        return asyncReply(await submit(req));
      },
    }),
    defineCommand({
      name: 'stopVirtualMachine', description: 'Stops a virtual machine.', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [VM_ID, { name: 'forced', type: 'boolean', description: 'Force stop the VM (it is marked Stopped even when the host does not answer)' }],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'stopVm', caller: scopeOf(caller), vmid: required(params, 'id'),
        forced: getBoolean(params, 'forced') ?? false })),
    }),
    vmJob(deps, 'rebootVirtualMachine', 'Reboots a virtual machine.', 'rebootVm'),
    defineCommand({
      name: 'destroyVirtualMachine', description: 'Destroys a virtual machine.', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [VM_ID, { name: 'expunge', type: 'boolean', description: 'If true, the VM is expunged immediately (it cannot be recovered)' }],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'destroyVm', caller: scopeOf(caller), vmid: required(params, 'id'),
        expunge: getBoolean(params, 'expunge') ?? false })),
    }),
    defineCommand({
      name: 'recoverVirtualMachine', description: 'Recovers a virtual machine.', isAsync: false, access: 'user', objectName: 'virtualmachine',
      params: [VM_ID],
      handler: async ({ caller, params }) => objectOf(await deps.orchestrator.execute({ op: 'recoverVm', caller: scopeOf(caller), vmid: required(params, 'id') })),
    }),
  ];
}

/** Commands that change a VM's size, disk, placement or password, and the VM list. */
function vmChangeCommands(deps: OrchestrationDeps): HandledCommand[] {
  const submit = deps.orchestrator.submit;
  return [
    vmJob(deps, 'expungeVirtualMachine', 'Expunge a virtual machine. Once expunged, it cannot be recoverd.', 'expungeVm', 'admin'),
    defineCommand({
      name: 'scaleVirtualMachine', description: 'Scales the virtual machine to a new service offering.', isAsync: true, access: 'user',
      objectName: 'virtualmachine',
      params: [VM_ID, { name: 'serviceofferingid', type: 'uuid', required: true, description: 'the ID of the service offering for the virtual machine' },
        { name: 'details', type: 'map', description: 'cpuNumber, cpuSpeed, memory for a customized offering' }],
      async handler({ caller, params }) {
        const details = detailsOf(params);
        const req: Extract<JobRequest, { op: 'scaleVm' }> = { op: 'scaleVm', caller: scopeOf(caller), vmid: required(params, 'id'),
          serviceofferingid: required(params, 'serviceofferingid') };
        const cpu = detailNumber(details, 'cpuNumber');
        const speed = detailNumber(details, 'cpuSpeed');
        const memory = detailNumber(details, 'memory');
        if (cpu !== undefined) req.cpunumber = cpu;
        if (speed !== undefined) req.cpuspeed = speed;
        if (memory !== undefined) req.memory = memory;
        return asyncReply(await submit(req));
      },
    }),
    defineCommand({
      name: 'restoreVirtualMachine', description: 'Restore a VM to original template/ISO or new template/ISO', isAsync: true, access: 'user',
      responseName: 'restorevmresponse', objectName: 'virtualmachine',
      params: [{ name: 'virtualmachineid', type: 'uuid', required: true, description: 'Virtual Machine ID' },
        { name: 'templateid', type: 'uuid', description: 'an optional template Id to restore vm from the new template' }],
      async handler({ caller, params }) {
        const req: Extract<JobRequest, { op: 'restoreVm' }> = { op: 'restoreVm', caller: scopeOf(caller), vmid: required(params, 'virtualmachineid') };
        const templateid = getString(params, 'templateid');
        if (templateid !== undefined) req.templateid = templateid;
        return asyncReply(await submit(req));
      },
    }),
    defineCommand({
      name: 'migrateVirtualMachine', description: 'Attempts Migration of a VM to a different host or Root volume of the vm to a different storage pool',
      isAsync: true, access: 'admin', objectName: 'virtualmachine',
      params: [{ name: 'virtualmachineid', type: 'uuid', required: true, description: 'the ID of the virtual machine' },
        { name: 'hostid', type: 'uuid', description: 'Destination Host ID to migrate VM to (default: the planner chooses)' }],
      async handler({ caller, params }) {
        const req: Extract<JobRequest, { op: 'migrateVm' }> = { op: 'migrateVm', caller: scopeOf(caller), vmid: required(params, 'virtualmachineid') };
        const hostid = getString(params, 'hostid');
        if (hostid !== undefined) req.hostid = hostid;
        return asyncReply(await submit(req));
      },
    }),
    vmJob(deps, 'resetPasswordForVirtualMachine', 'Resets the password for virtual machine. The virtual machine must be in a "Stopped" state ' +
      'and the template must already support this feature for this command to take effect.', 'resetPassword'),
    defineCommand({
      name: 'listVirtualMachines', description: 'List the virtual machines owned by the account.', isAsync: false, access: 'user',
      objectName: 'virtualmachine', paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the virtual machine' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the virtual machines, mutually exclusive with id' },
        { name: 'name', type: 'string', description: 'name of the virtual machine' },
        { name: 'state', type: 'string', description: 'state of the virtual machine' },
        { name: 'zoneid', type: 'uuid', description: 'the availability zone ID' },
        { name: 'podid', type: 'uuid', description: 'the pod ID' },
        { name: 'hostid', type: 'uuid', description: 'the host ID' },
        { name: 'templateid', type: 'uuid', description: 'list vms by template' },
        { name: 'serviceofferingid', type: 'uuid', description: 'list by the service offering' },
        { name: 'networkid', type: 'uuid', description: 'list by network id' },
        { name: 'keypair', type: 'string', description: 'list vms by ssh keypair name' },
        { name: 'haenable', type: 'boolean', description: 'list by the High Availability offering' },
        { name: 'hypervisor', type: 'string', description: 'the target hypervisor for the template' },
        ...OWNER_LIST_PARAMS,
      ],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'ids', 'name', 'state', 'zoneid', 'podid',
        'hostid', 'templateid', 'serviceofferingid', 'networkid', 'keypair', 'haenable', 'hypervisor', 'listall', 'domainid',
        'isrecursive', 'account']), {
          page: (q) => deps.data.vms.list(ctx.caller, q), scan: (q, w) => deps.data.vms.scan(ctx.caller, q, w),
        }),
    }),
  ];
}
