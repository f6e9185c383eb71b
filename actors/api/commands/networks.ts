/**
 * Guest networks. createNetwork records the network (Isolated and L2: Allocated, implemented on first
 * use by a VM; Shared: Setup with its IP range); deleteNetwork is a job that refuses (536) while VMs
 * still have NICs on it and otherwise gives back its VLAN/VNI and public addresses.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import type { DataApi } from '../../data/protocol.js';
import { OWNER_LIST_PARAMS, accountIdFor, listOf, listed, listParams, objectOf, ownerParams, required } from './common.js';
import { asyncReply, getString, present, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

type CreateNetworkInput = Parameters<DataApi['networks']['create']>[1];

export function networkCommands(deps: OrchestrationDeps): HandledCommand[] {
  const { orchestrator: o, data } = deps;
  return [
    defineCommand({
      name: 'createNetwork', description: 'Creates a network', isAsync: false, access: 'user', objectName: 'network',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the name of the network' },
        { name: 'displaytext', type: 'string', description: 'the display text of the network' },
        { name: 'networkofferingid', type: 'uuid', required: true, description: 'the network offering ID' },
        { name: 'zoneid', type: 'uuid', required: true, description: 'the zone ID for the network' },
        { name: 'gateway', type: 'string', description: 'the gateway of the network (with netmask)' },
        { name: 'netmask', type: 'string', description: 'the netmask of the network (with gateway)' },
        { name: 'startip', type: 'string', description: 'the beginning IP address of a shared network range' },
        { name: 'endip', type: 'string', description: 'the ending IP address of a shared network range' },
        { name: 'vlan', type: 'string', description: 'the ID or VID of the network (offerings with specifyvlan)' },
        { name: 'acltype', type: 'string', description: 'Access control type: Account or Domain' },
        { name: 'networkdomain', type: 'string', description: 'network domain' },
        ...ownerParams('network'),
      ],
      async handler({ caller, params }) {
        const input = present<CreateNetworkInput>({ name: required(params, 'name'), zoneid: required(params, 'zoneid'),
          networkofferingid: required(params, 'networkofferingid') }, params,
        ['displaytext', 'gateway', 'netmask', 'startip', 'endip', 'vlan', 'networkdomain']);
        const acl = getString(params, 'acltype');
        if (acl !== undefined) input.acltype = acl.toLowerCase() === 'domain' ? 'Domain' : 'Account';
        const accountid = await accountIdFor(deps, caller, params);
        if (accountid !== undefined) input.accountid = accountid;
        return objectOf(await data.networks.create(caller, input));
      },
    }),
    defineCommand({
      name: 'deleteNetwork', description: 'Deletes a network', isAsync: true, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the network' },
        { name: 'forced', type: 'boolean', description: 'Force delete a network (accepted; NICs still on it are never orphaned)' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'deleteNetwork', caller: scopeOf(caller), networkid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'restartNetwork',
      description: 'Restarts the network; includes 1) restarting network elements - virtual routers, DHCP servers 2) reapplying all public IPs 3) reapplying loadBalancing/portForwarding rules',
      isAsync: true, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'The ID of the network to restart.' },
        { name: 'cleanup', type: 'boolean', description: 'If cleanup old network elements (accepted: the element is given every rule again either way)' }],
      handler: async ({ caller, params }) => asyncReply(await o.submit({ op: 'restartNetwork', caller: scopeOf(caller), networkid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'listNetworks', description: 'Lists all available networks.', isAsync: false, access: 'user', objectName: 'network', paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'list networks by ID' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the networks' },
        { name: 'name', type: 'string', description: 'list networks by name' },
        { name: 'zoneid', type: 'uuid', description: 'the zone ID of the network' },
        { name: 'type', type: 'string', description: 'the type of the network: Isolated, Shared or L2' },
        { name: 'traffictype', type: 'string', description: 'type of the traffic' },
        { name: 'networkofferingid', type: 'uuid', description: 'list networks by network offering ID' },
        { name: 'acltype', type: 'string', description: 'list networks by ACL (access control list) type: Account or Domain' },
        { name: 'issystem', type: 'boolean', description: 'true if network is system, false otherwise' },
        { name: 'state', type: 'string', description: 'list networks by state' },
        { name: 'vlan', type: 'string', description: 'list networks by VLAN' },
        ...OWNER_LIST_PARAMS,
      ],
      handler: async (ctx) => listed(ctx, listParams(ctx, ['id', 'ids', 'name', 'zoneid', 'type', 'traffictype',
        'networkofferingid', 'acltype', 'issystem', 'state', 'vlan', 'listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => data.networks.list(ctx.caller, q), scan: (q, w) => data.networks.scan(ctx.caller, q, w),
        }),
    }),
  ];
}
