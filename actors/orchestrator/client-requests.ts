import { t } from '../../src/schema.js';
import { CallerSchema } from '../data/protocol.js';

/**
 * The job and synchronous requests of the automation clients' commands (tags, network rules, static
 * NAT, load balancer members, affinity groups), spread into the orchestrator's request unions. Kept
 * apart so that protocol.ts only lists them.
 */

const id = () => t.string({ minLength: 1, maxLength: 255 });
const str = (max = 255) => t.optional(t.string({ maxLength: max }));
const port = () => t.optional(t.number({ int: true, min: 0, max: 65535 }));
const icmp = () => t.optional(t.number({ int: true, min: -1, max: 255 }));
const cidrs = () => t.optional(t.array(t.string({ maxLength: 64 }), { maxItems: 256 }));

/** The largest number of resources or tags one createTags/deleteTags call may name. */
export const MAX_TAG_BATCH = 500;


export const RuleInputSchema = t.object({
  purpose: t.literal('Firewall', 'PortForwarding', 'LoadBalancing'), traffictype: t.optional(t.literal('Ingress', 'Egress')),
  ipaddressid: t.optional(id()), networkid: t.optional(id()), protocol: t.string({ minLength: 1, maxLength: 16 }),
  startport: port(), endport: port(), icmptype: icmp(), icmpcode: icmp(), cidrlist: cidrs(), destcidrlist: cidrs(),
  virtualmachineid: t.optional(id()), vmguestip: str(64), privateport: port(), privateendport: port(), name: str(),
  description: str(4096), algorithm: str(32), openfirewall: t.optional(t.boolean()),
});

const tagList = () => t.array(t.object({ key: t.string({ maxLength: 255 }), value: t.optional(t.string({ maxLength: 255 })) }),
  { maxItems: MAX_TAG_BATCH });

const ruleOp = <L extends string>(op: L) => t.object({ op: t.literal(op), caller: CallerSchema, rule: RuleInputSchema });
const ruleDelete = <L extends string>(op: L) => t.object({ op: t.literal(op), caller: CallerSchema, ruleid: id() });

export const CLIENT_JOB_REQUESTS = [
  t.object({ op: t.literal('createTags'), caller: CallerSchema, resourcetype: t.string({ maxLength: 64 }),
    resourceids: t.array(id(), { maxItems: MAX_TAG_BATCH }), tags: tagList() }),
  t.object({ op: t.literal('deleteTags'), caller: CallerSchema, resourcetype: t.string({ maxLength: 64 }),
    resourceids: t.array(id(), { maxItems: MAX_TAG_BATCH }), tags: t.optional(tagList()) }),
  ruleOp('createFirewallRule'), ruleOp('createEgressFirewallRule'), ruleOp('createPortForwardingRule'), ruleOp('createLoadBalancerRule'),
  ruleDelete('deleteFirewallRule'), ruleDelete('deleteEgressFirewallRule'), ruleDelete('deletePortForwardingRule'),
  ruleDelete('deleteLoadBalancerRule'),
  t.object({ op: t.literal('updateLoadBalancerRule'), caller: CallerSchema, ruleid: id(), name: str(), description: str(4096), algorithm: str(32) }),
  t.object({ op: t.literal('assignToLoadBalancerRule'), caller: CallerSchema, ruleid: id(), vmids: t.array(id(), { maxItems: 256 }) }),
  t.object({ op: t.literal('removeFromLoadBalancerRule'), caller: CallerSchema, ruleid: id(), vmids: t.array(id(), { maxItems: 256 }) }),
  t.object({ op: t.literal('disableStaticNat'), caller: CallerSchema, ipid: id() }),
  t.object({ op: t.literal('createAffinityGroup'), caller: CallerSchema, name: t.string({ minLength: 1, maxLength: 255 }),
    type: t.string({ maxLength: 64 }), description: str(4096), accountid: t.optional(id()) }),
  t.object({ op: t.literal('deleteAffinityGroup'), caller: CallerSchema, groupid: id() }),
  t.object({ op: t.literal('updateVmAffinityGroup'), caller: CallerSchema, vmid: id(), groupids: t.array(id(), { maxItems: 64 }) }),
  t.object({ op: t.literal('deleteTemplate'), caller: CallerSchema, templateid: id(), iso: t.boolean(), zoneid: t.optional(id()),
    forced: t.optional(t.boolean()) }),
  t.object({ op: t.literal('copyTemplate'), caller: CallerSchema, templateid: id(), iso: t.boolean(), sourcezoneid: t.optional(id()),
    destzoneids: t.array(id(), { maxItems: 64 }) }),
  t.object({ op: t.literal('createTemplate'), caller: CallerSchema, name: t.string({ minLength: 1, maxLength: 255 }), displaytext: str(4096),
    ostypeid: t.optional(id()), volumeid: t.optional(id()), snapshotid: t.optional(id()), ispublic: t.optional(t.boolean()),
    isfeatured: t.optional(t.boolean()), passwordenabled: t.optional(t.boolean()), sshkeyenabled: t.optional(t.boolean()),
    isdynamicallyscalable: t.optional(t.boolean()) }),
  t.object({ op: t.literal('attachIso'), caller: CallerSchema, vmid: id(), isoid: id() }),
  t.object({ op: t.literal('detachIso'), caller: CallerSchema, vmid: id() }),
  t.object({ op: t.literal('createVmSnapshot'), caller: CallerSchema, vmid: id(), name: str(), description: str(4096),
    snapshotmemory: t.optional(t.boolean()) }),
  t.object({ op: t.literal('revertToVmSnapshot'), caller: CallerSchema, snapshotid: id() }),
  t.object({ op: t.literal('deleteVmSnapshot'), caller: CallerSchema, snapshotid: id() }),
  t.object({ op: t.literal('createProject'), caller: CallerSchema, name: t.string({ minLength: 1, maxLength: 255 }), displaytext: str(4096),
    accountid: t.optional(id()) }),
  t.object({ op: t.literal('updateProject'), caller: CallerSchema, projectid: id(), displaytext: str(4096),
    state: t.optional(t.literal('Active', 'Suspended')) }),
  t.object({ op: t.literal('deleteProject'), caller: CallerSchema, projectid: id() }),
  t.object({ op: t.literal('addAccountToProject'), caller: CallerSchema, projectid: id(), account: t.string({ minLength: 1, maxLength: 255 }),
    role: t.optional(t.literal('Admin', 'Regular')) }),
  t.object({ op: t.literal('deleteAccountFromProject'), caller: CallerSchema, projectid: id(), account: t.string({ minLength: 1, maxLength: 255 }) }),
] as const;

export const CLIENT_SYNC_REQUESTS = [
  t.object({ op: t.literal('enableStaticNat'), caller: CallerSchema, ipid: id(), vmid: id(), vmguestip: str(64) }),
] as const;
