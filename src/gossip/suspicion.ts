import type { Clock, TimerHandle } from '../clock.js';

/**
 * Lifeguard's dogpile suspicion timer (memberlist's suspicion.go). The window starts at `max` and
 * shrinks toward `min` as independent confirmations arrive: with n of the k expected confirmations,
 * timeout = max − (max − min) × log(n + 1) / log(k + 1). A member that many peers failed to reach is
 * declared dead sooner; one that a single peer could not reach gets the long window.
 *
 * Stall guard: if the timer fires later than `stallThreshold` after its due time, this node itself
 * was stalled and has not yet read the messages that piled up meanwhile (maybe the refutation). It
 * then waits `grace` once more before concluding, so the backlog is processed first.
 */
export function remainingSuspicionTime(n: number, k: number, elapsed: number, min: number, max: number): number {
  const frac = k < 1 ? 1 : Math.log(n + 1) / Math.log(k + 1);
  const raw = Math.floor(max - frac * (max - min));
  return Math.max(min, raw) - elapsed;
}

export interface SuspicionOptions {
  clock: Clock;
  /** The member that raised the suspicion; it does not count as a confirmation. */
  from: string;
  /** Expected confirmations (0: use `min` at once). */
  k: number;
  min: number;
  max: number;
  stallThreshold: number;
  grace: number;
  /** Called when the window is over, with the number of confirmations received. */
  onTimeout: (confirmations: number) => void;
}

export class Suspicion {
  private readonly start: number;
  private readonly seen = new Set<string>();
  private n = 0;
  private timer: TimerHandle | null = null;
  private dueAt = 0;
  private done = false;

  constructor(private readonly o: SuspicionOptions) {
    this.start = o.clock.now();
    this.seen.add(o.from);
    this.arm(o.k < 1 ? o.min : o.max);
  }

  /** Confirmations counted so far. */
  get confirmations(): number {
    return this.n;
  }

  /** Milliseconds left before the window closes (as of now). */
  remaining(): number {
    return Math.max(0, this.dueAt - this.o.clock.now());
  }

  /**
   * Records an independent confirmation from `from`. Returns true when it was new (the caller then
   * re-gossips it so that others shrink their windows too).
   */
  confirm(from: string): boolean {
    if (this.done || this.n >= this.o.k || this.seen.has(from)) return false;
    this.seen.add(from);
    this.n++;
    const left = remainingSuspicionTime(this.n, this.o.k, this.o.clock.now() - this.start, this.o.min, this.o.max);
    this.arm(Math.max(0, left));
    return true;
  }

  /** Restarts the window for `ms` more (after a verification probe found the member reachable). */
  extend(ms: number): void {
    if (!this.done) this.arm(ms);
  }

  cancel(): void {
    this.done = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer?.cancel();
    this.dueAt = this.o.clock.now() + ms;
    this.timer = this.o.clock.setTimeout(() => this.fire(), ms);
  }

  private fire(): void {
    if (this.done) return;
    const late = this.o.clock.now() - this.dueAt;
    if (late > this.o.stallThreshold) {
      this.arm(this.o.grace);
      return;
    }
    this.done = true;
    this.timer = null;
    this.o.onTimeout(this.n);
  }
}
