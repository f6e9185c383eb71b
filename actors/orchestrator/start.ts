import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorRef } from '../../src/actor-types.js';
import { orchestratorActor, type OrchestratorActorOptions } from './orchestrator-actor.js';
import { ORCHESTRATOR_PATH, OrchestratorProtocol, type OrchestratorProtocolType } from './protocol.js';

export interface StartedOrchestrator {
  readonly ref: ActorRef<OrchestratorProtocolType>;
  readonly path: string;
  /**
   * Stops the actor (running jobs stop at their next step and stay pending) and starts a new one,
   * which picks them up. Resolves once the new incarnation has recovered them.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Spawns the orchestrator at ORCHESTRATOR_PATH (bind its service name to that path in the locator) and
 * resolves once it has picked up the jobs an earlier run of this node left pending.
 */
export async function startOrchestrator(system: ActorSystem, options: OrchestratorActorOptions): Promise<StartedOrchestrator> {
  const spawn = async (): Promise<void> => {
    const ref = system.spawn(ORCHESTRATOR_PATH, orchestratorActor(options));
    await ref.ask('stats', {}); // answered once `started` (the recovery) is done
  };
  await spawn();
  return {
    ref: system.ref(ORCHESTRATOR_PATH, OrchestratorProtocol),
    path: ORCHESTRATOR_PATH,
    restart: async () => { await system.stop(ORCHESTRATOR_PATH); await spawn(); },
    stop: () => system.stop(ORCHESTRATOR_PATH),
  };
}
