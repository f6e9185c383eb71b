import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorRef } from '../../src/actor-types.js';
import { networkActor, type NetworkActorOptions } from './network-actor.js';
import { NETWORK_PATH, type NetworkProtocolType } from './protocol.js';

export interface StartedNetwork {
  readonly ref: ActorRef<NetworkProtocolType>;
  readonly path: string;
  stop(): Promise<void>;
}

/** Spawns the network component at NETWORK_PATH (bind its service name to that path in the locator). */
export function startNetwork(system: ActorSystem, options: NetworkActorOptions): StartedNetwork {
  const ref = system.spawn(NETWORK_PATH, networkActor(options));
  return { ref, path: NETWORK_PATH, stop: () => system.stop(NETWORK_PATH) };
}
