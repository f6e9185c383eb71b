/**
 * The commands the automation clients need beyond the core (Ansible's cloudstack modules, CloudMonkey,
 * SDK users): tags, user data, VM updates, instance and affinity groups, snapshot policies, and the
 * network rules on public addresses. The API component appends these to its command list.
 */
import type { HandledCommand } from '../command-table.js';
import { affinityGroupCommands } from './affinity-groups.js';
import { firewallCommands } from './firewall.js';
import { instanceGroupCommands } from './instance-groups.js';
import { loadBalancerCommands } from './load-balancer.js';
import type { OrchestrationDeps } from './orchestration-common.js';
import { portForwardingCommands } from './port-forwarding.js';
import { projectCommands } from './projects.js';
import { snapshotPolicyCommands } from './snapshot-policies.js';
import { staticNatCommands } from './static-nat.js';
import { tagCommands } from './tags.js';
import { templateAdminCommands } from './template-admin.js';
import { userDataCommands } from './user-data.js';
import { vmSnapshotCommands } from './vm-snapshots.js';

export function clientCommands(deps: OrchestrationDeps): HandledCommand[] {
  return [
    ...tagCommands(deps),
    ...userDataCommands(deps),
    ...instanceGroupCommands(deps),
    ...affinityGroupCommands(deps),
    ...snapshotPolicyCommands(deps),
    ...firewallCommands(deps),
    ...portForwardingCommands(deps),
    ...loadBalancerCommands(deps),
    ...staticNatCommands(deps),
    ...templateAdminCommands(deps),
    ...vmSnapshotCommands(deps),
    ...projectCommands(deps),
  ];
}
