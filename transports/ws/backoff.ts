import type { Random } from '../../src/random.js';

export interface BackoffOptions {
  /** First delay, ms. Default 100. */
  initialMs?: number;
  /** Largest delay, ms (the cap). Default 5,000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /**
   * Share of each delay that is random, 0..1. Default 0.5: a delay is between half and all of the
   * exponential step, so nodes that lost a peer together do not all redial at the same instant.
   */
  jitter?: number;
}

/**
 * Capped exponential backoff with jitter, driven by the injected random source so that a seed
 * reproduces the delays. Pure: it only computes delays; the caller owns the timers.
 */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: Required<BackoffOptions>, private readonly random: Random) {}

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt, ms. */
  next(): number {
    const { initialMs, maxMs, factor, jitter } = this.options;
    // Cap the exponent too, so a long outage cannot overflow to Infinity.
    const step = Math.min(maxMs, initialMs * Math.pow(factor, Math.min(this.attempt, 64)));
    this.attempt++;
    return Math.round(step * (1 - jitter) + step * jitter * this.random.next());
  }

  reset(): void {
    this.attempt = 0;
  }
}
