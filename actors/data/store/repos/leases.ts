import { FencedError, InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';

/** A lease as stored: who holds it, at which fencing epoch, until when (the data service's clock, ms). */
export interface LeaseState {
  name: string;
  owner: string;
  epoch: number;
  expires: number;
  /** When the current owner was granted it. */
  acquired: number;
}

export type ClaimResult =
  | { granted: true; epoch: number; expires: number; takenOver: boolean }
  | { granted: false; owner: string; epoch: number; expires: number };

/** What a fenced write carries: the lease it is made under, its owner, and the epoch it was granted at. */
export interface Fence {
  lease: string;
  owner: string;
  epoch: number;
}

export interface ClaimOptions {
  /**
   * Take the lease even from a live holder whose owner id starts with this prefix: a restarted process
   * taking over from its own previous incarnation (same node, new incarnation), which is known dead.
   */
  supersede?: string;
}

/** Longest lease a caller may ask for, ms: a longer one would keep work ownerless too long after a crash. */
export const MAX_LEASE_TTL_MS = 600_000;

interface LeaseRow {
  name: string;
  owner: string;
  epoch: number;
  expires: number;
  acquired: number;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_LEASE_TTL_MS) {
    throw new InvalidParameterError(`a lease time must be 1..${MAX_LEASE_TTL_MS} ms, got ${ttlMs}`);
  }
}

/**
 * Leases with fencing epochs: the way work gets exactly one owner at a time across processes. The data
 * service is the one linearizable store, so a compare-and-set here decides ownership; gossip only hints
 * that an owner may be gone. Every grant to a new holder draws the next value of one global counter, so
 * epochs only grow, across leases too.
 */
export class LeaseRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(name: string): LeaseState | undefined {
    return this.ctx.one<LeaseRow>('SELECT name, owner, epoch, expires, acquired FROM lease WHERE name = ?', name);
  }

  /** Leases whose name starts with `prefix` (e.g. `job:`), held or expired; at most `limit`. */
  list(prefix: string, limit = 1000): LeaseState[] {
    return this.ctx.all<LeaseRow>(`SELECT name, owner, epoch, expires, acquired FROM lease
      WHERE name >= ? AND name < ? ORDER BY name LIMIT ?`, prefix, `${prefix}\uffff`, Math.max(1, Math.min(limit, 10_000)));
  }

  /**
   * Grants `name` to `owner` for `ttlMs` when it is free, expired, or already this owner's (a renewal,
   * which keeps the epoch). A grant to a new holder takes the next epoch. Otherwise says who holds it.
   */
  claim(name: string, owner: string, ttlMs: number, o: ClaimOptions = {}): ClaimResult {
    checkTtl(ttlMs);
    return this.ctx.tx(() => {
      const now = this.ctx.now();
      const cur = this.get(name);
      const expires = now + ttlMs;
      if (cur !== undefined && cur.owner === owner) {
        this.ctx.run('UPDATE lease SET expires = ? WHERE name = ?', expires, name);
        return { granted: true, epoch: cur.epoch, expires, takenOver: false };
      }
      const superseded = o.supersede !== undefined && o.supersede !== '' && cur?.owner.startsWith(o.supersede) === true;
      if (cur !== undefined && cur.expires > now && !superseded) {
        return { granted: false, owner: cur.owner, epoch: cur.epoch, expires: cur.expires };
      }
      const epoch = this.nextEpoch();
      this.ctx.run(`INSERT INTO lease (name, owner, epoch, expires, acquired) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch, expires = excluded.expires,
        acquired = excluded.acquired`, name, owner, epoch, expires, now);
      return { granted: true, epoch, expires, takenOver: cur !== undefined };
    });
  }

  /**
   * Extends the leases `owner` still holds at the given epochs (one call for all of an owner's leases).
   * A lease taken over by someone else, or released, is reported lost: its holder must stop at once.
   */
  renew(owner: string, held: readonly { name: string; epoch: number }[], ttlMs: number): { expires: number; lost: string[] } {
    checkTtl(ttlMs);
    return this.ctx.tx(() => {
      const expires = this.ctx.now() + ttlMs;
      const lost: string[] = [];
      for (const h of held) {
        const res = this.ctx.run('UPDATE lease SET expires = ? WHERE name = ? AND owner = ? AND epoch = ?', expires, h.name, owner, h.epoch);
        if (res.changes === 0) lost.push(h.name);
      }
      return { expires, lost };
    });
  }

  /**
   * Gives the lease up (only its holder at that epoch can): it is free at once for the next claim, and
   * the old holder's writes under it are refused. True when it was held.
   */
  release(name: string, owner: string, epoch: number): boolean {
    return this.ctx.run("UPDATE lease SET owner = '', expires = 0 WHERE name = ? AND owner = ? AND epoch = ?", name, owner, epoch).changes > 0;
  }

  /**
   * Refuses a write made under a lease its writer no longer holds at that epoch (taken over, or given up
   * when the work finished). Called inside the write's transaction, so the check and the write are atomic.
   */
  checkFence(f: Fence): void {
    const cur = this.get(f.lease);
    if (cur === undefined || cur.owner !== f.owner || cur.epoch !== f.epoch) {
      const now = cur === undefined || cur.owner === '' ? 'nobody holds it now' : `it is held by ${cur.owner} at epoch ${cur.epoch}`;
      throw new FencedError(`refused a write under lease ${f.lease} by ${f.owner} at epoch ${f.epoch}: ${now}; ` +
        'the writer must stop working on it', { details: { lease: f.lease, epoch: f.epoch } });
    }
  }

  private nextEpoch(): number {
    this.ctx.run('UPDATE lease_epoch SET value = value + 1 WHERE id = 1');
    return this.ctx.one<{ value: number }>('SELECT value FROM lease_epoch WHERE id = 1')!.value;
  }
}
