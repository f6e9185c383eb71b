/**
 * The lab components of the orchestration issue: network, storage and the orchestrator, each spawned
 * on the lab's node and bound on its locator by service name. `fullLabComponents()` is the lab's
 * default list with them inserted before the API (which must come last: it takes requests only once
 * what it calls is up).
 */
import { NetworkProtocol } from '../actors/network/protocol.js';
import { startNetwork } from '../actors/network/start.js';
import { StorageProtocol } from '../actors/storage/protocol.js';
import { startStorage } from '../actors/storage/start.js';
import type { OrchestratorConfig } from '../actors/orchestrator/config.js';
import { OrchestratorProtocol } from '../actors/orchestrator/protocol.js';
import { startOrchestrator, type StartedOrchestrator } from '../actors/orchestrator/start.js';
import type { Random } from '../src/random.js';
import { LAB_COMPONENTS, type LabComponent } from './components.js';

export interface OrchestrationLabOptions {
  /** Orchestrator settings (e.g. orchestratorTestConfig() for short step deadlines). */
  orchestrator?: Partial<OrchestratorConfig>;
  /** Host shuffling and passwords; default OS-seeded. */
  random?: Random;
  /** Receives the started orchestrator (tests restart it to check that jobs survive). */
  onOrchestrator?: (o: StartedOrchestrator) => void;
}

export function orchestrationComponents(o: OrchestrationLabOptions = {}): LabComponent[] {
  return [
    {
      name: 'network',
      async start({ node, locator }) {
        const s = startNetwork(node.system, { locator });
        locator.bind(NetworkProtocol.name, { node: node.id, path: s.path });
        return { name: 'network', stop: s.stop };
      },
    },
    {
      name: 'storage',
      async start({ node, locator }) {
        const s = startStorage(node.system, { locator });
        locator.bind(StorageProtocol.name, { node: node.id, path: s.path });
        return { name: 'storage', stop: s.stop };
      },
    },
    {
      name: 'orchestrator',
      async start({ node, locator }) {
        const s = await startOrchestrator(node.system, { locator,
          ...(o.orchestrator === undefined ? {} : { config: o.orchestrator }), ...(o.random === undefined ? {} : { random: o.random }) });
        locator.bind(OrchestratorProtocol.name, { node: node.id, path: s.path });
        o.onOrchestrator?.(s);
        return { name: 'orchestrator', stop: s.stop };
      },
    },
  ];
}

/** LAB_COMPONENTS with network, storage and the orchestrator before the API. */
export function fullLabComponents(o: OrchestrationLabOptions = {}): LabComponent[] {
  const api = LAB_COMPONENTS.findIndex((c) => c.name === 'api');
  const at = api < 0 ? LAB_COMPONENTS.length : api;
  return [...LAB_COMPONENTS.slice(0, at), ...orchestrationComponents(o), ...LAB_COMPONENTS.slice(at)];
}
