import { InvalidParameterError } from '../../../src/errors.js';
import type { Components } from '../components.js';
import { IMAGE_FLOWS } from './image-flows.js';
import { VM_SNAPSHOT_FLOWS } from './vm-snapshot-flows.js';
import { PROJECT_FLOWS } from './project-flows.js';
import { SYSTEM } from '../vm-state.js';
import { SUCCESS, object, type Flow, type FlowEnv, type JobOutcome, type RequestOf } from './flow.js';

/**
 * The automation clients' async commands as jobs: tags, network rules (each applied to the network
 * element of its address or network before the job succeeds), load balancer members, static NAT and
 * affinity groups. Rule jobs are serialised per public address (or per network for egress rules), as
 * the element is given the whole set of a target at a time.
 */

type RuleTarget = Awaited<ReturnType<Components['data']['ruleSets']['targetOf']>>;

/** The job result's object name per rule purpose, as CloudStack's create commands answer. */
const RULE_OBJECT = { Firewall: 'firewallrule', PortForwarding: 'portforwardingrule', LoadBalancing: 'loadbalancer', StaticNat: 'ipaddress' } as const;

async function apply(env: FlowEnv, name: string, target: RuleTarget): Promise<void> {
  await env.ctx.step(name, async (key) => { await env.c.network('applyRules', { key, target }); return true; });
}

function lockOf(target: { ipid?: string | undefined; networkid: string }): string {
  return `rules:${target.ipid ?? target.networkid}`;
}

async function ruleLock(c: Components, ruleid: string): Promise<string | undefined> {
  try {
    return lockOf(await c.data.ruleSets.targetOf(SYSTEM, ruleid));
  } catch {
    return undefined; // the job itself reports the unknown rule
  }
}

type CreateRuleOp = 'createFirewallRule' | 'createEgressFirewallRule' | 'createPortForwardingRule' | 'createLoadBalancerRule';
type DeleteRuleOp = 'deleteFirewallRule' | 'deleteEgressFirewallRule' | 'deletePortForwardingRule' | 'deleteLoadBalancerRule';

function createRuleFlow(): Flow<CreateRuleOp> {
  return {
    lock: async (req) => lockOf({ ipid: req.rule.ipaddressid, networkid: req.rule.networkid ?? '' }),
    async run(env) {
      const ruleid = env.ctx.get<string>('created')!;
      const target = await env.c.data.ruleSets.targetOf(SYSTEM, ruleid);
      await apply(env, 'apply', target);
      // A port forwarding or load balancer rule may have opened its ports with a firewall rule.
      if (target.purpose !== 'Firewall' && target.ipid !== undefined) {
        await apply(env, 'apply.firewall', { ...target, purpose: 'Firewall', traffictype: 'Ingress' });
      }
      const rule = await env.c.data.networkRules.get(SYSTEM, ruleid);
      return object(RULE_OBJECT[rule.purpose], rule);
    },
    /** A rule the element refused is deleted, as CloudStack removes a rule that failed to apply. */
    async failed(env) {
      const ruleid = env.ctx.get<string>('created');
      if (ruleid !== undefined) await env.c.data.networkRules.discard(ruleid);
    },
  };
}

function deleteRuleFlow(purpose: 'Firewall' | 'PortForwarding' | 'LoadBalancing', egress = false): Flow<DeleteRuleOp> {
  return {
    lock: (req, c) => ruleLock(c, req.ruleid),
    async run(env, req) {
      const { ctx, c } = env;
      const target = await ctx.step('target', () => c.data.ruleSets.targetOf(req.caller, req.ruleid));
      await ctx.step('revoke', async () => { await c.data.networkRules.revoke(req.caller, req.ruleid, purpose, egress ? 'Egress' : 'Ingress'); return true; });
      await apply(env, 'apply', target);
      if (purpose !== 'Firewall' && target.ipid !== undefined) {
        await apply(env, 'apply.firewall', { ...target, purpose: 'Firewall', traffictype: 'Ingress' });
      }
      return SUCCESS;
    },
  };
}

export const createTagsFlow: Flow<'createTags'> = {
  lock: async () => undefined,
  async run(env, req) {
    const tags = req.tags.map((t) => ({ key: t.key, value: t.value ?? '' }));
    await env.ctx.step('tags', async () => { await env.c.data.tags.create(req.caller, req.resourcetype, req.resourceids, tags); return true; });
    return SUCCESS;
  },
};

export const deleteTagsFlow: Flow<'deleteTags'> = {
  lock: async () => undefined,
  async run(env, req) {
    const keys = req.tags?.map((t) => t.key);
    await env.ctx.step('tags', async () => { await env.c.data.tags.delete(req.caller, req.resourcetype, req.resourceids, keys); return true; });
    return SUCCESS;
  },
};

type MemberOp = 'assignToLoadBalancerRule' | 'removeFromLoadBalancerRule';

function memberFlow(assign: boolean): Flow<MemberOp> {
  return {
    lock: (req, c) => ruleLock(c, req.ruleid),
    async run(env, req): Promise<JobOutcome> {
      const { ctx, c } = env;
      const target = await c.data.ruleSets.targetOf(req.caller, req.ruleid);
      await ctx.step('members', async () => {
        if (assign) await c.data.ruleSets.assignToLb(req.caller, req.ruleid, req.vmids);
        else await c.data.ruleSets.removeFromLb(req.caller, req.ruleid, req.vmids);
        return true;
      });
      await apply(env, 'apply', target);
      return SUCCESS;
    },
    /** The element refused the new membership: the database goes back to what the element holds. */
    async failed(env, req) {
      if (env.ctx.has('members')) await env.c.data.ruleSets.undoMembers(req.ruleid, req.vmids, assign);
    },
  };
}

export const updateLoadBalancerRuleFlow: Flow<'updateLoadBalancerRule'> = {
  lock: (req, c) => ruleLock(c, req.ruleid),
  async run(env, req) {
    const { ctx, c } = env;
    const patch: { name?: string; description?: string; algorithm?: string } = {};
    if (req.name !== undefined) patch.name = req.name;
    if (req.description !== undefined) patch.description = req.description;
    if (req.algorithm !== undefined) patch.algorithm = req.algorithm;
    await ctx.step('update', async () => { await c.data.networkRules.updateLb(req.caller, req.ruleid, patch); return true; });
    await apply(env, 'apply', await c.data.ruleSets.targetOf(req.caller, req.ruleid));
    return object('loadbalancer', await c.data.networkRules.get(SYSTEM, req.ruleid));
  },
};

export const disableStaticNatFlow: Flow<'disableStaticNat'> = {
  lock: async (req) => lockOf({ ipid: req.ipid, networkid: '' }),
  async run(env, req) {
    const { ctx, c } = env;
    const target = await c.data.ruleSets.staticNatTarget(req.caller, req.ipid);
    await ctx.step('disable', async () => { await c.data.ruleSets.disableStaticNat(req.caller, req.ipid); return true; });
    await apply(env, 'apply', target);
    return SUCCESS;
  },
};

export const createAffinityGroupFlow: Flow<'createAffinityGroup'> = {
  lock: async () => undefined,
  run: async (env) => object('affinitygroup', await env.c.data.affinityGroups.get(SYSTEM, env.ctx.get<string>('created')!)),
};

export const deleteAffinityGroupFlow: Flow<'deleteAffinityGroup'> = {
  lock: async () => undefined,
  async run(env, req) {
    await env.ctx.step('delete', async () => { await env.c.data.affinityGroups.delete(req.caller, req.groupid); return true; });
    return SUCCESS;
  },
};

/** updateVMAffinityGroup: only a Stopped VM changes groups (its next start is planned with them). */
export const updateVmAffinityGroupFlow: Flow<'updateVmAffinityGroup'> = {
  lock: async (req) => req.vmid,
  async run(env, req) {
    const { ctx, c } = env;
    const vm = await c.data.vms.get(req.caller, req.vmid);
    if (vm.state !== 'Stopped') {
      throw new InvalidParameterError(`Unable to update affinity groups of the VM ${vm.name}: it is ${vm.state}; stop it first`);
    }
    await ctx.step('groups', async () => { await c.data.affinityGroups.setForVm(req.caller, req.vmid, req.groupids); return true; });
    return object('virtualmachine', await c.data.vms.get(SYSTEM, req.vmid));
  },
};

export const CLIENT_FLOWS = {
  createTags: createTagsFlow,
  deleteTags: deleteTagsFlow,
  createFirewallRule: createRuleFlow() as Flow<'createFirewallRule'>,
  createEgressFirewallRule: createRuleFlow() as Flow<'createEgressFirewallRule'>,
  createPortForwardingRule: createRuleFlow() as Flow<'createPortForwardingRule'>,
  createLoadBalancerRule: createRuleFlow() as Flow<'createLoadBalancerRule'>,
  deleteFirewallRule: deleteRuleFlow('Firewall') as Flow<'deleteFirewallRule'>,
  deleteEgressFirewallRule: deleteRuleFlow('Firewall', true) as Flow<'deleteEgressFirewallRule'>,
  deletePortForwardingRule: deleteRuleFlow('PortForwarding') as Flow<'deletePortForwardingRule'>,
  deleteLoadBalancerRule: deleteRuleFlow('LoadBalancing') as Flow<'deleteLoadBalancerRule'>,
  updateLoadBalancerRule: updateLoadBalancerRuleFlow,
  assignToLoadBalancerRule: memberFlow(true) as Flow<'assignToLoadBalancerRule'>,
  removeFromLoadBalancerRule: memberFlow(false) as Flow<'removeFromLoadBalancerRule'>,
  disableStaticNat: disableStaticNatFlow,
  createAffinityGroup: createAffinityGroupFlow,
  deleteAffinityGroup: deleteAffinityGroupFlow,
  updateVmAffinityGroup: updateVmAffinityGroupFlow,
  ...IMAGE_FLOWS,
  ...VM_SNAPSHOT_FLOWS,
  ...PROJECT_FLOWS,
} as const;
