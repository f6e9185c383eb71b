import type { Clock } from '../../src/clock.js';
import type { Random } from '../../src/random.js';

export interface FaultRates {
  /** Probability that an envelope is dropped. */
  loss: number;
  /** Probability that an envelope is sent twice. */
  duplicate: number;
  /** Probability that an envelope is delayed by a random time in [delayMinMs, delayMaxMs]. */
  delay: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** Probability that an envelope is held back and sent after the next one to the same node. */
  reorder: number;
}

export const NO_FAULTS: FaultRates = { loss: 0, duplicate: 0, delay: 0, delayMinMs: 1, delayMaxMs: 20, reorder: 0 };

export type Decision = { drop: true } | { drop: false; copies: number; delayMs: number; hold: boolean };

export interface FaultCounters {
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
  partitioned: number;
}

/**
 * The fault plan shared by the FaultTransport wrappers of a cluster: rates, and blocked links for
 * partitions (one-way or both ways). Every decision is drawn from one seeded Random, so a seed
 * reproduces a run.
 */
export class FaultInjector {
  private rates: FaultRates;
  private readonly blocked = new Set<string>();
  readonly counters: FaultCounters = { dropped: 0, duplicated: 0, delayed: 0, reordered: 0, partitioned: 0 };

  constructor(readonly random: Random, readonly clock: Clock, rates: Partial<FaultRates> = {}) {
    this.rates = { ...NO_FAULTS, ...rates };
    checkRates(this.rates);
  }

  setRates(rates: Partial<FaultRates>): void {
    const next = { ...this.rates, ...rates };
    checkRates(next);
    this.rates = next;
  }

  /** Blocks traffic from every node of `a` to every node of `b` (and back unless oneWay). */
  partition(a: string[], b: string[], options: { oneWay?: boolean } = {}): void {
    for (const x of a) for (const y of b) {
      this.blocked.add(`${x}>${y}`);
      if (!options.oneWay) this.blocked.add(`${y}>${x}`);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  decide(from: string, to: string): Decision {
    if (this.isBlocked(from, to)) { this.counters.partitioned++; return { drop: true }; }
    const r = this.rates;
    if (r.loss > 0 && this.random.next() < r.loss) { this.counters.dropped++; return { drop: true }; }
    let copies = 1;
    if (r.duplicate > 0 && this.random.next() < r.duplicate) { copies = 2; this.counters.duplicated++; }
    let delayMs = 0;
    if (r.delay > 0 && this.random.next() < r.delay) {
      delayMs = r.delayMinMs + this.random.next() * (r.delayMaxMs - r.delayMinMs);
      this.counters.delayed++;
    }
    const hold = r.reorder > 0 && this.random.next() < r.reorder;
    if (hold) this.counters.reordered++;
    return { drop: false, copies, delayMs, hold };
  }
}

function checkRates(r: FaultRates): void {
  for (const k of ['loss', 'duplicate', 'delay', 'reorder'] as const) {
    if (!(r[k] >= 0 && r[k] <= 1)) throw new Error(`fault rate ${k} must be within [0, 1] (got ${r[k]})`);
  }
  if (!(r.delayMinMs >= 0 && r.delayMaxMs >= r.delayMinMs)) throw new Error('fault delay needs 0 <= delayMinMs <= delayMaxMs');
}
