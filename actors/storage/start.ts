import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorRef } from '../../src/actor-types.js';
import { STORAGE_PATH, type StorageProtocolType } from './protocol.js';
import { storageActor, type StorageActorOptions } from './storage-actor.js';

export interface StartedStorage {
  readonly ref: ActorRef<StorageProtocolType>;
  readonly path: string;
  stop(): Promise<void>;
}

/** Spawns the storage component at STORAGE_PATH (bind its service name to that path in the locator). */
export function startStorage(system: ActorSystem, options: StorageActorOptions): StartedStorage {
  const ref = system.spawn(STORAGE_PATH, storageActor(options));
  return { ref, path: STORAGE_PATH, stop: () => system.stop(STORAGE_PATH) };
}
