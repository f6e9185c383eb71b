/**
 * Work of which exactly one instance may act at a time (the fabric monitor, the fabric admin, the
 * service framework): every instance runs this; the one that holds the lease is active, the others
 * are hot standbys that try to take the lease every renewal interval and become active once the
 * holder's lease runs out (it died, stalled, or was cut off). Losing the lease stops the active work
 * at once — before the lease can have expired in the data service, so two never act together.
 */
import type { Clock, TimerHandle } from './clock.js';
import { LeaseKeeper, type Fence, type LeaseStore, type LeaseTimings } from './lease.js';
import type { Logger } from './logger.js';

export interface LeasedSingletonOptions {
  /** Lease name, e.g. `fabric-monitor`. */
  lease: string;
  /** This instance's owner id (node id and incarnation). */
  owner: string;
  store: LeaseStore;
  timings: LeaseTimings;
  clock: Clock;
  log: Logger;
  /** Starts the active work under `fence` (its writes carry it); returns how to stop it. */
  activate(fence: Fence): Promise<() => Promise<void>>;
}

export interface LeasedSingleton {
  /** True while this instance is the active one. */
  active(): boolean;
  /** Times this instance became active. */
  readonly activations: number;
  /** Stops the work (if active), gives the lease up so a standby takes over at once, stops trying. */
  stop(): Promise<void>;
}

export function runLeasedSingleton(o: LeasedSingletonOptions): LeasedSingleton {
  const keeper = new LeaseKeeper(o.store, o.owner, o.timings, o.clock, o.log);
  let stopActive: (() => Promise<void>) | undefined;
  let busy = false;
  let stopped = false;
  let activations = 0;
  let timer: TimerHandle | undefined;

  const deactivate = async (why: string): Promise<void> => {
    const s = stopActive;
    stopActive = undefined;
    if (s === undefined) return;
    o.log.warn('no longer the acting instance', { lease: o.lease, why });
    await s().catch((err: unknown) => o.log.error('stopping the active work failed', { lease: o.lease, error: String(err) }));
  };
  keeper.onLost((_name, reason) => { void deactivate(reason === 'taken' ? 'another instance took the lease' : 'the lease could not be renewed in time'); });

  const attempt = async (): Promise<void> => {
    if (busy || stopped || stopActive !== undefined) return;
    busy = true;
    try {
      const held = await keeper.claim(o.lease);
      if (held === undefined || stopped) return;
      const fence = keeper.fence(o.lease)!;
      const stop = await o.activate(fence);
      if (stopped || !keeper.valid(o.lease)) {
        // Lost (or told to stop) while starting up: never act on a lease that may have moved on.
        await stop();
        return;
      }
      stopActive = stop;
      activations++;
      o.log.info('acting instance', { lease: o.lease, epoch: held.epoch });
    } catch (err) {
      o.log.debug('could not take the lease yet', { lease: o.lease, error: (err as Error).message });
    } finally {
      busy = false;
    }
  };
  keeper.start();
  timer = o.clock.setInterval(() => void attempt(), o.timings.renewIntervalMs);
  void attempt();

  return {
    active: () => stopActive !== undefined,
    get activations() { return activations; },
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      await deactivate('stopping');
      keeper.stop();
      await keeper.release(o.lease);
    },
  };
}
