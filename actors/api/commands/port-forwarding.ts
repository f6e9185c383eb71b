/**
 * Port forwarding rules and a VM's NICs (listNics, which clients read to find the guest address to
 * forward to). A rule's public ports must not overlap another rule on the address (same protocol),
 * and an address with static NAT takes none.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean } from '../params.js';
import { OWNER_LIST_PARAMS, listOf, listParams, required } from './common.js';
import { listRules, ruleInput } from './network-rule-common.js';
import { asyncReply, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const FIELDS = { privateport: 'privateport', privateendport: 'privateendport', publicport: 'startport', publicendport: 'endport',
  virtualmachineid: 'virtualmachineid', vmguestip: 'vmguestip', networkid: 'networkid', cidrlist: 'cidrlist' } as const;

export function portForwardingCommands(deps: OrchestrationDeps): HandledCommand[] {
  const submit = deps.orchestrator.submit;
  return [
    defineCommand({
      name: 'createPortForwardingRule', description: 'Creates a port forwarding rule', isAsync: true, access: 'user', objectName: 'portforwardingrule',
      params: [
        { name: 'ipaddressid', type: 'uuid', required: true, description: 'the IP address id of the port forwarding rule' },
        { name: 'privateport', type: 'integer', required: true, description: "the starting port of port forwarding rule's private port range" },
        { name: 'privateendport', type: 'integer', description: "the ending port of port forwarding rule's private port range" },
        { name: 'protocol', type: 'string', required: true, description: 'the protocol for the port forwarding rule. Valid values are TCP or UDP.' },
        { name: 'publicport', type: 'integer', required: true, description: "the starting port of port forwarding rule's public port range" },
        { name: 'publicendport', type: 'integer', description: "the ending port of port forwarding rule's private port range" },
        { name: 'virtualmachineid', type: 'uuid', required: true, description: 'the ID of the virtual machine for the port forwarding rule' },
        { name: 'vmguestip', type: 'string', description: 'VM guest nic secondary IP address for the port forwarding rule' },
        { name: 'networkid', type: 'uuid', description: 'the network of the virtual machine the port forwarding rule will be created for.' },
        { name: 'cidrlist', type: 'list', description: 'the source CIDR list to allow traffic from' },
        { name: 'openfirewall', type: 'boolean', description: 'if true (default), a firewall rule for the public ports is created with the rule' },
        { name: 'fordisplay', type: 'boolean', description: 'an optional field, whether to the display the rule to the end user or not' },
      ],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'createPortForwardingRule', caller: scopeOf(caller),
        rule: ruleInput({ purpose: 'PortForwarding', protocol: required(params, 'protocol'), ipaddressid: required(params, 'ipaddressid'),
          openfirewall: getBoolean(params, 'openfirewall') ?? true }, params, FIELDS) })),
    }),
    defineCommand({
      name: 'deletePortForwardingRule', description: 'Deletes a port forwarding rule', isAsync: true, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the ID of the port forwarding rule' }],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'deletePortForwardingRule', caller: scopeOf(caller), ruleid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'listPortForwardingRules', description: 'Lists all port forwarding rules for an IP address.', isAsync: false, access: 'user',
      objectName: 'portforwardingrule', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'Lists rule with the specified ID.' },
        { name: 'ipaddressid', type: 'uuid', description: 'the ID of IP address of the port forwarding services' },
        { name: 'networkid', type: 'uuid', description: 'list port forwarding rules for certain network' },
        { name: 'virtualmachineid', type: 'uuid', description: 'list port forwarding rules of a virtual machine' }, ...OWNER_LIST_PARAMS],
      handler: (ctx) => listRules(deps, ctx, 'PortForwarding', 'Ingress', ['id', 'ipaddressid', 'networkid', 'virtualmachineid']),
    }),
    defineCommand({
      name: 'listNics', description: 'list the vm nics  IP to NIC', isAsync: false, access: 'user', objectName: 'nic', paged: true,
      params: [{ name: 'virtualmachineid', type: 'uuid', required: true, description: 'the ID of the vm' },
        { name: 'nicid', type: 'uuid', description: 'the ID of the nic to to list IPs' },
        { name: 'networkid', type: 'uuid', description: 'list nic of the specific vm\'s network' }],
      async handler(ctx) {
        const vm = await deps.data.vms.get(ctx.caller, required(ctx.params, 'virtualmachineid'));
        const p = listParams(ctx, ['networkid']);
        const nicid = ctx.params['nicid'];
        if (typeof nicid === 'string') p['id'] = nicid;
        // One VM's NICs: at most MAX_NICS, within one page.
        const nics = await deps.data.nics.list(ctx.caller, { ...p, virtualmachineid: vm.id, listall: true });
        return listOf({ count: nics.count, items: nics.items.map((n) => ({ ...n, secondaryip: [] })) });
      },
    }),
  ];
}
