/**
 * Load balancer rules on public addresses and their members (assign/remove instances). Every change
 * is a job that gives the network element the address's whole load balancing set.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import type { ResponseObject, StreamedListResult } from '../types.js';
import { getBoolean, getList } from '../params.js';
import { listOf, listed, pageOf, required } from './common.js';
import { listRules, ruleInput } from './network-rule-common.js';
import { OWNER_LIST_PARAMS } from './common.js';
import { asyncReply, getString, scopeOf, type OrchestrationDeps } from './orchestration-common.js';

const FIELDS = { privateport: 'privateport', publicport: 'startport', name: 'name', description: 'description', algorithm: 'algorithm',
  networkid: 'networkid', cidrlist: 'cidrlist' } as const;
const RULE_ID = { name: 'id', type: 'uuid', required: true, description: 'the ID of the load balancer rule' } as const;
const VM_IDS = { name: 'virtualmachineids', type: 'list', collectionType: 'uuid', required: true,
  description: 'the list of IDs of the virtual machine that are being assigned to the load balancer rule(i.e. virtualMachineIds=1,2,3)' } as const;

export function loadBalancerCommands(deps: OrchestrationDeps): HandledCommand[] {
  const submit = deps.orchestrator.submit;
  return [
    defineCommand({
      name: 'createLoadBalancerRule', description: 'Creates a load balancer rule', isAsync: true, access: 'user', objectName: 'loadbalancer',
      params: [
        { name: 'name', type: 'string', required: true, description: 'name of the load balancer rule' },
        { name: 'algorithm', type: 'string', required: true, description: 'load balancer algorithm (source, roundrobin, leastconn)' },
        { name: 'privateport', type: 'integer', required: true, description: 'the private port of the private IP address/virtual machine where the network traffic will be load balanced to' },
        { name: 'publicport', type: 'integer', required: true, description: 'the public port from where the network traffic will be load balanced from' },
        { name: 'publicipid', type: 'uuid', required: true, description: 'public IP address ID from where the network traffic will be load balanced from' },
        { name: 'networkid', type: 'uuid', description: 'The guest network this rule will be created for.' },
        { name: 'description', type: 'string', length: 4096, description: 'the description of the load balancer rule' },
        { name: 'protocol', type: 'string', description: 'The protocol for the LB such as tcp, udp (default tcp)' },
        { name: 'cidrlist', type: 'list', description: 'the source CIDR list to allow traffic from' },
        { name: 'openfirewall', type: 'boolean', description: 'if true (default), a firewall rule for the public port is created with the rule' },
        { name: 'zoneid', type: 'uuid', description: 'zone where the load balancer is going to be created' },
        { name: 'fordisplay', type: 'boolean', description: 'an optional field, whether to the display the rule to the end user or not' },
      ],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'createLoadBalancerRule', caller: scopeOf(caller),
        rule: ruleInput({ purpose: 'LoadBalancing', protocol: getString(params, 'protocol') ?? 'tcp', ipaddressid: required(params, 'publicipid'),
          openfirewall: getBoolean(params, 'openfirewall') ?? true }, params, FIELDS) })),
    }),
    defineCommand({
      name: 'updateLoadBalancerRule', description: 'Updates load balancer', isAsync: true, access: 'user', objectName: 'loadbalancer',
      params: [RULE_ID, { name: 'name', type: 'string', description: 'the name of the load balancer rule' },
        { name: 'description', type: 'string', length: 4096, description: 'the description of the load balancer rule' },
        { name: 'algorithm', type: 'string', description: 'load balancer algorithm (source, roundrobin, leastconn)' }],
      async handler({ caller, params }) {
        const req: Parameters<typeof submit>[0] = { op: 'updateLoadBalancerRule', caller: scopeOf(caller), ruleid: required(params, 'id') };
        for (const k of ['name', 'description', 'algorithm'] as const) {
          const v = getString(params, k);
          if (v !== undefined && req.op === 'updateLoadBalancerRule') req[k] = v;
        }
        return asyncReply(await submit(req));
      },
    }),
    defineCommand({
      name: 'deleteLoadBalancerRule', description: 'Deletes a load balancer rule.', isAsync: true, access: 'user', params: [RULE_ID],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'deleteLoadBalancerRule', caller: scopeOf(caller), ruleid: required(params, 'id') })),
    }),
    defineCommand({
      name: 'assignToLoadBalancerRule', description: 'Assigns virtual machine or a list of virtual machines to a load balancer rule.', isAsync: true,
      access: 'user', params: [RULE_ID, VM_IDS],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'assignToLoadBalancerRule', caller: scopeOf(caller), ruleid: required(params, 'id'),
        vmids: [...getList(params, 'virtualmachineids')!] })),
    }),
    defineCommand({
      name: 'removeFromLoadBalancerRule', description: 'Removes a virtual machine or a list of virtual machines from a load balancer rule.', isAsync: true,
      access: 'user', params: [RULE_ID, VM_IDS],
      handler: async ({ caller, params }) => asyncReply(await submit({ op: 'removeFromLoadBalancerRule', caller: scopeOf(caller), ruleid: required(params, 'id'),
        vmids: [...getList(params, 'virtualmachineids')!] })),
    }),
    defineCommand({
      name: 'listLoadBalancerRules', description: 'Lists load balancer rules.', isAsync: false, access: 'user', objectName: 'loadbalancerrule', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'the ID of the load balancer rule' },
        { name: 'name', type: 'string', description: 'the name of the load balancer rule' },
        { name: 'publicipid', type: 'uuid', description: 'the public IP address ID of the load balancer rule' },
        { name: 'virtualmachineid', type: 'uuid', description: 'the ID of the virtual machine of the load balancer rule' },
        { name: 'networkid', type: 'uuid', description: 'list by network ID the rule belongs to' },
        { name: 'zoneid', type: 'uuid', description: 'the availability zone ID' }, ...OWNER_LIST_PARAMS],
      async handler(ctx) {
        const vmid = ctx.params['virtualmachineid'];
        const result = await listRules(deps, ctx, 'LoadBalancing', 'Ingress', ['id', 'name', 'publicipid', 'networkid']);
        if (typeof vmid !== 'string') return result;
        // Filtered here: the rules of the page, or every rule (pagesize=-1: load balancer rules are a few per network).
        const rules = result.kind === 'list' ? result.items : result.kind === 'stream' ? await collect(result) : [];
        const items = [];
        for (const r of rules) if ((await deps.data.ruleSets.lbMembers(ctx.caller, String(r['id']))).includes(vmid)) items.push(r);
        return { kind: 'list', count: items.length, items };
      },
    }),
    defineCommand({
      name: 'listLoadBalancerRuleInstances', description: 'List all virtual machine instances that are assigned to a load balancer rule.',
      isAsync: false, access: 'user', objectName: 'loadbalancerruleinstance', paged: true,
      params: [RULE_ID, { name: 'applied', type: 'boolean', description: 'true if listing all virtual machines currently applied to the load balancer rule' }],
      async handler(ctx) {
        const members = await deps.data.ruleSets.lbMembers(ctx.caller, required(ctx.params, 'id'));
        if (members.length === 0) return { kind: 'list', count: 0, items: [] };
        return listed(ctx, { ids: members, listall: true, ...(ctx.page === undefined ? {} : pageOf(ctx.page)) }, {
          page: (q) => deps.data.vms.list(ctx.caller, q), scan: (q, w) => deps.data.vms.scan(ctx.caller, q, w),
        });
      },
    }),
  ];
}

async function collect(r: StreamedListResult): Promise<ResponseObject[]> {
  const out = [...r.first];
  for await (const chunk of r.rest) out.push(...chunk);
  return out;
}
