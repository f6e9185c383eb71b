/**
 * Time is injected everywhere so that protocol logic can run on a simulated clock in tests and in the
 * cluster simulator. Nothing in src/ calls setTimeout or Date.now directly outside this file.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (wall-clock epoch for the real clock). */
  now(): number;
  /** Runs `fn` after `ms` milliseconds. Real timers are unref()'d so they never keep a process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms` milliseconds until cancelled. */
  setInterval(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: Date.now and unref()'d Node timers. */
export function createRealClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const t = setTimeout(fn, Math.max(0, ms));
      t.unref();
      return { cancel: () => clearTimeout(t) };
    },
    setInterval(fn, ms) {
      const t = setInterval(fn, Math.max(1, ms));
      t.unref();
      return { cancel: () => clearInterval(t) };
    },
  };
}

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  cancelled: boolean;
}

/**
 * A simulated clock that tests advance by hand. Timers fire in (time, creation order) order, so a run
 * is fully deterministic. A binary heap keeps thousands of timers cheap (the gossip simulator runs
 * 1,000 nodes on one of these).
 */
export class SimulatedClock implements Clock {
  private current: number;
  private seq = 0;
  private heap: SimTimer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, Math.max(0, ms), 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, Math.max(1, ms), Math.max(1, ms));
  }

  /** Number of timers still scheduled (cancelled ones are dropped lazily). */
  pending(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /** Advances time by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    this.runUntil(this.current + ms);
  }

  /** Fires timers until none is due at or before `until`; leaves the clock at `until`. */
  runUntil(until: number): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > until) break;
      this.pop();
      if (top.cancelled) continue;
      this.current = Math.max(this.current, top.at);
      if (top.every > 0) {
        top.at += top.every;
        top.seq = this.seq++;
        this.push(top);
      }
      top.fn();
    }
    this.current = Math.max(this.current, until);
  }

  /** Fires the next due timer (jumping time forward to it). Returns false when none is scheduled. */
  step(): boolean {
    while (this.heap[0]?.cancelled) this.pop();
    const top = this.heap[0];
    if (top === undefined) return false;
    this.runUntil(top.at);
    return true;
  }

  private schedule(fn: () => void, ms: number, every: number): TimerHandle {
    const timer: SimTimer = { at: this.current + ms, seq: this.seq++, fn, every, cancelled: false };
    this.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  private less(a: SimTimer, b: SimTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: SimTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
