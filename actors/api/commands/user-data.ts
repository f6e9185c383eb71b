/**
 * User data: registered user data (registerUserData, listUserData, deleteUserData), a VM's user data
 * (getVirtualMachineUserData), and the synchronous VM updates that carry it (updateVirtualMachine)
 * together with changeServiceForVirtualMachine.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean } from '../params.js';
import type { ParamDef } from '../types.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listParams, objectOf, ownerParams, required, listed } from './common.js';
import { detailNumber, detailsOf, getString, present, type OrchestrationDeps } from './orchestration-common.js';

const VM_ID: ParamDef = { name: 'id', type: 'uuid', required: true, description: 'The ID of the virtual machine' };

export function userDataCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { data } = deps;
  return [
    defineCommand({
      name: 'registerUserData', description: 'Register a new userdata.', isAsync: false, access: 'user', objectName: 'userdata', since: '4.18',
      params: [
        { name: 'name', type: 'string', required: true, description: 'Name of the userdata' },
        { name: 'userdata', type: 'string', required: true, length: 1_048_576, description: 'base64 encoded userdata content (up to 32 KB)' },
        { name: 'params', type: 'string', description: 'comma separated list of variables declared in userdata content' },
        ...ownerParams('userdata'),
      ],
      async handler({ caller, params }) {
        const input = present<Parameters<typeof data.userData.register>[1]>({ name: required(params, 'name'), userdata: required(params, 'userdata') },
          params, ['params']);
        const accountid = await accountIdFor(deps, caller, params);
        if (accountid !== undefined) input.accountid = accountid;
        return objectOf(await data.userData.register(caller, input));
      },
    }),
    defineCommand({
      name: 'listUserData', description: 'List registered userdatas', isAsync: false, access: 'user', objectName: 'userdata', paged: true, since: '4.18',
      params: [{ name: 'id', type: 'uuid', description: 'the ID of the Userdata' }, { name: 'name', type: 'string', description: 'Userdata name to look for' },
        ...OWNER_LIST_PARAMS],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'name', 'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => data.userData.list(ctx.caller, q), scan: (q, w) => data.userData.scan(ctx.caller, q, w),
        }),
    }),
    defineCommand({
      name: 'deleteUserData', description: 'Deletes a userdata', isAsync: false, access: 'user', since: '4.18',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the Userdata' }, ...ownerParams('userdata')],
      async handler({ caller, params }) {
        await data.userData.delete(caller, required(params, 'id'));
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'getVirtualMachineUserData', description: 'Returns user data associated with the VM', isAsync: false, access: 'user',
      objectName: 'virtualmachineuserdata',
      params: [{ name: 'virtualmachineid', type: 'uuid', required: true, description: 'The ID of the virtual machine' }],
      handler: async ({ caller, params }) => objectOf(await data.userData.forVm(caller, required(params, 'virtualmachineid'))),
    }),
    defineCommand({
      name: 'updateVirtualMachine', description: 'Updates properties of a virtual machine. The VM has to be stopped and restarted for the ' +
        'new properties to take effect. UpdateVirtualMachine does not first check whether the VM is stopped.',
      isAsync: false, access: 'user', objectName: 'virtualmachine',
      params: [VM_ID,
        { name: 'displayname', type: 'string', description: 'user generated name' },
        { name: 'name', type: 'string', length: 63, description: 'new host name of the vm; the VM must be stopped' },
        { name: 'group', type: 'string', description: 'group of the virtual machine ("" leaves every group)' },
        { name: 'haenable', type: 'boolean', description: 'true if high-availability is enabled for the virtual machine' },
        { name: 'ostypeid', type: 'uuid', description: 'the ID of the OS type that best represents this VM' },
        { name: 'userdata', type: 'string', length: 1_048_576, description: 'base64 user data, up to 32 KB through POST' },
        { name: 'userdataid', type: 'uuid', description: 'the ID of the registered userdata' },
        { name: 'isdynamicallyscalable', type: 'boolean', description: 'true if VM contains XS/VMWare tools inorder to support dynamic scaling' },
        { name: 'details', type: 'map', description: 'Details in key/value pairs' }],
      async handler({ caller, params }) {
        const id = required(params, 'id');
        const vm = await data.vms.get(caller, id);
        const patch = present<Parameters<typeof data.vmOps.update>[2]>({}, params, ['displayname', 'name', 'group', 'haenable', 'ostypeid',
          'isdynamicallyscalable']);
        if (patch.name !== undefined && patch.name !== vm.name && vm.state !== 'Stopped') {
          throw new InvalidParameterError(`Unable to change the name of VM ${vm.name}: it is ${vm.state}; stop it first`);
        }
        const details = detailsOf(params);
        if (details !== undefined) patch.details = details;
        if (Object.keys(patch).length > 0) await data.vmOps.update(caller, id, patch);
        const userdata = getString(params, 'userdata');
        const userdataid = getString(params, 'userdataid');
        if (userdata !== undefined || userdataid !== undefined) {
          await data.userData.setForVm(caller, id, { ...(userdata === undefined ? {} : { userdata }), ...(userdataid === undefined ? {} : { userdataid }) });
        }
        return objectOf(await data.vms.get(caller, id));
      },
    }),
    defineCommand({
      name: 'changeServiceForVirtualMachine', description: 'Changes the service offering for a virtual machine. The virtual machine must be in ' +
        'a "Stopped" state for this command to take effect.', isAsync: false, access: 'user', objectName: 'virtualmachine',
      params: [VM_ID, { name: 'serviceofferingid', type: 'uuid', required: true, description: 'the service offering ID to apply to the virtual machine' },
        { name: 'details', type: 'map', description: 'cpuNumber, cpuSpeed, memory for a customized offering' }],
      async handler({ caller, params }) {
        const id = required(params, 'id');
        const vm = await data.vms.get(caller, id);
        if (vm.state !== 'Stopped') {
          throw new InvalidParameterError(`Unable to upgrade virtual machine ${vm.name}: it is ${vm.state}; stop it first or use scaleVirtualMachine`);
        }
        const details = detailsOf(params);
        const input: Parameters<typeof data.vmOps.scale>[2] = { serviceofferingid: required(params, 'serviceofferingid') };
        const cpu = detailNumber(details, 'cpuNumber');
        const speed = detailNumber(details, 'cpuSpeed');
        const memory = detailNumber(details, 'memory');
        if (cpu !== undefined) input.cpunumber = cpu;
        if (speed !== undefined) input.cpuspeed = speed;
        if (memory !== undefined) input.memory = memory;
        return objectOf(await data.vmOps.scale(caller, id, input));
      },
    }),
  ];
}

export { getBoolean };
