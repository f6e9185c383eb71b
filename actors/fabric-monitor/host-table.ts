import type { DataApi } from '../data/protocol.js';

export type HostRow = Awaited<ReturnType<DataApi['hosts']['get']>>;

/** What the monitor keeps per host between heartbeats (memory only: it is rebuilt after a restart). */
export interface Tracked {
  readonly id: string;
  name: string;
  /** Where the host sits (its storage reports are booked on the pools it reaches). */
  zoneid: string | undefined;
  clusterid: string | undefined;
  /** Status as last read from or written to the database. */
  state: string;
  resourcestate: string;
  /** When the monitor learned of the host (a host admitted later gets its own first-heartbeat grace). */
  addedAt: number;
  /** Monitor clock ms of the last heartbeat (undefined: none since the monitor started). */
  lastHeartbeat: number | undefined;
  bootId: string | undefined;
  /** VMs the last heartbeat listed as running. */
  running: Set<string>;
  /** When the reports were last reconciled with the database. */
  syncedAt: number | undefined;
  /** VM → since when the database says Running here but the reports do not list it. */
  missing: Map<string, number>;
  /** VM → since when the host runs it but the database does not place it here. */
  stray: Map<string, number>;
  fenced: boolean;
  /** When the host went Down, and the boot id it had then (the same boot coming back is a zombie). */
  downAt: number | undefined;
  downBootId: string | undefined;
  disconnectedAt: number | undefined;
  /** When the last investigation ended (Alert hosts are looked at again after a while). */
  investigatedAt: number | undefined;
  /** Investigate at the next check (set by a gossip verdict). */
  investigateNow: boolean;
  /** The last HA scan of a Down host. */
  haScannedAt: number | undefined;
  /** Why HA is waiting (written to an event once per reason). */
  haWaitReason: string | undefined;
  /** An asynchronous step on this host is running; heartbeats arriving meanwhile wait in `pending`. */
  busy: boolean;
}

function track(h: HostRow, now: number): Tracked {
  return {
    id: h.id, name: h.name, zoneid: h.zoneid, clusterid: h.clusterid, state: h.state, resourcestate: h.resourcestate, addedAt: now, lastHeartbeat: undefined, bootId: undefined, syncedAt: undefined,
    running: new Set(), missing: new Map(), stray: new Map(), fenced: false, downAt: undefined, downBootId: undefined,
    disconnectedAt: undefined, investigatedAt: undefined, investigateNow: false, haScannedAt: undefined,
    haWaitReason: undefined, busy: false,
  };
}

/** The hosts the monitor knows, by id and by name, refreshed from the database now and then. */
export class HostTable {
  private readonly byId = new Map<string, Tracked>();
  private readonly byName = new Map<string, Tracked>();

  constructor(private readonly maxHosts: number) {}

  get size(): number {
    return this.byId.size;
  }

  all(): Tracked[] {
    return [...this.byId.values()];
  }

  get(id: string): Tracked | undefined {
    return this.byId.get(id);
  }

  named(name: string): Tracked | undefined {
    return this.byName.get(name);
  }

  /** Adds or updates a host from its row; returns it, or undefined when the table is full. */
  upsert(h: HostRow, now: number): Tracked | undefined {
    let t = this.byId.get(h.id);
    if (t === undefined) {
      if (this.byId.size >= this.maxHosts) return undefined;
      t = track(h, now);
      if (h.state === 'Disconnected') t.disconnectedAt = now;
      if (h.state === 'Down') t.downAt = now;
      this.byId.set(h.id, t);
    } else if (!t.busy) {
      if (t.state !== h.state && h.state === 'Down') t.downAt ??= now;
      t.state = h.state;
    }
    t.resourcestate = h.resourcestate;
    t.zoneid = h.zoneid;
    t.clusterid = h.clusterid;
    if (t.name !== h.name) this.byName.delete(t.name);
    t.name = h.name;
    this.byName.set(h.name, t);
    return t;
  }

  remove(id: string): void {
    const t = this.byId.get(id);
    if (t === undefined) return;
    this.byId.delete(id);
    if (this.byName.get(t.name) === t) this.byName.delete(t.name);
  }

  /** Replaces the table's view with the database's routing hosts (removed ones are dropped). */
  sync(rows: readonly HostRow[], now: number): void {
    const seen = new Set<string>();
    for (const r of rows) {
      if (r.type !== 'Routing') continue;
      seen.add(r.id);
      this.upsert(r, now);
    }
    for (const id of [...this.byId.keys()]) if (!seen.has(id) && !this.byId.get(id)!.busy) this.remove(id);
  }
}
