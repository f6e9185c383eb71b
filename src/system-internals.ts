import type { ActorDefinition, ActorRef, Address, AskOptions, SpawnOptions } from './actor-types.js';
import type { ActorCell } from './actor-cell.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Protocol } from './protocol.js';
import type { RuntimeMetrics } from './metrics.js';
import type { Dispatcher } from './dispatcher.js';
import type { RuntimeObserver } from './observer.js';

/** What cells and contexts need from the actor system (kept narrow to avoid an import cycle). */
export interface SystemInternals {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  readonly askTimeoutMs: number;
  readonly dispatcher: Dispatcher;
  readonly observer: RuntimeObserver | undefined;
  ref<P extends Protocol>(address: Address | string, protocol: P): ActorRef<P>;
  spawnCell<P extends Protocol, S>(path: string, def: ActorDefinition<P, S>, options: SpawnOptions, parent: ActorCell | undefined): ActorRef<P>;
  askFrom(sender: ActorCell, ref: ActorRef, type: string, body: unknown, options: AskOptions): Promise<unknown>;
  tellFrom(sender: ActorCell, ref: ActorRef, type: string, body: unknown): void;
  lookup(path: string): ActorCell | undefined;
  watch(watcher: ActorCell, target: Address): void;
  unwatch(watcher: ActorCell, target: Address): void;
  deadLetter(type: string, to: string, reason: string): void;
  removed(cell: ActorCell): void;
  topLevelFailed(cell: ActorCell, err: unknown): void;
}
