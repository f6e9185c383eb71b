/**
 * Counts connection events (shed, timed out) and reports them in at most one log line per interval:
 * the first event is logged at once, later ones are summed and logged when the interval is over. A
 * flood of thousands of slow clients then costs a line every few seconds instead of one per client,
 * while a single event still shows up immediately.
 */
import type { Clock, TimerHandle } from '../clock.js';

export interface TallyOptions<K extends string> {
  readonly clock: Clock;
  /** Shortest time between two lines, ms. */
  readonly intervalMs: number;
  /**
   * Writes one line: the counts since the previous line (kinds with 0 included), over `windowMs`, with
   * the source and details of the last event counted and the longest life among those events that
   * gave one (undefined when none did).
   */
  readonly report: (counts: Record<K, number>, last: WindowSummary) => void;
}

export interface WindowSummary {
  readonly windowMs: number;
  readonly source: string;
  readonly detail: Record<string, unknown>;
  /** The longest `lifeMs` given to add() in the window. */
  readonly longestLifeMs: number | undefined;
}

export class EventTally<K extends string> {
  private counts: Record<K, number>;
  private pending = 0;
  private lastSource = '';
  private lastDetail: Record<string, unknown> = {};
  private longestLifeMs: number | undefined;
  private lastLineAt: number | undefined;
  private windowStart: number;
  private timer: TimerHandle | undefined;

  constructor(private readonly kinds: readonly K[], private readonly o: TallyOptions<K>) {
    this.counts = this.zero();
    this.windowStart = o.clock.now();
  }

  /**
   * Counts one event of `kind` from `source` (an address, for the log line), with details for the
   * line and, for a closed connection, how long it had lived (ms).
   */
  add(kind: K, source: string, detail: Record<string, unknown> = {}, lifeMs?: number): void {
    this.counts[kind]++;
    if (lifeMs !== undefined && (this.longestLifeMs === undefined || lifeMs > this.longestLifeMs)) this.longestLifeMs = lifeMs;
    this.pending++;
    this.lastSource = source;
    this.lastDetail = detail;
    const now = this.o.clock.now();
    if (this.lastLineAt === undefined || now - this.lastLineAt >= this.o.intervalMs) {
      this.flush();
      return;
    }
    this.timer ??= this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.lastLineAt + this.o.intervalMs - now);
  }

  /** Logs what is pending now (e.g. when the server stops) and cancels the timer. */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.pending === 0) return;
    const now = this.o.clock.now();
    const counts = this.counts;
    this.counts = this.zero();
    this.pending = 0;
    this.lastLineAt = now;
    const windowMs = now - this.windowStart;
    this.windowStart = now;
    const longestLifeMs = this.longestLifeMs;
    this.longestLifeMs = undefined;
    this.o.report(counts, { windowMs, source: this.lastSource, detail: this.lastDetail, longestLifeMs });
  }

  private zero(): Record<K, number> {
    return Object.fromEntries(this.kinds.map((k) => [k, 0])) as Record<K, number>;
  }
}
