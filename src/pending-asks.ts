import type { Clock, TimerHandle } from './clock.js';
import { TimeoutError, TooManyPendingError } from './errors.js';
import type { TimingStat } from './observer.js';
import type { Schema } from './schema.js';

/** Something an ask's answer can be delivered to: a local pending promise or a remote reply channel. */
export interface ReplySink {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** An outstanding ask: a promise with its deadline, tracked by the deadline wheel. */
export class PendingAsk implements ReplySink {
  resolveFn!: (v: unknown) => void;
  rejectFn!: (e: unknown) => void;
  readonly promise: Promise<unknown>;
  bucket: Set<PendingAsk> | undefined = undefined;
  settled = false;
  /** For remote asks: the node asked and the message id (the key replies come back under). */
  node = '';
  id = '';
  /** For remote asks: the reply's schema, checked when the answer arrives (see Remoting.settle). */
  replySchema: Schema<unknown> | undefined = undefined;
  /** For asks with retry: timer resending the same envelope. */
  retryTimer: TimerHandle | undefined = undefined;
  /** Set when metrics are on (see observer.ts): told how the ask ended. */
  stat: TimingStat | undefined = undefined;
  begun = -1;

  constructor(private readonly owner: PendingAsks, readonly deadline: number, readonly description: string) {
    this.promise = new Promise((res, rej) => { this.resolveFn = res; this.rejectFn = rej; });
  }

  resolve(value: unknown): void {
    if (this.settled) return;
    this.owner.settle(this);
    if (this.stat !== undefined) this.stat.record(this.begun, true);
    this.resolveFn(value);
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.owner.settle(this);
    if (this.stat !== undefined) this.stat.record(this.begun, false);
    this.rejectFn(err);
  }
}

export interface PendingAsksOptions {
  /** Most asks outstanding at once from this system; one more rejects with TooManyPendingError. */
  maxPending: number;
  /** Granularity of deadline checks, ms. Deadlines fire up to this late. */
  resolutionMs: number;
}

/**
 * Tracks every outstanding ask with its deadline in time buckets (a hashed wheel), so an ask costs a
 * Set insert and delete instead of a timer of its own; one interval timer expires whole buckets.
 */
export class PendingAsks {
  private readonly buckets = new Map<number, Set<PendingAsk>>();
  private readonly remote = new Map<string, PendingAsk>();
  private size = 0;
  private lastSlot: number;
  private timer: TimerHandle | undefined;
  private cachedSlot = -1;
  private cachedBucket: Set<PendingAsk> | undefined;

  constructor(private readonly clock: Clock, private readonly options: PendingAsksOptions) {
    this.lastSlot = Math.floor(clock.now() / options.resolutionMs);
  }

  get count(): number {
    return this.size;
  }

  create(timeoutMs: number, description: string): PendingAsk {
    if (this.size >= this.options.maxPending) {
      throw new TooManyPendingError(`${this.size} asks already pending (maxPendingAsks); retry later`);
    }
    const deadline = this.clock.now() + timeoutMs;
    const p = new PendingAsk(this, deadline, description);
    const slot = Math.ceil(deadline / this.options.resolutionMs);
    // Asks created together share a slot: remembering the last one skips the map lookup.
    let bucket = slot === this.cachedSlot ? this.cachedBucket : this.buckets.get(slot);
    if (bucket === undefined) { bucket = new Set(); this.buckets.set(slot, bucket); }
    this.cachedSlot = slot;
    this.cachedBucket = bucket;
    bucket.add(p);
    p.bucket = bucket;
    this.size++;
    if (this.timer === undefined) this.timer = this.clock.setInterval(() => this.tick(), this.options.resolutionMs);
    return p;
  }

  /** Registers a remote ask so that its reply (keyed by message id) finds it. */
  trackRemote(p: PendingAsk, node: string, id: string): void {
    p.node = node;
    p.id = id;
    this.remote.set(id, p);
  }

  takeRemote(id: string): PendingAsk | undefined {
    return this.remote.get(id);
  }

  /** Rejects every ask pending on `node` (used when the node is lost). */
  failNode(node: string, makeError: () => Error): number {
    let n = 0;
    for (const p of [...this.remote.values()]) if (p.node === node) { p.reject(makeError()); n++; }
    return n;
  }

  /** Rejects everything (system stopping). */
  failAll(makeError: () => Error): void {
    for (const bucket of [...this.buckets.values()]) for (const p of [...bucket]) p.reject(makeError());
  }

  settle(p: PendingAsk): void {
    p.settled = true;
    p.bucket?.delete(p);
    p.bucket = undefined;
    if (p.id !== '') this.remote.delete(p.id);
    p.retryTimer?.cancel();
    this.size--;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private tick(): void {
    const nowSlot = Math.floor(this.clock.now() / this.options.resolutionMs);
    if (nowSlot - this.lastSlot > this.buckets.size) {
      for (const slot of [...this.buckets.keys()]) if (slot <= nowSlot) this.expire(slot);
    } else {
      for (let s = this.lastSlot + 1; s <= nowSlot; s++) this.expire(s);
    }
    this.lastSlot = nowSlot;
  }

  private expire(slot: number): void {
    const bucket = this.buckets.get(slot);
    if (bucket === undefined) return;
    this.buckets.delete(slot);
    if (slot === this.cachedSlot) { this.cachedSlot = -1; this.cachedBucket = undefined; }
    for (const p of bucket) {
      p.bucket = undefined;
      p.reject(new TimeoutError(`ask ${p.description} got no reply before its deadline`));
    }
  }
}
