/**
 * The admission policy shared by the HTTP API and the ws transport's listening port: a bounded table
 * of connections, a cap per source address, and, when a newcomer finds either full, the eviction of
 * an old connection that is doing nothing useful instead of the refusal of the newcomer.
 *
 * Why evict rather than refuse: refusing newcomers when the table is full hands the port to whoever
 * filled it first — one client holding a thousand idle or half-sent requests locks everyone else out
 * for as long as it likes. Evicting the oldest unproductive connection bounds how long any
 * connection can hold a slot while the port is under pressure, and a real client, whose request
 * arrives in one go, is never the oldest one waiting.
 *
 * Which connection goes, in order:
 *  1. a newcomer from an address already at its cap evicts that same address's own oldest connection
 *     (an address competes only with itself), and is refused when all of them are busy;
 *  2. when the whole table is full, the victim comes from the address holding the most connections
 *     (the heaviest user pays, not a client with one connection), falling back to lighter addresses
 *     only when the heavier ones have nothing evictable; the newcomer is refused when no connection
 *     anywhere is evictable.
 * Within an address, `incomplete` connections (a request or handshake not fully received) go before
 * `idle` ones (kept alive between requests): an idle connection has been served and will likely be
 * used again, while a request still trickling in after everything else arrived is the slow one.
 * Within a tier, the one that has waited longest in it goes first. `busy` connections (a request
 * being served) are never evicted, nor is a connection the owner reports as not yet evictable (one
 * just accepted, whose first bytes the server has not had the chance to read: see fresh-marks.ts) —
 * otherwise a burst of newcomers, all accepted in one event-loop turn, could evict each other before
 * any of them was read.
 */

export type Tier = 'incomplete' | 'idle' | 'busy';

export interface TableLimits {
  /** Most connections in the table. */
  readonly maxConnections: number;
  /** Most connections from one source (see address-key.ts); at most maxConnections. */
  readonly maxPerAddress: number;
}

export interface TableOptions<T> extends TableLimits {
  /** False for a connection that may not be evicted yet although its tier allows it. Default: always true. */
  readonly mayEvict?: (conn: T) => boolean;
}

export type Admission<T> =
  | { readonly admitted: true; /** Close and remove this one first. */ readonly evict: T | undefined }
  | { readonly admitted: false; readonly reason: 'address-full' | 'table-full' };

interface Group<T> {
  count: number;
  /** Insertion-ordered: the first entry has waited longest in its tier. */
  readonly incomplete: Set<T>;
  readonly idle: Set<T>;
}

interface Entry {
  readonly key: string;
  tier: Tier;
}

export class ConnectionTable<T> {
  private readonly groups = new Map<string, Group<T>>();
  private readonly entries = new Map<T, Entry>();

  private readonly mayEvict: (conn: T) => boolean;

  constructor(private readonly limits: TableOptions<T>) {
    this.mayEvict = limits.mayEvict ?? (() => true);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Connections from one source now. */
  sizeOf(key: string): number {
    return this.groups.get(key)?.count ?? 0;
  }

  has(conn: T): boolean {
    return this.entries.has(conn);
  }

  /** Decides about a newcomer from `key` without changing the table; the caller evicts, then add()s. */
  admit(key: string): Admission<T> {
    const own = this.groups.get(key);
    if (own !== undefined && own.count >= this.limits.maxPerAddress) {
      const victim = this.oldest(own);
      return victim === undefined ? { admitted: false, reason: 'address-full' } : { admitted: true, evict: victim };
    }
    if (this.entries.size < this.limits.maxConnections) return { admitted: true, evict: undefined };
    const victim = this.victimFromHeaviest();
    return victim === undefined ? { admitted: false, reason: 'table-full' } : { admitted: true, evict: victim };
  }

  add(conn: T, key: string, tier: Tier): void {
    if (this.entries.has(conn)) throw new Error('connection added to the table twice');
    let g = this.groups.get(key);
    if (g === undefined) {
      g = { count: 0, incomplete: new Set(), idle: new Set() };
      this.groups.set(key, g);
    }
    g.count++;
    this.entries.set(conn, { key, tier });
    place(g, conn, tier);
  }

  /** Moves a connection to a tier, at the back of its queue (it starts waiting there now). */
  setTier(conn: T, tier: Tier): void {
    const e = this.entries.get(conn);
    if (e === undefined) return;
    const g = this.groups.get(e.key)!;
    unplace(g, conn, e.tier);
    e.tier = tier;
    place(g, conn, tier);
  }

  /** Forgets a connection; false when it was not in the table. */
  remove(conn: T): boolean {
    const e = this.entries.get(conn);
    if (e === undefined) return false;
    this.entries.delete(conn);
    const g = this.groups.get(e.key)!;
    unplace(g, conn, e.tier);
    if (--g.count === 0) this.groups.delete(e.key);
    return true;
  }

  /** Every connection in the table (a snapshot). */
  all(): T[] {
    return [...this.entries.keys()];
  }

  /** The heaviest address's victim; a lighter address's only when the heavier ones have none. */
  private victimFromHeaviest(): T | undefined {
    let heaviest: Group<T> | undefined;
    for (const g of this.groups.values()) if (heaviest === undefined || g.count > heaviest.count) heaviest = g;
    const first = heaviest === undefined ? undefined : this.oldest(heaviest);
    if (first !== undefined) return first;
    // Rare: the heaviest address has nothing evictable now; try the others, heaviest first.
    const candidates = [...this.groups.values()].filter((g) => g !== heaviest && (g.incomplete.size > 0 || g.idle.size > 0));
    candidates.sort((a, b) => b.count - a.count);
    for (const g of candidates) {
      const victim = this.oldest(g);
      if (victim !== undefined) return victim;
    }
    return undefined;
  }

  private oldest(g: Group<T>): T | undefined {
    for (const c of g.incomplete) if (this.mayEvict(c)) return c;
    for (const c of g.idle) if (this.mayEvict(c)) return c;
    return undefined;
  }
}

function place<T>(g: Group<T>, conn: T, tier: Tier): void {
  if (tier === 'incomplete') g.incomplete.add(conn);
  else if (tier === 'idle') g.idle.add(conn);
}

function unplace<T>(g: Group<T>, conn: T, tier: Tier): void {
  if (tier === 'incomplete') g.incomplete.delete(conn);
  else if (tier === 'idle') g.idle.delete(conn);
}
