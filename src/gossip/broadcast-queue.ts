import type { Update } from './messages.js';

/**
 * The transmit-limited broadcast queue (memberlist's TransmitLimitedQueue). Each update is sent a
 * bounded number of times (retransmitMult × ceil(log10(N + 1)), passed in by the caller since N
 * changes), fewest-sent first and newest first among equals, so a fresh update — a refutation, a
 * death — overtakes older chatter. A newer update about the same member replaces the older one.
 * The queue length is bounded: past the limit, the most-transmitted updates are dropped first.
 */
interface Item {
  readonly key: string;
  readonly update: Update;
  readonly size: number;
  transmits: number;
  removed: boolean;
}

/** Keeps, in place and in order, the bucket's items still waiting at `t` transmissions. */
function compact(bucket: Item[], t: number): void {
  let w = 0;
  for (const item of bucket) if (!item.removed && item.transmits === t) bucket[w++] = item;
  bucket.length = w;
}

export class BroadcastQueue {
  private readonly byKey = new Map<string, Item>();
  /** buckets[t] holds the items sent t times, oldest first. */
  private buckets: Item[][] = [];
  private dropped = 0;

  /** @param maxItems the most updates kept waiting. */
  constructor(private readonly maxItems: number) {}

  get length(): number {
    return this.byKey.size;
  }

  /** Updates dropped because the queue was full. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Queues `update` under `key` (the member it is about), replacing any older update for that key. */
  push(key: string, update: Update, size: number): void {
    const old = this.byKey.get(key);
    if (old !== undefined) old.removed = true;
    const item: Item = { key, update, size, transmits: 0, removed: false };
    this.byKey.set(key, item);
    (this.buckets[0] ??= []).push(item);
    if (this.byKey.size > this.maxItems) this.dropMostSent();
  }

  /**
   * Takes updates fitting in `budget` bytes (at most `maxCount`), counting one transmission for each;
   * updates reaching `limit` transmissions leave the queue.
   */
  take(budget: number, maxCount: number, limit: number): Update[] {
    const out: Update[] = [];
    if (this.byKey.size === 0) return out;
    let left = budget;
    const promoted: Item[] = [];
    for (let t = 0; t < this.buckets.length && out.length < maxCount; t++) {
      const bucket = this.buckets[t];
      if (bucket === undefined || bucket.length === 0) continue;
      let touched = false;
      for (let i = bucket.length - 1; i >= 0 && out.length < maxCount && left > 0; i--) {
        const item = bucket[i]!;
        if (item.removed) { touched = true; continue; }
        if (item.size > left) continue;
        left -= item.size;
        out.push(item.update);
        item.transmits = t + 1;
        promoted.push(item);
        touched = true;
      }
      if (touched) compact(bucket, t);
    }
    for (const item of promoted) {
      if (item.transmits >= limit) this.remove(item);
      else (this.buckets[item.transmits] ??= []).push(item);
    }
    return out;
  }

  /** Forgets every queued update. */
  clear(): void {
    this.byKey.clear();
    this.buckets = [];
  }

  private remove(item: Item): void {
    item.removed = true;
    if (this.byKey.get(item.key) === item) this.byKey.delete(item.key);
  }

  private dropMostSent(): void {
    for (let t = this.buckets.length - 1; t >= 0; t--) {
      const bucket = this.buckets[t];
      if (bucket === undefined) continue;
      while (bucket.length > 0) {
        const item = bucket.shift()!;
        if (item.removed) continue;
        this.remove(item);
        this.dropped++;
        return;
      }
    }
  }
}
