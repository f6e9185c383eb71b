/**
 * The commands of the orchestration issue (VMs, volumes, snapshots, networks, public IPs, simulator
 * mocks), for the one command table: the API component appends these to its command list.
 */
import type { HandledCommand } from '../command-table.js';
import { addressCommands } from './addresses.js';
import { clientCommands } from './clients.js';
import { networkCommands } from './networks.js';
import type { OrchestrationDeps } from './orchestration-common.js';
import { simulatorCommands } from './simulator.js';
import { snapshotCommands } from './snapshots.js';
import { vmCommands } from './vms.js';
import { volumeCommands } from './volumes.js';

export { locatedOrchestrator, type OrchestrationDeps, type OrchestratorClient } from './orchestration-common.js';

export function orchestrationCommands(deps: OrchestrationDeps): HandledCommand[] {
  return [
    ...vmCommands(deps),
    ...volumeCommands(deps),
    ...snapshotCommands(deps),
    ...networkCommands(deps),
    ...addressCommands(deps),
    ...simulatorCommands(deps),
    ...clientCommands(deps),
  ];
}
