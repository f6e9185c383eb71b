/** What the firewall, port forwarding and load balancer commands share: rule input from parameters and the rule lists. */
import type { JobRequest } from '../../orchestrator/protocol.js';
import { getBoolean, getList } from '../params.js';
import type { Caller, CommandResult, HandlerContext, Params } from '../types.js';
import { listParams, listed } from './common.js';
import { getNumber, getString, type OrchestrationDeps } from './orchestration-common.js';

export type RuleInput = Extract<JobRequest, { op: 'createFirewallRule' }>['rule'];

/** Copies the rule parameters that are present into a rule input. */
export function ruleInput(base: RuleInput, params: Params, names: Readonly<Record<string, keyof RuleInput>>): RuleInput {
  const out = base as unknown as Record<string, unknown>;
  for (const [param, field] of Object.entries(names)) {
    const v = params[param];
    if (v === undefined) continue;
    if (field === 'cidrlist' || field === 'destcidrlist') out[field] = [...(getList(params, param) ?? [])].map((c) => c.trim());
    else if (typeof v === 'number' || typeof v === 'boolean') out[field] = v;
    else if (typeof v === 'string') out[field] = v;
  }
  return base;
}

export async function listRules(deps: OrchestrationDeps, ctx: HandlerContext<Caller>, purpose: 'Firewall' | 'PortForwarding' | 'LoadBalancing',
  traffic: 'Ingress' | 'Egress', names: readonly string[]): Promise<CommandResult> {
  return listed(ctx, listParams(ctx, [...names, 'listall', 'domainid', 'isrecursive', 'account']), {
    page: (q) => deps.data.networkRules.list(ctx.caller, purpose, traffic, q),
    scan: (q, w) => deps.data.networkRules.scan(ctx.caller, purpose, traffic, q, w),
  });
}

export { getBoolean, getNumber, getString };
