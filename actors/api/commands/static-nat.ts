/**
 * Static NAT: a public address mapped one to one to a VM's guest address. enableStaticNat is
 * synchronous (as in CloudStack) and applies the mapping to the network element before it answers;
 * disableStaticNat is a job. An address with port forwarding or load balancing rules takes no static NAT.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { required } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

export function staticNatCommands(deps: OrchestrationDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'enableStaticNat', description: 'Enables static NAT for given IP address', isAsync: false, access: 'user',
      params: [{ name: 'ipaddressid', type: 'uuid', required: true, description: 'the public IP address ID for which static NAT feature is being enabled' },
        { name: 'virtualmachineid', type: 'uuid', required: true, description: 'the ID of the virtual machine for enabling static NAT feature' },
        { name: 'networkid', type: 'uuid', description: 'The network of the VM the static NAT will be enabled for.' },
        { name: 'vmguestip', type: 'string', description: 'VM guest NIC secondary IP address for the port forwarding rule' }],
      async handler({ caller, params }) {
        const vmguestip = getString(params, 'vmguestip');
        await deps.orchestrator.execute({ op: 'enableStaticNat', caller: scopeOf(caller), ipid: required(params, 'ipaddressid'),
          vmid: required(params, 'virtualmachineid'), ...(vmguestip === undefined ? {} : { vmguestip }) });
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'disableStaticNat', description: "Disables static rule for given IP address", isAsync: true, access: 'user',
      params: [{ name: 'ipaddressid', type: 'uuid', required: true, description: 'the public IP address ID for which static NAT feature is being disabled' }],
      handler: async ({ caller, params }) => asyncReply(await deps.orchestrator.submit({ op: 'disableStaticNat', caller: scopeOf(caller),
        ipid: required(params, 'ipaddressid') })),
    }),
  ];
}
