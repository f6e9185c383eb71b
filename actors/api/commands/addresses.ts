/**
 * Public IP addresses. associateIpAddress takes a free address at once (`{id, jobid}`; the job puts it
 * to use on its network, implementing the network when needed); disassociateIpAddress is a job.
 * listPublicIpAddresses lists allocated addresses unless `allocatedonly=false`, as CloudStack does.
 * IP forwarding rules (static NAT shown as rules) are not listed as such: their list is honestly empty
 * (`{}`); port forwarding, firewall and static NAT live in their own command files.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean } from '../params.js';
import type { JobRequest } from '../../orchestrator/protocol.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listed, listParams, ownerParams, required } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

export function addressCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { orchestrator: o, data } = deps;
  const noRules = (name: string, objectName: string, description: string): HandledCommand => defineCommand({
    name, description, isAsync: false, access: 'user', objectName, paged: true,
    params: [{ name: 'id', type: 'uuid', description: 'Lists rule with the specified ID' },
      { name: 'ipaddressid', type: 'uuid', description: 'the ID of IP address of the rules' },
      { name: 'virtualmachineid', type: 'uuid', description: 'Lists rules by virtual machine ID' }, ...OWNER_LIST_PARAMS],
    handler: async () => ({ kind: 'list', count: 0, items: [] }),
  });
  return [
    defineCommand({
      name: 'associateIpAddress', description: 'Acquires and associates a public IP to an account.', isAsync: true, access: 'user',
      objectName: 'ipaddress',
      params: [
        { name: 'zoneid', type: 'uuid', description: 'the ID of the availability zone you want to acquire an public IP address from' },
        { name: 'networkid', type: 'uuid', description: 'The network this IP address should be associated to.' },
        { name: 'ipaddress', type: 'string', description: 'IP Address to be associated' },
        ...ownerParams('ip address'),
      ],
      async handler({ caller, params }) {
        const req: Extract<JobRequest, { op: 'associateIp' }> = { op: 'associateIp', caller: scopeOf(caller) };
        const zoneid = getString(params, 'zoneid');
        const networkid = getString(params, 'networkid');
        const ipaddress = getString(params, 'ipaddress');
        const accountid = await accountIdFor(deps, caller, params);
        if (zoneid !== undefined) req.zoneid = zoneid;
        if (networkid !== undefined) req.networkid = networkid;
        if (ipaddress !== undefined) req.ipaddress = ipaddress;
        if (accountid !== undefined) req.accountid = accountid;
        return asyncReply(await o.submit(req));
      },
    }),
    defineCommand({
      name: 'disassociateIpAddress', description: 'Disassociates an IP address from the account.', isAsync: true, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the public IP address to disassociate' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'disassociateIp', caller: scopeOf(caller), ipid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'listPublicIpAddresses', description: 'Lists all public IP addresses', isAsync: false, access: 'user',
      objectName: 'publicipaddress', paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'lists IP address by ID' },
        { name: 'ipaddress', type: 'string', description: 'lists the specified IP address' },
        { name: 'zoneid', type: 'uuid', description: 'lists all public IP addresses by zone ID' },
        { name: 'vlanid', type: 'uuid', description: 'lists all public IP addresses by VLAN ID' },
        { name: 'associatednetworkid', type: 'uuid', description: 'lists all public IP addresses associated to the network specified' },
        { name: 'networkid', type: 'uuid', description: 'lists all public IP addresses by source network ID' },
        { name: 'issourcenat', type: 'boolean', description: 'list only source NAT IP addresses' },
        { name: 'isstaticnat', type: 'boolean', description: 'list only static NAT IP addresses' },
        { name: 'allocatedonly', type: 'boolean', description: 'limits search results to allocated public IP addresses (default true)' },
        { name: 'forvirtualnetwork', type: 'boolean', description: 'the virtual network for the IP address' },
        { name: 'state', type: 'string', description: 'lists all public IP addresses by state' },
        ...OWNER_LIST_PARAMS,
      ],
      async handler(ctx) {
        const p = listParams(ctx, ['id', 'ipaddress', 'zoneid', 'vlanid', 'associatednetworkid', 'networkid', 'issourcenat', 'isstaticnat',
          'forvirtualnetwork', 'state', 'listall', 'domainid', 'isrecursive', 'account']);
        if (getBoolean(ctx.params, 'allocatedonly') !== false) p['allocatedonly'] = true;
        return listed(ctx, p, {
          page: (q) => data.ipAddresses.list(ctx.caller, q), scan: (q, w) => data.ipAddresses.scan(ctx.caller, q, w),
        });
      },
    }),
    noRules('listIpForwardingRules', 'ipforwardingrule', 'List the IP forwarding rules'),
  ];
}
