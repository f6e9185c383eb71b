/**
 * The holder's side of leases with fencing epochs. The lease itself lives in the data service (the
 * one linearizable store); this keeps the leases one owner holds, renews them all in one call, and —
 * the part that makes fencing safe — stops treating a lease as held before it can have expired there:
 * a holder that cannot renew (a stall, a partition, the data service down) fences itself.
 */
import type { Clock, TimerHandle } from './clock.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { t, type Infer } from './schema.js';

/** What a fenced write or command carries: the lease it is made under, its owner and the epoch of the grant. */
export const FenceSchema = t.object({
  lease: t.string({ maxLength: 256 }),
  owner: t.string({ maxLength: 256 }),
  epoch: t.number(),
});
export type Fence = Infer<typeof FenceSchema>;

export type ClaimReply =
  | { granted: true; epoch: number; expires: number; takenOver: boolean }
  | { granted: false; owner: string; epoch: number; expires: number };

/** The lease operations of the data service, as a holder needs them. */
export interface LeaseStore {
  claim(name: string, owner: string, ttlMs: number, options?: { supersede?: string }): Promise<ClaimReply>;
  renew(owner: string, held: { name: string; epoch: number }[], ttlMs: number): Promise<{ expires: number; lost: string[] }>;
  release(name: string, owner: string, epoch: number): Promise<boolean>;
}

/**
 * Longest wait for a lease release, ms. A holder releases when it stops; if the data service does not
 * answer (it stops too, or restarts), the lease simply expires within ttlMs, so a stopping process
 * should not linger for the data service's full wait (30 s) on a courtesy.
 */
export const RELEASE_WAIT_MS = 2_000;

export interface LeaseTimings {
  /**
   * How long a grant or renewal lasts, ms. It is the time work stays ownerless after its owner dies
   * (takeover waits for expiry: gossip never grants ownership), against how long an owner may stall
   * without losing its work. Default 10 s: survives a 2 s stall with four renewals to spare, and takes
   * over a dead owner's work in about 10 s.
   */
  ttlMs: number;
  /** Time between renewals, ms. Default 2 s: a renewal lost to a short stall is retried well inside the lease. */
  renewIntervalMs: number;
  /**
   * How much earlier than the lease's end the holder stops acting, ms: covers clock-rate differences
   * between holder and data service and a write already on the wire. Default 1 s.
   */
  marginMs: number;
}

export const LEASE_DEFAULTS: Readonly<LeaseTimings> = Object.freeze({ ttlMs: 10_000, renewIntervalMs: 2_000, marginMs: 1_000 });

/**
 * The test profile: short enough that takeover tests run in seconds, long enough that a child process
 * on a loaded 2-core machine keeps its leases (a missed lease is safe — fenced — but makes tests slow).
 */
export const LEASE_TEST_TIMINGS: Readonly<LeaseTimings> = Object.freeze({ ttlMs: 3_000, renewIntervalMs: 500, marginMs: 500 });

export function checkLeaseTimings(t: LeaseTimings, what: string): LeaseTimings {
  if (!(t.ttlMs > 0 && t.renewIntervalMs > 0 && t.marginMs >= 0)) throw new ConfigError(`${what}: lease times must be positive (got ${JSON.stringify(t)})`);
  if (t.renewIntervalMs * 2 > t.ttlMs - t.marginMs) {
    throw new ConfigError(`${what}: renewIntervalMs (${t.renewIntervalMs}) must be at most half of ttlMs - marginMs (${t.ttlMs - t.marginMs}), ` +
      'so that one lost renewal does not lose the lease');
  }
  return t;
}

export interface HeldLease {
  readonly name: string;
  readonly epoch: number;
  /** Local clock time after which the holder must not act under this lease. */
  validUntil: number;
}

export type LeaseLossReason = 'taken' | 'expired';

/**
 * The leases of one owner. `owner` identifies this process incarnation (node id plus start time), so
 * that a restarted process is a new owner and its predecessor's leases are taken over, not inherited.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, HeldLease>();
  private readonly listeners = new Set<(name: string, reason: LeaseLossReason) => void>();
  private timer: TimerHandle | undefined;
  private renewing = false;
  /** Renewal calls that failed (data service unreachable); reset by a successful one. */
  failedRenewals = 0;

  constructor(
    private readonly store: LeaseStore,
    readonly owner: string,
    private readonly timings: LeaseTimings,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.held.size;
  }

  names(): string[] {
    return [...this.held.keys()];
  }

  /** Starts the renewal loop. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setInterval(() => void this.tick(), this.timings.renewIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Called when a lease is lost (taken over or expired locally); the holder must stop its work. */
  onLost(listener: (name: string, reason: LeaseLossReason) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Tries to take the lease; undefined when someone else holds it. */
  async claim(name: string, options?: { supersede?: string }): Promise<HeldLease | undefined> {
    const sentAt = this.clock.now();
    const r = await this.store.claim(name, this.owner, this.timings.ttlMs, options);
    if (!r.granted) return undefined;
    return this.adopt(name, r.epoch, sentAt);
  }

  /** Records a lease granted by another call (a job created already leased), sent at local time `sentAt`. */
  adopt(name: string, epoch: number, sentAt: number): HeldLease {
    const lease: HeldLease = { name, epoch, validUntil: sentAt + this.timings.ttlMs - this.timings.marginMs };
    this.held.set(name, lease);
    return lease;
  }

  get(name: string): HeldLease | undefined {
    return this.held.get(name);
  }

  /** True while this holder may still act under the lease. */
  valid(name: string): boolean {
    const l = this.held.get(name);
    return l !== undefined && this.clock.now() < l.validUntil;
  }

  fence(name: string): Fence | undefined {
    const l = this.held.get(name);
    return l === undefined ? undefined : { lease: name, owner: this.owner, epoch: l.epoch };
  }

  /**
   * Gives a lease up (work finished or handed over). The data service may already have dropped it, or
   * be gone (a whole cloud stopping at once): the release is only a courtesy that lets a standby take
   * over before expiry, so it is waited for at most RELEASE_WAIT_MS.
   */
  async release(name: string): Promise<void> {
    const l = this.held.get(name);
    if (l === undefined) return;
    this.held.delete(name);
    let timer: TimerHandle | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => { timer = this.clock.setTimeout(() => resolve('timeout'), RELEASE_WAIT_MS); });
    const done = this.store.release(name, this.owner, l.epoch).then(() => 'released' as const, (err: unknown) => {
      this.log.debug('lease release failed; it expires on its own', { lease: name, error: (err as Error).message });
      return 'failed' as const;
    });
    const outcome = await Promise.race([done, gaveUp]);
    timer?.cancel();
    if (outcome === 'timeout') this.log.debug('lease release not answered in time; it expires on its own', { lease: name, waitMs: RELEASE_WAIT_MS });
  }

  /** Forgets a lease without telling the data service (it was dropped there, e.g. by completing the job). */
  forget(name: string): void {
    this.held.delete(name);
  }

  /** One renewal round: every held lease in one call; those lost or expired locally are dropped and reported. */
  async tick(): Promise<void> {
    this.expireLocally();
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    const sentAt = this.clock.now();
    const batch = [...this.held.values()].map((l) => ({ name: l.name, epoch: l.epoch }));
    try {
      const r = await this.store.renew(this.owner, batch, this.timings.ttlMs);
      this.failedRenewals = 0;
      const lost = new Set(r.lost);
      for (const b of batch) {
        const l = this.held.get(b.name);
        if (l === undefined || l.epoch !== b.epoch) continue;
        if (lost.has(b.name)) this.lose(b.name, 'taken');
        else l.validUntil = sentAt + this.timings.ttlMs - this.timings.marginMs;
      }
    } catch (err) {
      this.failedRenewals++;
      this.log.warn('could not renew leases; work under them stops when they run out', { leases: batch.length, error: (err as Error).message });
    } finally {
      this.renewing = false;
    }
    this.expireLocally();
  }

  private expireLocally(): void {
    const now = this.clock.now();
    for (const l of [...this.held.values()]) if (now >= l.validUntil) this.lose(l.name, 'expired');
  }

  private lose(name: string, reason: LeaseLossReason): void {
    if (!this.held.delete(name)) return;
    for (const listener of this.listeners) {
      try { listener(name, reason); } catch (err) { this.log.error('lease loss listener failed', { lease: name, error: String(err) }); }
    }
  }
}
