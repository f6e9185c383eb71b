/**
 * Every command the API serves, in one list: the one command table (with listApis, login and logout,
 * which the HTTP layer adds) is built from it. Commands of later components are added here as they land.
 */
import type { HandledCommand } from '../command-table.js';
import { absentFeatureCommands } from './absent-features.js';
import { accountCommands } from './accounts.js';
import type { CommandDeps } from './common.js';
import { componentServiceCommands, type FrameworkClient } from './component-services.js';
import { eventCommands } from './events.js';
import { fabricCommands, type FabricAdminClient } from './fabric.js';
import { hostCommands } from './hosts.js';
import { accountAdminCommands } from './account-admin.js';
import { alertCommands } from './alerts.js';
import { applianceCommands } from './appliances.js';
import { checkListIds } from './id-check.js';
import { configurationCommands } from './configurations.js';
import { detailOptionCommands } from './detail-options.js';
import { featuresOffCommands } from './features-off.js';
import { hypervisorCommands } from './hypervisors.js';
import { roleCommands } from './roles.js';
import { rolePermissionCommands } from './role-permissions.js';
import { integrationsOffCommands } from './integrations-off.js';
import { loginPageCommands } from './login-page.js';
import { metricsCommands } from './metrics.js';
import { imageCommands } from './images.js';
import { jobCommands } from './jobs.js';
import { managementServerCommands, type ClusterView } from './management-servers.js';
import { offeringCommands } from './offerings.js';
import { orchestrationCommands, type OrchestratorClient } from './orchestration.js';
import { resourceLimitCommands } from './resource-limits.js';
import { sshKeyCommands } from './ssh-keys.js';
import { storageCommands } from './storage.js';
import { zoneCommands } from './zones.js';

export type { CommandDeps } from './common.js';
export { createJobRecord, jobResponse, type JobSubmission } from './jobs.js';

/**
 * With an orchestrator, the VM, volume, network and IP commands of the orchestration issue are served too;
 * with a fabric admin, the host, pod and cluster administration commands (and addHost of compute nodes).
 */
export function createCommands(deps: CommandDeps & { readonly orchestrator?: OrchestratorClient; readonly fabric?: FabricAdminClient;
  readonly cluster?: ClusterView; readonly framework?: FrameworkClient }): HandledCommand[] {
  const commands = [
    ...jobCommands(deps),
    ...accountCommands(deps),
    ...zoneCommands(deps),
    ...hostCommands(deps),
    ...storageCommands(deps),
    ...offeringCommands(deps),
    ...imageCommands(deps),
    ...sshKeyCommands(deps),
    ...eventCommands(deps),
    ...(deps.orchestrator === undefined ? [] : orchestrationCommands({ ...deps, orchestrator: deps.orchestrator })),
    ...(deps.fabric === undefined ? [] : fabricCommands({ ...deps, fabric: deps.fabric })),
    ...(deps.cluster === undefined ? [] : managementServerCommands(deps.cluster, deps.cloudStackVersion)),
    ...loginPageCommands(),
    ...integrationsOffCommands(),
    ...configurationCommands(deps),
    ...applianceCommands(),
    ...featuresOffCommands(),
    ...absentFeatureCommands(deps),
    ...detailOptionCommands(deps),
    ...hypervisorCommands(deps),
    ...roleCommands(deps),
    ...alertCommands(deps),
    ...accountAdminCommands(deps),
    ...(deps.framework === undefined ? [] : componentServiceCommands(deps, deps.framework)),
    ...resourceLimitCommands(deps),
  ];
  const all: HandledCommand[] = [];
  all.push(...checkListIds([...commands, ...metricsCommands(commands, deps)], deps.data), ...rolePermissionCommands(deps, () => all));
  return all;
}
