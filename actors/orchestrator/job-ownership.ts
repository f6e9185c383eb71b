import type { TimerHandle } from '../../src/clock.js';
import { LeaseKeeper, type Fence } from '../../src/lease.js';
import { jobLeaseName, leaseStoreOf } from '../data/protocol.js';
import type { Components } from './components.js';

/**
 * Which jobs this orchestrator instance owns, and when each may run. A job is owned through its lease
 * in the data service (created already leased, or taken over once its owner's lease ran out); the
 * leases are renewed together, and a job whose lease is lost stops at its next step. Jobs of one sync
 * key (a VM) run oldest first across every instance: a job waits for its turn, woken at once when a job
 * of this instance finishes, and otherwise checked every turnPollMs.
 */
export class JobOwnership {
  readonly keeper: LeaseKeeper;
  private readonly waiting = new Map<string, Set<() => void>>();
  private scanTimer: TimerHandle | undefined;

  constructor(private readonly c: Components, readonly nodeId: string, incarnation: number) {
    this.keeper = new LeaseKeeper(leaseStoreOf(c.data), `${nodeId}/${incarnation}`, c.config.jobLease, c.clock, c.log);
  }

  get owner(): string {
    return this.keeper.owner;
  }

  /** Starts renewing leases and, every takeoverScanMs, calling `scan` (which takes orphaned jobs over). */
  start(scan: () => Promise<void>): void {
    this.keeper.start();
    let scanning = false;
    this.scanTimer = this.c.clock.setInterval(() => {
      if (scanning) return;
      scanning = true;
      scan().catch((err: unknown) => this.c.log.warn('looking for orphaned jobs failed', { error: (err as Error).message }))
        .finally(() => { scanning = false; });
    }, this.c.config.takeoverScanMs);
  }

  stop(): void {
    this.keeper.stop();
    this.scanTimer?.cancel();
    this.scanTimer = undefined;
    for (const set of this.waiting.values()) for (const wake of set) wake();
    this.waiting.clear();
  }

  /** Records the lease a job was created with (at local time `sentAt`). */
  adopt(jobId: string, epoch: number, sentAt: number): void {
    this.keeper.adopt(jobLeaseName(jobId), epoch, sentAt);
  }

  /** Claims an orphaned job; a job of this node's previous incarnation is taken at once (`supersede`). */
  async claim(jobId: string): Promise<boolean> {
    return (await this.keeper.claim(jobLeaseName(jobId), { supersede: `${this.nodeId}/` })) !== undefined;
  }

  holds(jobId: string): boolean {
    return this.keeper.valid(jobLeaseName(jobId));
  }

  fence(jobId: string): Fence | undefined {
    return this.keeper.fence(jobLeaseName(jobId));
  }

  /**
   * The job is about to be completed: completing it drops its lease in the data service, so it is no
   * longer renewed from now on (a renewal racing the completion would report it lost).
   */
  completing(jobId: string): void {
    this.keeper.forget(jobLeaseName(jobId));
  }

  /** The job is finished (completing it dropped its lease in the data service). */
  finished(jobId: string, syncKey: string | undefined): void {
    this.keeper.forget(jobLeaseName(jobId));
    if (syncKey !== undefined) for (const wake of this.waiting.get(syncKey) ?? []) wake();
  }

  /** Gives a job up without finishing it (this orchestrator is stopping): another instance takes it over. */
  async giveUp(jobId: string): Promise<void> {
    await this.keeper.release(jobLeaseName(jobId));
  }

  /** Resolves once the job is the oldest pending one of its sync key; false when its lease was lost meanwhile. */
  async waitTurn(jobId: string, syncKey: string | undefined, alive: () => boolean): Promise<boolean> {
    if (syncKey === undefined) return this.holds(jobId);
    while (alive() && this.holds(jobId)) {
      if (await this.c.data.jobs.turn(jobId)) return true;
      await this.sleep(syncKey);
    }
    return false;
  }

  private sleep(syncKey: string): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(syncKey);
      if (set === undefined) { set = new Set(); this.waiting.set(syncKey, set); }
      const waiters = set;
      const wake = (): void => {
        timer.cancel();
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiting.get(syncKey) === waiters) this.waiting.delete(syncKey);
        resolve();
      };
      const timer = this.c.clock.setTimeout(wake, this.c.config.turnPollMs);
      waiters.add(wake);
    });
  }
}
