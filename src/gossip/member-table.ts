import type { Clock } from '../clock.js';
import { shuffle, type Random } from '../random.js';
import type { Awareness } from './awareness.js';
import { suspicionTimeouts, type GossipConfig } from './config.js';
import {
  aliveOf, compareVersion, isLive, metaSize, sameMeta, toInfo, type MemberInfo, type MemberRecord,
} from './member-state.js';
import type {
  AliveUpdate, DeadUpdate, LeftUpdate, MemberMeta, MemberSnapshot, NodeId, SuspectUpdate, Update,
} from './messages.js';
import { Suspicion } from './suspicion.js';

/**
 * What happened to a member, as seen by this node:
 * - joined: a new member, or one that was dead or gone and is alive again;
 * - updated: new metadata (services, load, addresses); also emitted for this node's own updates;
 * - suspected / recovered: suspicion raised / refuted (the member is still routable meanwhile);
 * - failed: declared dead; left: left gracefully (never treated as a crash);
 * - restarted: the member came back with a new epoch, superseding its old incarnation;
 * - removed: a dead or left member is forgotten after deadRetention;
 * - superseded: about this node: another process claims its id with a newer epoch.
 */
export type MembershipEventType =
  | 'joined' | 'updated' | 'suspected' | 'recovered' | 'failed' | 'left' | 'restarted' | 'removed' | 'superseded';

export interface MembershipEvent {
  readonly type: MembershipEventType;
  readonly member: MemberInfo;
  /** The member's state before this event (null when it was unknown). */
  readonly previous: MemberInfo | null;
}

export interface TableHooks {
  broadcast(key: NodeId, update: Update): void;
  emit(event: MembershipEvent): void;
  /** Probes a suspect once more before it is declared dead (verifyBeforeDead). */
  verify(rec: MemberRecord, done: (reachable: boolean) => void): void;
  /** This node refuted a suspicion about itself; `accuser` is the member that raised it, when known. */
  refuted(alive: AliveUpdate, accuser: NodeId | null): void;
  /** This node declared a member dead: spread the verdict urgently. */
  declared(dead: DeadUpdate): void;
  /** `accuser` holds an outdated accusation about this node: send it this node's current alive message. */
  remind(alive: AliveUpdate, accuser: NodeId): void;
  /** A member became live (to be added to the probe list). */
  added(id: NodeId): void;
}

export interface TableStats {
  droppedOversizedMeta: number;
  droppedTableFull: number;
  refutations: number;
  suspicionsRaised: number;
  deathsDeclared: number;
}

export interface TableContext {
  cfg: GossipConfig;
  clock: Clock;
  random: Random;
  awareness: Awareness;
  hooks: TableHooks;
}

/** The member map and every state transition (memberlist's state.go aliveNode/suspectNode/deadNode). */
export class MemberTable {
  readonly self: MemberRecord;
  leaving = false;
  superseded = false;
  readonly stats: TableStats = {
    droppedOversizedMeta: 0, droppedTableFull: 0, refutations: 0, suspicionsRaised: 0, deathsDeclared: 0,
  };
  private readonly records = new Map<NodeId, MemberRecord>();
  /** Live members other than this node, for O(1) random choice. */
  private readonly live: NodeId[] = [];
  private readonly livePos = new Map<NodeId, number>();
  /** Dead or left members not yet forgotten. */
  private gone: NodeId[] = [];
  /** Set while bootstrapping: updates are applied but not re-gossiped. */
  private silent = false;

  constructor(private readonly ctx: TableContext, selfId: NodeId, epoch: number, meta: MemberMeta) {
    this.self = { id: selfId, epoch, inc: 0, status: 'alive', meta, since: ctx.clock.now(), suspicion: null };
    this.records.set(selfId, this.self);
  }

  get(id: NodeId): MemberRecord | undefined {
    return this.records.get(id);
  }

  all(): IterableIterator<MemberRecord> {
    return this.records.values();
  }

  /** Live members including this node (the N of the timing formulas). */
  liveCount(): number {
    return this.live.length + 1;
  }

  /** Live members other than this node (do not mutate). */
  liveIds(): readonly NodeId[] {
    return this.live;
  }

  /** Up to k distinct random live members, none in `exclude`. */
  randomLive(k: number, exclude: ReadonlySet<NodeId> | null): NodeId[] {
    const out: NodeId[] = [];
    const n = this.live.length;
    if (k <= 0 || n === 0) return out;
    if (2 * k >= n) {
      // Small cluster: a shuffle is exact, where sampling could miss the few members there are.
      for (const id of shuffle([...this.live], this.ctx.random)) if (out.length < k && exclude?.has(id) !== true) out.push(id);
      return out;
    }
    for (let tries = 0; tries < 3 * k + 16 && out.length < k; tries++) {
      const id = this.live[this.ctx.random.int(n)]!;
      if (out.includes(id) || exclude?.has(id)) continue;
      out.push(id);
    }
    return out;
  }

  /** A random member recorded dead (not left), to try to reconnect with. */
  randomDead(): NodeId | undefined {
    const dead = this.gone.filter((id) => this.records.get(id)?.status === 'dead');
    return dead.length === 0 ? undefined : dead[this.ctx.random.int(dead.length)];
  }

  /** Dead or left members that recently changed state (gossip to the dead). */
  recentlyGone(within: number): NodeId[] {
    const since = this.ctx.clock.now() - within;
    return this.gone.filter((id) => (this.records.get(id)?.since ?? -Infinity) >= since);
  }

  apply(u: Update): void {
    switch (u.t) {
      case 'alive': this.applyAlive(u); return;
      case 'suspect': this.applySuspect(u); return;
      case 'dead':
      case 'left': this.applyDead(u); return;
    }
  }

  /** Merges a push-pull state: a remote "dead" becomes a suspicion here, never an instant death. */
  merge(members: readonly MemberSnapshot[]): void {
    const selfId = this.self.id;
    for (const m of members) {
      const base = { node: m.node, epoch: m.epoch, inc: m.inc };
      if (m.status === 'alive') this.applyAlive({ t: 'alive', ...base, meta: m.meta });
      else if (m.status === 'left') this.applyDead({ t: 'left', ...base });
      else this.applySuspect({ t: 'suspect', ...base, from: selfId });
    }
  }

  applyAlive(a: AliveUpdate): void {
    if (a.node === this.self.id) { this.aliveAboutSelf(a); return; }
    if (metaSize(a.meta) > this.ctx.cfg.maxMetadataBytes) { this.stats.droppedOversizedMeta++; return; }
    const rec = this.records.get(a.node);
    if (rec === undefined) { this.addMember(a); return; }
    if (compareVersion(a.epoch, a.inc, rec.epoch, rec.inc) <= 0) return;
    const prev = toInfo(rec);
    const wasLive = isLive(rec.status);
    rec.suspicion?.cancel();
    rec.suspicion = null;
    rec.epoch = a.epoch;
    rec.inc = a.inc;
    rec.meta = a.meta;
    if (rec.status !== 'alive') rec.since = this.ctx.clock.now();
    rec.status = 'alive';
    if (!wasLive) this.setLive(rec.id, true);
    this.broadcast(a.node, a);
    let type: MembershipEventType | null = null;
    if (a.epoch > prev.epoch) type = 'restarted';
    else if (!wasLive) type = 'joined';
    else if (prev.status === 'suspect') type = 'recovered';
    else if (!sameMeta(prev.meta, a.meta)) type = 'updated';
    if (type !== null) this.ctx.hooks.emit({ type, member: toInfo(rec), previous: prev });
  }

  applySuspect(s: SuspectUpdate): void {
    const rec = this.records.get(s.node);
    if (rec === undefined || s.epoch !== rec.epoch) return;
    if (s.inc < rec.inc) { this.staleAccusation(rec, s.from); return; }
    if (rec.suspicion !== null) {
      if (rec.suspicion.confirm(s.from)) this.broadcast(s.node, s);
      return;
    }
    if (rec.status !== 'alive') return;
    if (rec === this.self) { this.refute(s.inc, s.from); return; }
    this.broadcast(s.node, s);
    const prev = toInfo(rec);
    rec.inc = s.inc;
    rec.status = 'suspect';
    rec.since = this.ctx.clock.now();
    this.stats.suspicionsRaised++;
    this.startSuspicion(rec, s.from);
    this.ctx.hooks.emit({ type: 'suspected', member: toInfo(rec), previous: prev });
  }

  applyDead(d: DeadUpdate | LeftUpdate): void {
    const rec = this.records.get(d.node);
    if (rec === undefined || d.epoch !== rec.epoch) return;
    if (d.inc < rec.inc) { if (d.t === 'dead') this.staleAccusation(rec, d.from); return; }
    if (!isLive(rec.status)) return;
    if (rec === this.self && !this.leaving) { this.refute(d.inc, d.t === 'dead' ? d.from : null); return; }
    this.broadcast(d.node, d);
    const prev = toInfo(rec);
    rec.suspicion?.cancel();
    rec.suspicion = null;
    rec.inc = d.inc;
    rec.status = d.t === 'left' ? 'left' : 'dead';
    rec.since = this.ctx.clock.now();
    if (rec !== this.self) {
      this.setLive(rec.id, false);
      this.gone.push(rec.id);
      this.ctx.hooks.emit({ type: d.t === 'left' ? 'left' : 'failed', member: toInfo(rec), previous: prev });
    }
  }

  /** Merges a known view at start-up without re-gossiping it (everyone already has it). */
  bootstrap(members: readonly MemberSnapshot[]): void {
    this.silent = true;
    try { this.merge(members); } finally { this.silent = false; }
  }

  /** This node's probe of `id` failed: suspect it at the version probed. */
  suspectFromProbe(id: NodeId, epoch: number, inc: number): void {
    this.applySuspect({ t: 'suspect', node: id, epoch, inc, from: this.self.id });
  }

  /** Publishes new metadata for this node under a new incarnation. */
  setSelfMeta(meta: MemberMeta): void {
    const prev = toInfo(this.self);
    this.self.inc++;
    this.self.meta = meta;
    this.broadcast(this.self.id, aliveOf(this.self));
    this.ctx.hooks.emit({ type: 'updated', member: toInfo(this.self), previous: prev });
  }

  /** Marks this node as leaving and returns the "left" update to spread. */
  markLeft(): LeftUpdate {
    this.leaving = true;
    this.self.inc++;
    const left: LeftUpdate = { t: 'left', node: this.self.id, epoch: this.self.epoch, inc: this.self.inc };
    this.applyDead(left);
    return left;
  }

  /** Forgets dead and left members older than deadRetention. */
  reap(): void {
    if (this.gone.length === 0) return;
    const cutoff = this.ctx.clock.now() - this.ctx.cfg.deadRetention;
    const keep: NodeId[] = [];
    for (const id of this.gone) {
      const rec = this.records.get(id);
      if (rec === undefined || isLive(rec.status)) continue;
      if (rec.since > cutoff) { keep.push(id); continue; }
      this.records.delete(id);
      this.ctx.hooks.emit({ type: 'removed', member: toInfo(rec), previous: toInfo(rec) });
    }
    this.gone = keep;
  }

  /** Cancels every suspicion timer. */
  stop(): void {
    for (const rec of this.records.values()) rec.suspicion?.cancel();
  }

  private broadcast(key: NodeId, u: Update): void {
    if (!this.silent) this.ctx.hooks.broadcast(key, u);
  }

  private addMember(a: AliveUpdate): void {
    if (this.records.size >= this.ctx.cfg.maxMembers) { this.stats.droppedTableFull++; return; }
    const rec: MemberRecord = {
      id: a.node, epoch: a.epoch, inc: a.inc, status: 'alive', meta: a.meta, since: this.ctx.clock.now(), suspicion: null,
    };
    this.records.set(rec.id, rec);
    this.setLive(rec.id, true);
    this.broadcast(a.node, a);
    this.ctx.hooks.emit({ type: 'joined', member: toInfo(rec), previous: null });
  }

  private aliveAboutSelf(a: AliveUpdate): void {
    const self = this.self;
    if (a.epoch > self.epoch) {
      if (!this.superseded) {
        this.superseded = true;
        this.ctx.hooks.emit({ type: 'superseded', member: toInfo(self), previous: null });
      }
      return;
    }
    if (a.epoch < self.epoch || a.inc < self.inc) return;
    if (a.inc === self.inc && sameMeta(a.meta, self.meta)) return;
    this.refute(a.inc, null);
  }

  /**
   * Someone still accuses this node at an incarnation it already refuted: that accuser missed the
   * refutation (gossip retransmissions are finite), so tell it directly rather than let its
   * suspicion run out. memberlist leaves this to the next push-pull, which can come too late.
   */
  private staleAccusation(rec: MemberRecord, accuser: NodeId): void {
    if (rec === this.self && accuser !== this.self.id && !this.leaving && !this.superseded) {
      this.ctx.hooks.remind(aliveOf(this.self), accuser);
    }
  }

  private refute(accusedInc: number, accuser: NodeId | null): void {
    if (this.leaving || this.superseded) return;
    this.self.inc = Math.max(this.self.inc, accusedInc) + 1;
    this.stats.refutations++;
    this.ctx.awareness.applyDelta(1);
    const a = aliveOf(this.self);
    this.broadcast(this.self.id, a);
    this.ctx.hooks.refuted(a, accuser);
  }

  private setLive(id: NodeId, live: boolean): void {
    const pos = this.livePos.get(id);
    if (live) {
      if (pos !== undefined) return;
      this.livePos.set(id, this.live.length);
      this.live.push(id);
      this.gone = this.gone.filter((g) => g !== id);
      this.ctx.hooks.added(id);
      return;
    }
    if (pos === undefined) return;
    const last = this.live.pop()!;
    if (last !== id) {
      this.live[pos] = last;
      this.livePos.set(last, pos);
    }
    this.livePos.delete(id);
  }

  private startSuspicion(rec: MemberRecord, from: NodeId): void {
    const { cfg, clock } = this.ctx;
    const n = this.liveCount();
    const k = n - 2 < cfg.suspicionConfirmations ? 0 : cfg.suspicionConfirmations;
    const { min, max } = suspicionTimeouts(cfg, n);
    const { epoch, inc } = rec;
    rec.suspicion = new Suspicion({
      clock, from, k, min, max, stallThreshold: cfg.stallThreshold, grace: cfg.probeTimeout,
      onTimeout: () => this.expired(rec.id, epoch, inc, min),
    });
  }

  private stillSuspect(id: NodeId, epoch: number, inc: number): MemberRecord | null {
    const rec = this.records.get(id);
    return rec !== undefined && rec.status === 'suspect' && rec.epoch === epoch && rec.inc === inc ? rec : null;
  }

  private expired(id: NodeId, epoch: number, inc: number, min: number): void {
    const rec = this.stillSuspect(id, epoch, inc);
    if (rec === null) return;
    const declare = (): void => {
      this.stats.deathsDeclared++;
      const dead: DeadUpdate = { t: 'dead', node: id, epoch, inc, from: this.self.id };
      this.applyDead(dead);
      this.ctx.hooks.declared(dead);
    };
    if (!this.ctx.cfg.verifyBeforeDead) { declare(); return; }
    this.ctx.hooks.verify(rec, (reachable) => {
      const cur = this.stillSuspect(id, epoch, inc);
      if (cur === null) return;
      if (!reachable) { declare(); return; }
      // Reachable after all: it has just been told of the suspicion (buddy rule) and will refute;
      // give it one more minimum window rather than clearing a suspicion others still hold.
      cur.suspicion?.cancel();
      cur.suspicion = new Suspicion({
        clock: this.ctx.clock, from: this.self.id, k: 0, min, max: min, stallThreshold: this.ctx.cfg.stallThreshold,
        grace: this.ctx.cfg.probeTimeout, onTimeout: () => this.expired(id, epoch, inc, min),
      });
    });
  }
}
