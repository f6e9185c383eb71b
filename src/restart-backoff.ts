/**
 * When a crashed process is started again (the service framework's instances; a launcher's data
 * service): exponential backoff (100 ms, ×1.5, at most 15 s), reset once it has run stably for 30 s; after `maxFailures` exits within `windowMs` it is not
 * restarted any more (the framework raises an event and an alert). Pure: the caller passes the times.
 */
export interface RestartOptions {
  /** First restart delay, ms. Default 100. */
  initialDelayMs: number;
  /** Growth of the delay per consecutive failure. Default 1.5. */
  factor: number;
  /** Longest delay, ms. Default 15,000: a long outage is retried four times a minute, not in a tight loop. */
  maxDelayMs: number;
  /** A run at least this long resets the backoff, ms. Default 30,000. */
  stableMs: number;
  /** Exits within windowMs after which restarts stop (crash loop). Default 5. */
  maxFailures: number;
  /** The window maxFailures counts in, ms. Default 120,000 (five failed starts with backoff take about 1.5 s plus start times). */
  windowMs: number;
}

export const RESTART_DEFAULTS: Readonly<RestartOptions> = Object.freeze({
  initialDelayMs: 100, factor: 1.5, maxDelayMs: 15_000, stableMs: 30_000, maxFailures: 5, windowMs: 120_000,
});

export interface RestartRecord {
  /** Consecutive quick failures (sets the next delay). */
  consecutive: number;
  /** Times of the exits inside the window. */
  failures: number[];
  /** When the instance may be started again. */
  nextAt: number;
  /** Crash loop: never restarted until an operator re-enables the component. */
  gaveUp: boolean;
}

export function newRecord(): RestartRecord {
  return { consecutive: 0, failures: [], nextAt: 0, gaveUp: false };
}

/** The delay before the restart after `consecutive` quick failures. */
export function backoffDelay(consecutive: number, o: RestartOptions): number {
  return Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.factor, consecutive));
}

/** Records an exit seen at `now` of a process that ran `ranMs`; returns the updated record. */
export function recordExit(r: RestartRecord, now: number, ranMs: number, o: RestartOptions): RestartRecord {
  const consecutive = ranMs >= o.stableMs ? 0 : r.consecutive;
  const failures = [...r.failures.filter((t) => t > now - o.windowMs), now];
  if (failures.length >= o.maxFailures) return { consecutive, failures, nextAt: Number.POSITIVE_INFINITY, gaveUp: true };
  return { consecutive: consecutive + 1, failures, nextAt: now + backoffDelay(consecutive, o), gaveUp: false };
}

export function checkRestartOptions(o: RestartOptions): RestartOptions {
  const bad = (Object.entries(o) as [string, number][]).find(([, v]) => !(Number.isFinite(v) && v > 0));
  if (bad !== undefined) throw new RangeError(`restart option ${bad[0]} must be a positive number, got ${bad[1]}`);
  if (o.factor < 1) throw new RangeError(`restart factor must be at least 1, got ${o.factor}`);
  if (o.initialDelayMs > o.maxDelayMs) throw new RangeError('restart initialDelayMs must not exceed maxDelayMs');
  return o;
}
