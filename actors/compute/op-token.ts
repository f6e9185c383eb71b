import type { Clock, TimerHandle } from '../../src/clock.js';

/**
 * The handle of one in-progress driver operation: its waits run on the injected clock and can be cut
 * short, so that a stop (or a fence) ends a slow start at once instead of after its wait, and no timer
 * outlives the operation.
 */
export class OpToken {
  private reason: Error | undefined;
  private timer: TimerHandle | undefined;
  private rejectWait: ((err: Error) => void) | undefined;

  constructor(private readonly clock: Clock) {}

  get cancelled(): boolean {
    return this.reason !== undefined;
  }

  /** Waits `ms` on the clock; rejects with the cancel reason if the operation is cut short. */
  sleep(ms: number): Promise<void> {
    if (this.reason) return Promise.reject(this.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.rejectWait = reject;
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.rejectWait = undefined;
        resolve();
      }, ms);
    });
  }

  /** Throws the cancel reason when the operation was cut short (checked after every wait). */
  check(): void {
    if (this.reason) throw this.reason;
  }

  cancel(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.timer?.cancel();
    this.timer = undefined;
    const reject = this.rejectWait;
    this.rejectWait = undefined;
    reject?.(reason);
  }
}
