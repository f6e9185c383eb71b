/**
 * Remembers recent message ids (per sending node) so that a message delivered more than once — a
 * retried ask, a duplicated frame, an at-least-once redelivery — runs its handler once. For asks the
 * reply is remembered too, so a retry after a lost reply gets the same answer. Bounded by count and age.
 */
export type DedupEntry = { state: 'running' } | { state: 'done'; reply: { ok: boolean; value: unknown } | undefined };

export interface DedupOptions {
  /** Most ids remembered. Default 100,000. */
  maxEntries: number;
  /** How long an id is remembered, ms. Should exceed the longest ask deadline. Default 120,000. */
  ttlMs: number;
}

export const DEFAULT_DEDUP: DedupOptions = { maxEntries: 100_000, ttlMs: 120_000 };

export class DedupCache {
  // A Map iterates in insertion order, so the oldest entries are evicted first.
  private readonly entries = new Map<string, { at: number; entry: DedupEntry }>();

  constructor(private readonly options: DedupOptions = DEFAULT_DEDUP) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): DedupEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.at > this.options.ttlMs) { this.entries.delete(key); return undefined; }
    return e.entry;
  }

  set(key: string, entry: DedupEntry, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { at: now, entry });
    this.evict(now);
  }

  private evict(now: number): void {
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && now - e.at <= this.options.ttlMs) break;
      this.entries.delete(k);
    }
  }
}
