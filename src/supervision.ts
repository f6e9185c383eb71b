import type { SupervisionOptions } from './actor-types.js';

/**
 * Decides, for one supervised actor, whether a failure may be answered by a restart and how long to
 * wait first: exponential backoff from backoffMinMs, capped at backoffMaxMs, and at most maxRestarts
 * within windowMs (one more escalates).
 */
export class RestartPolicy {
  private restarts: number[] = [];

  constructor(private readonly options: SupervisionOptions) {}

  /** Returns the delay before the next restart, or undefined when the restart budget is spent. */
  nextRestartDelay(now: number): number | undefined {
    this.restarts = this.restarts.filter((t) => now - t < this.options.windowMs);
    if (this.restarts.length >= this.options.maxRestarts) return undefined;
    const delay = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** this.restarts.length);
    this.restarts.push(now);
    return delay;
  }

  get recentRestarts(): number {
    return this.restarts.length;
  }
}
