import { InvalidParameterError } from '../../src/errors.js';
import type { Components } from './components.js';
import type { Prepared } from './create-phase.js';
import type { JobRequest } from './protocol.js';

type ClientOp = 'createTags' | 'deleteTags' | 'createFirewallRule' | 'createEgressFirewallRule' | 'createPortForwardingRule'
  | 'createLoadBalancerRule' | 'deleteFirewallRule' | 'deleteEgressFirewallRule' | 'deletePortForwardingRule'
  | 'deleteLoadBalancerRule' | 'updateLoadBalancerRule' | 'assignToLoadBalancerRule' | 'removeFromLoadBalancerRule'
  | 'disableStaticNat' | 'createAffinityGroup' | 'deleteAffinityGroup' | 'updateVmAffinityGroup' | 'deleteTemplate' | 'copyTemplate'
  | 'createTemplate' | 'attachIso' | 'detachIso' | 'createVmSnapshot' | 'revertToVmSnapshot' | 'deleteVmSnapshot' | 'createProject'
  | 'updateProject' | 'deleteProject' | 'addAccountToProject' | 'deleteAccountFromProject';
export type ClientRequest = Extract<JobRequest, { op: ClientOp }>;

const CLIENT_OPS: ReadonlySet<string> = new Set<ClientOp>(['createTags', 'deleteTags', 'createFirewallRule', 'createEgressFirewallRule',
  'createPortForwardingRule', 'createLoadBalancerRule', 'deleteFirewallRule', 'deleteEgressFirewallRule', 'deletePortForwardingRule',
  'deleteLoadBalancerRule', 'updateLoadBalancerRule', 'assignToLoadBalancerRule', 'removeFromLoadBalancerRule', 'disableStaticNat',
  'createAffinityGroup', 'deleteAffinityGroup', 'updateVmAffinityGroup', 'deleteTemplate', 'copyTemplate', 'createTemplate', 'attachIso',
  'detachIso', 'createVmSnapshot', 'revertToVmSnapshot', 'deleteVmSnapshot', 'createProject', 'updateProject', 'deleteProject',
  'addAccountToProject', 'deleteAccountFromProject']);

export function isClientRequest(req: JobRequest): req is ClientRequest {
  return CLIENT_OPS.has(req.op);
}

const DELETE_PURPOSE = {
  deleteFirewallRule: ['Firewall', 'Ingress'], deleteEgressFirewallRule: ['Firewall', 'Egress'],
  deletePortForwardingRule: ['PortForwarding', 'Ingress'], deleteLoadBalancerRule: ['LoadBalancing', 'Ingress'],
} as const;

/**
 * The synchronous part of the clients' async commands: create commands create their object now (a
 * rule in state Add, an affinity group) and answer its id; the others check that what they name
 * exists, is of the right kind and is visible to the caller (431 at once, as CloudStack answers).
 */
export async function clientCreatePhase(c: Components, req: ClientRequest): Promise<Prepared> {
  const d = c.data;
  switch (req.op) {
    case 'createTags':
    case 'deleteTags':
      if (req.resourceids.length === 0) throw new InvalidParameterError('Unable to execute API command: resourceids is empty');
      if (req.op === 'createTags' && req.tags.length === 0) throw new InvalidParameterError('Unable to execute API command createtags due to missing parameter tags');
      return {};
    case 'createFirewallRule':
    case 'createEgressFirewallRule':
    case 'createPortForwardingRule':
    case 'createLoadBalancerRule': {
      const rule = await d.networkRules.create(req.caller, req.rule);
      return { created: rule.id, instanceid: rule.id };
    }
    case 'deleteFirewallRule':
    case 'deleteEgressFirewallRule':
    case 'deletePortForwardingRule':
    case 'deleteLoadBalancerRule': {
      const [purpose, traffic] = DELETE_PURPOSE[req.op];
      return { instanceid: (await d.networkRules.get(req.caller, req.ruleid, purpose, traffic)).id };
    }
    case 'updateLoadBalancerRule':
    case 'assignToLoadBalancerRule':
    case 'removeFromLoadBalancerRule':
      return { instanceid: (await d.networkRules.get(req.caller, req.ruleid, 'LoadBalancing')).id };
    case 'disableStaticNat': {
      const ip = await d.ipAddresses.get(req.caller, req.ipid);
      if (!ip.isstaticnat) throw new InvalidParameterError(`Specified IP address id is not associated with any vm Id: ${ip.ipaddress} has no static nat`);
      return { instanceid: ip.id };
    }
    case 'createAffinityGroup': {
      const input: Parameters<typeof d.affinityGroups.create>[1] = { name: req.name, type: req.type };
      if (req.description !== undefined) input.description = req.description;
      if (req.accountid !== undefined) input.accountid = req.accountid;
      const g = await d.affinityGroups.create(req.caller, input);
      return { created: g.id, instanceid: g.id };
    }
    case 'deleteAffinityGroup':
      return { instanceid: (await d.affinityGroups.get(req.caller, req.groupid)).id };
    case 'updateVmAffinityGroup':
      for (const g of req.groupids) await d.affinityGroups.get(req.caller, g);
      return { instanceid: (await d.vms.get(req.caller, req.vmid)).id };
    case 'createVmSnapshot': {
      const input: Parameters<typeof d.vmSnapshots.create>[1] = { virtualmachineid: req.vmid };
      if (req.name !== undefined) input.name = req.name;
      if (req.description !== undefined) input.description = req.description;
      if (req.snapshotmemory !== undefined) input.snapshotmemory = req.snapshotmemory;
      const snap = await d.vmSnapshots.create(req.caller, input);
      return { created: snap.id, instanceid: snap.id };
    }
    case 'revertToVmSnapshot':
    case 'deleteVmSnapshot':
      return { instanceid: (await d.vmSnapshots.get(req.caller, req.snapshotid)).id };
    case 'createProject': {
      const input: Parameters<typeof d.projects.create>[1] = { name: req.name };
      if (req.displaytext !== undefined) input.displaytext = req.displaytext;
      if (req.accountid !== undefined) input.accountid = req.accountid;
      const p = await d.projects.create(req.caller, input);
      return { created: p.id, instanceid: p.id };
    }
    case 'updateProject':
    case 'deleteProject':
    case 'addAccountToProject':
    case 'deleteAccountFromProject':
      return { instanceid: (await d.projects.get(req.caller, req.projectid)).id };
    default:
      return imageCreatePhase(c, req);
  }
}

/** Templates and ISOs: createTemplate creates its (not yet ready) template now; the others check what they name. */
async function imageCreatePhase(c: Components, req: Extract<ClientRequest, { op: 'deleteTemplate' | 'copyTemplate' | 'createTemplate' | 'attachIso' | 'detachIso' }>): Promise<Prepared> {
  const d = c.data;
  switch (req.op) {
    case 'deleteTemplate':
    case 'copyTemplate':
      return { instanceid: (await d.templates.get(req.caller, req.templateid)).id };
    case 'createTemplate': {
      const { op: _op, caller, ...input } = req;
      const id = await d.templateAdmin.createFrom(caller, input);
      return { created: id, instanceid: id };
    }
    case 'attachIso':
    case 'detachIso':
      return { instanceid: (await d.vms.get(req.caller, req.vmid)).id };
  }
}
