/**
 * Lifeguard's local health (memberlist's awareness.go). A node whose probes fail without the nacks
 * its helpers should have sent, or that has to refute a suspicion about itself, is probably the slow
 * one: its score rises and stretches its own probe interval and timeouts, so that it accuses others
 * less eagerly. Successful probes bring the score back down.
 */
export class Awareness {
  private current = 0;

  /** @param max timeouts are scaled by at most this factor (score stays in [0, max − 1]). */
  constructor(private readonly max: number) {}

  /** Adds `delta` (positive: less healthy) and clamps the score. */
  applyDelta(delta: number): void {
    this.current = Math.min(this.max - 1, Math.max(0, this.current + delta));
  }

  /** 0 is healthy; max − 1 is the worst. */
  get score(): number {
    return this.current;
  }

  /** A timeout stretched by local health: `ms` × (score + 1). */
  scale(ms: number): number {
    return ms * (this.current + 1);
  }
}
