/**
 * Firewall rules on public addresses (ingress) and on isolated networks (egress). Creating and deleting
 * are jobs that apply the address's (or network's) whole set to the network element; conflicts are
 * checked as CloudStack's FirewallManagerImpl checks them.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import type { ParamDef } from '../types.js';
import { OWNER_LIST_PARAMS, required } from './common.js';
import { listRules, ruleInput } from './network-rule-common.js';
import { asyncReply, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const RULE_PARAMS: readonly ParamDef[] = [
  { name: 'protocol', type: 'string', required: true, description: 'the protocol for the firewall rule. Valid values are TCP/UDP/ICMP (and ALL for egress).' },
  { name: 'startport', type: 'integer', description: 'the starting port of firewall rule' },
  { name: 'endport', type: 'integer', description: 'the ending port of firewall rule' },
  { name: 'cidrlist', type: 'list', description: 'the source CIDR list to allow traffic from. Multiple entries must be separated by a single comma character (,).' },
  { name: 'icmptype', type: 'integer', description: 'type of the ICMP message being sent' },
  { name: 'icmpcode', type: 'integer', description: 'error code for this ICMP message' },
  { name: 'type', type: 'string', description: 'type of firewall rule: system/user' },
  { name: 'fordisplay', type: 'boolean', description: 'an optional field, whether to the display the rule to the end user or not' },
];
const FIELDS = { protocol: 'protocol', startport: 'startport', endport: 'endport', cidrlist: 'cidrlist', icmptype: 'icmptype', icmpcode: 'icmpcode',
  destcidrlist: 'destcidrlist' } as const;
const ID = { name: 'id', type: 'uuid', required: true, description: 'the ID of the firewall rule' } as const;

export function firewallCommands(deps: OrchestrationDeps): HandledCommand[] {
  const submit = deps.orchestrator.submit;
  return [
    defineCommand({
      name: 'createFirewallRule', description: 'Creates a firewall rule for a given IP address', isAsync: true, access: 'user', objectName: 'firewallrule',
      params: [{ name: 'ipaddressid', type: 'uuid', required: true, description: 'the IP address id of the firewall rule' }, ...RULE_PARAMS],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'createFirewallRule', caller: scopeOf(caller),
        rule: ruleInput({ purpose: 'Firewall', protocol: required(params, 'protocol'), ipaddressid: required(params, 'ipaddressid') }, params, FIELDS) })),
    }),
    defineCommand({
      name: 'deleteFirewallRule', description: 'Deletes a firewall rule', isAsync: true, access: 'user', params: [ID],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'deleteFirewallRule', caller: scopeOf(caller), ruleid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'listFirewallRules', description: 'Lists all firewall rules for an IP address.', isAsync: false, access: 'user', objectName: 'firewallrule', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'Lists rule with the specified ID.' },
        { name: 'ipaddressid', type: 'uuid', description: 'the ID of IP address of the firewall services' },
        { name: 'networkid', type: 'uuid', description: 'list firewall rules for certain network' }, ...OWNER_LIST_PARAMS],
      handler: (ctx) => listRules(deps, ctx, 'Firewall', 'Ingress', ['id', 'ipaddressid', 'networkid']),
    }),
    defineCommand({
      name: 'createEgressFirewallRule', description: 'Creates a egress firewall rule for a given network', isAsync: true, access: 'user',
      objectName: 'firewallrule',
      params: [{ name: 'networkid', type: 'uuid', required: true, description: 'the network id of the port forwarding rule' }, ...RULE_PARAMS,
        { name: 'destcidrlist', type: 'list', description: 'the cidr list to forward traffic to. Multiple entries must be separated by a single comma character (,).' }],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'createEgressFirewallRule', caller: scopeOf(caller),
        rule: ruleInput({ purpose: 'Firewall', traffictype: 'Egress', protocol: required(params, 'protocol'), networkid: required(params, 'networkid') },
          params, FIELDS) })),
    }),
    defineCommand({
      name: 'deleteEgressFirewallRule', description: 'Deletes an egress firewall rule', isAsync: true, access: 'user', params: [ID],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'deleteEgressFirewallRule', caller: scopeOf(caller), ruleid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'listEgressFirewallRules', description: 'Lists all egress firewall rules for network ID.', isAsync: false, access: 'user',
      objectName: 'firewallrule', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'Lists rule with the specified ID.' },
        { name: 'networkid', type: 'uuid', description: 'the network ID for the egress firewall services' }, ...OWNER_LIST_PARAMS],
      handler: (ctx) => listRules(deps, ctx, 'Firewall', 'Egress', ['id', 'networkid']),
    }),
  ];
}
