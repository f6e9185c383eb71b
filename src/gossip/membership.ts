import type { Clock, TimerHandle } from '../clock.js';
import { InvalidParameterError, LimitExceededError, StoppedError, TimeoutError } from '../errors.js';
import type { Random } from '../random.js';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { pushPullInterval, resolveConfig, type GossipConfig } from './config.js';
import {
  aliveOf, metaSize, normalizeMeta, toInfo, toSnapshot, updateSize, type MemberInfo,
} from './member-state.js';
import { MemberTable, type MembershipEvent, type TableStats } from './member-table.js';
import {
  parseEnvelope, type Body, type MemberMeta, type MemberSnapshot,
  type MemberStatus, type NodeId, type Update, type WireLimits,
} from './messages.js';
import { Prober, type ProberStats } from './prober.js';
import { Sender, type SendFn, type TrafficCounters } from './sender.js';

/**
 * The membership protocol core: SWIM with the Lifeguard refinements, as a pure state machine. It
 * never does I/O: time comes from `clock`, randomness from `random`, and every outgoing message goes
 * through `send`; whatever arrives is passed to handle(). The same code therefore runs over a real
 * transport's control lane and, a thousand instances at a time, in the deterministic simulator.
 */

export type { PeerRef, SendFn } from './sender.js';

export interface MembershipOptions {
  /** This node: its id, its epoch (must grow across restarts; the runtime uses the start time in ms) and metadata. */
  self: { id: NodeId; epoch: number; meta?: Partial<MemberMeta> };
  /** Overrides over defaultConfig(); validated once here. */
  config?: Partial<GossipConfig>;
  clock: Clock;
  random: Random;
  send: SendFn;
  /** Members known at start (a cached view, or a simulator bootstrap), merged like a push-pull. */
  initialMembers?: readonly MemberSnapshot[];
  /** Receives errors thrown by change listeners (default: rethrown asynchronously). */
  onListenerError?: (err: unknown) => void;
}

export interface MembershipStats extends TableStats, ProberStats, TrafficCounters {
  awareness: number;
  broadcastQueue: number;
  broadcastsDropped: number;
  members: Record<MemberStatus, number>;
}

export type MembershipListener = (event: MembershipEvent) => void;

/** Estimated bytes of a member snapshot besides its id and metadata. */
const SNAPSHOT_OVERHEAD = 64;

export class Membership {
  readonly config: GossipConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly sender: Sender;
  private readonly awareness: Awareness;
  private readonly queue: BroadcastQueue;
  private readonly table: MemberTable;
  private readonly prober: Prober;
  private readonly limits: WireLimits;
  private readonly listeners = new Set<MembershipListener>();
  private readonly onListenerError: (err: unknown) => void;
  private readonly timers = new Set<TimerHandle>();
  private seeds: readonly string[] = [];
  private joinWaiters: { resolve: (n: number) => void; reject: (e: Error) => void }[] = [];
  private leaveWaiters: (() => void)[] = [];
  private retrying = false;
  private started = false;
  private stopped = false;

  constructor(o: MembershipOptions) {
    this.config = resolveConfig(o.config);
    const cfg = this.config;
    this.clock = o.clock;
    this.random = o.random;
    this.onListenerError = o.onListenerError ?? ((err) => queueMicrotask(() => { throw err; }));
    if (typeof o.self.id !== 'string' || o.self.id.length === 0 || o.self.id.length > cfg.maxStringLength) {
      throw new InvalidParameterError(`membership: node id must be a non-empty string of at most ${cfg.maxStringLength} characters`);
    }
    if (!Number.isSafeInteger(o.self.epoch) || o.self.epoch < 0) {
      throw new InvalidParameterError(`membership: epoch must be a non-negative integer (use the process start time in ms), got ${o.self.epoch}`);
    }
    const meta = this.checkedMeta(normalizeMeta(o.self.meta));
    this.limits = {
      maxUpdatesPerMessage: cfg.maxUpdatesPerMessage, maxMembers: cfg.maxMembers,
      maxStringLength: cfg.maxStringLength, maxMetaEntries: cfg.maxMetaEntries,
    };
    this.awareness = new Awareness(cfg.awarenessMaxMultiplier);
    this.queue = new BroadcastQueue(cfg.maxBroadcastQueue);
    this.table = new MemberTable({
      cfg, clock: this.clock, random: this.random, awareness: this.awareness,
      hooks: {
        broadcast: (key, u) => this.queue.push(key, u, updateSize(u)),
        emit: (ev) => this.emit(ev),
        verify: (rec, done) => this.prober.verify(rec, done),
        refuted: (a, accuser) => this.urgent(a, accuser),
        declared: (d) => this.urgent(d, null),
        remind: (a, accuser) => this.sender.toMember(accuser, { t: 'gossip' }, [a], undefined, false),
        added: (id) => this.prober.added(id),
      },
    }, o.self.id, o.self.epoch, meta);
    this.prober = new Prober({
      cfg, clock: this.clock, random: this.random, awareness: this.awareness, table: this.table,
      sendTo: (id, body, extra, addr) => this.sender.toMember(id, body, extra ?? [], addr),
    });
    this.sender = new Sender(cfg, this.queue, this.table, o.send);
    if (o.initialMembers !== undefined) this.table.bootstrap(o.initialMembers);
  }

  get id(): NodeId {
    return this.table.self.id;
  }

  /** This node as the others see it. */
  get self(): MemberInfo {
    return toInfo(this.table.self);
  }

  /** Local health score (0 = healthy); timeouts are stretched by (score + 1). */
  get healthScore(): number {
    return this.awareness.score;
  }

  /** Starts probing, gossip and push-pull. join() calls it; call it directly for the first node of a cluster. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.prober.start();
    const cfg = this.config;
    this.every(() => cfg.gossipInterval, () => this.gossip(), this.random.int(cfg.gossipInterval));
    const pp = (): number => pushPullInterval(cfg, this.table.liveCount());
    this.every(pp, () => this.pushPullWith(this.table.randomLive(1, null)[0]), this.random.int(pp()));
    // Partition healing (Serf's reconnect): members on the far side of a healed partition are
    // recorded dead and nothing else would ever talk to them again.
    this.every(() => cfg.reconnectInterval, () => this.pushPullWith(this.table.randomDead()), cfg.reconnectInterval);
  }

  /**
   * Contacts the seeds (addresses) with a full-state exchange and keeps retrying while no other member
   * is known. Resolves with the number of members known once a seed answered (at once when `seeds` is
   * empty); rejects with a TimeoutError after config.joinTimeout, the retries going on regardless.
   */
  join(seeds: readonly string[]): Promise<number> {
    if (this.stopped) return Promise.reject(new StoppedError('membership is stopped: create a new one to rejoin'));
    this.start();
    this.seeds = [...seeds];
    if (this.seeds.length === 0) return Promise.resolve(this.table.liveCount());
    const p = new Promise<number>((resolve, reject) => this.joinWaiters.push({ resolve, reject }));
    const timeout = this.clock.setTimeout(() => {
      this.timers.delete(timeout);
      this.failJoin(new TimeoutError(`no seed answered within ${this.config.joinTimeout} ms (seeds: ${this.seeds.join(', ')}); still retrying every ${this.config.joinRetryInterval} ms`));
    }, this.config.joinTimeout);
    this.timers.add(timeout);
    this.contactSeeds();
    if (!this.retrying) {
      this.retrying = true;
      const retry = (): void => { if (this.table.liveCount() === 1) this.contactSeeds(); };
      this.every(() => this.config.joinRetryInterval, retry, this.config.joinRetryInterval);
    }
    return p;
  }

  /**
   * Leaves gracefully: peers record this node as "left", not failed. Stops probing at once, keeps
   * gossiping for config.leaveDrainTime so that the news spreads, then stops.
   */
  leave(): Promise<void> {
    if (this.stopped || this.table.leaving) return Promise.resolve();
    const left = this.table.markLeft();
    this.prober.stop();
    for (const id of this.table.randomLive(this.config.gossipNodes * 2, null)) this.sender.toMember(id, { t: 'gossip' }, [left]);
    return new Promise((resolve) => {
      this.leaveWaiters.push(resolve);
      const t = this.clock.setTimeout(() => this.stop(), this.config.leaveDrainTime);
      this.timers.add(t);
    });
  }

  /** Stops every timer; nothing is sent or handled afterwards. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.sender.stopped = true;
    this.prober.stopAll();
    this.table.stop();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.failJoin(new StoppedError('membership stopped before any seed answered'));
    for (const done of this.leaveWaiters) done();
    this.leaveWaiters = [];
  }

  /** Feeds one message from the network (`from`: the sender as the transport knows it, or null). */
  handle(from: NodeId | null, raw: unknown): void {
    if (this.stopped) return;
    const parsed = parseEnvelope(raw, this.limits);
    if (!parsed.ok) { this.sender.counters.droppedInvalid++; return; }
    const env = parsed.envelope;
    if (env.cluster !== this.config.cluster) { this.sender.counters.droppedForeignCluster++; return; }
    if ((from !== null && from !== env.from) || env.from === this.id) { this.sender.counters.droppedSpoofed++; return; }
    this.sender.counters.received++;
    for (const u of env.updates) this.table.apply(u);
    this.dispatch(env.from, env.body);
  }

  /** Members as this node sees them (this node included unless includeSelf is false). */
  members(opts: { includeSelf?: boolean; status?: readonly MemberStatus[] } = {}): MemberInfo[] {
    const out: MemberInfo[] = [];
    for (const r of this.table.all()) {
      if (r === this.table.self && opts.includeSelf === false) continue;
      if (opts.status !== undefined && !opts.status.includes(r.status)) continue;
      out.push(toInfo(r));
    }
    return out;
  }

  member(id: NodeId): MemberInfo | undefined {
    const r = this.table.get(id);
    return r === undefined ? undefined : toInfo(r);
  }

  /** The addresses a member advertises (for the transport to dial). */
  addressesOf(id: NodeId): readonly string[] {
    return this.table.get(id)?.meta.addresses ?? [];
  }

  /** Subscribes to membership changes; returns the unsubscribe function. */
  onChange(listener: MembershipListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /**
   * Publishes new metadata (merged over the current one) under a new incarnation. Each call is
   * gossiped to the whole cluster: update load figures every few seconds at most, not per request.
   */
  updateMetadata(patch: Partial<MemberMeta>): void {
    if (this.stopped) throw new StoppedError('membership is stopped');
    this.table.setSelfMeta(this.checkedMeta(normalizeMeta(patch, this.table.self.meta)));
  }

  /** Early evidence from a transport: the connection to `id` dropped. Probes it now instead of at its turn. */
  peerConnectionLost(id: NodeId): void {
    if (!this.stopped) this.prober.hint(id);
  }

  stats(): MembershipStats {
    const members: Record<MemberStatus, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const r of this.table.all()) members[r.status]++;
    return {
      ...this.sender.counters, sentByType: { ...this.sender.counters.sentByType }, ...this.table.stats, ...this.prober.stats,
      awareness: this.awareness.score, broadcastQueue: this.queue.length, broadcastsDropped: this.queue.droppedCount, members,
    };
  }

  private checkedMeta(meta: MemberMeta): MemberMeta {
    const size = metaSize(meta);
    if (size > this.config.maxMetadataBytes) {
      throw new LimitExceededError(`member metadata is ${size} bytes, over maxMetadataBytes (${this.config.maxMetadataBytes}): advertise fewer services or shorter names, or raise the limit on every node`);
    }
    return meta;
  }

  private dispatch(from: NodeId, body: Body): void {
    switch (body.t) {
      case 'ping': this.onPing(from, body.seq, body.target, body.epoch); return;
      case 'ping-req': if (body.target !== this.id) this.prober.relay(from, body); return;
      case 'ack': this.prober.onAck(body.seq); return;
      case 'nack': this.prober.onNack(body.seq); return;
      case 'push-pull': this.onPushPull(from, body.join, body.reply, body.members); return;
      case 'gossip': return;
    }
  }

  private onPing(from: NodeId, seq: number, target: NodeId, epoch: number): void {
    const self = this.table.self;
    if (target !== self.id || epoch > self.epoch) return;
    // A ping for this node's previous life: answer with the new epoch instead, which supersedes it at once.
    if (epoch < self.epoch) { this.sender.toMember(from, { t: 'gossip' }, [aliveOf(self)], undefined, false); return; }
    this.sender.toMember(from, { t: 'ack', seq });
  }

  private onPushPull(from: NodeId, join: boolean, reply: boolean, members: readonly MemberSnapshot[]): void {
    this.table.merge(members);
    if (!reply) {
      this.sender.toMember(from, { t: 'push-pull', join, reply: true, members: this.snapshot() }, [], undefined, false);
      return;
    }
    if (this.joinWaiters.length > 0) {
      const n = this.table.liveCount();
      for (const w of this.joinWaiters) w.resolve(n);
      this.joinWaiters = [];
    }
  }

  /**
   * This node's view for a push-pull, within maxStateBytes: itself first, then the others from a
   * random starting point, so that a view too large for one exchange is still covered over several.
   */
  private snapshot(): MemberSnapshot[] {
    const self = this.table.self;
    const out: MemberSnapshot[] = [toSnapshot(self)];
    let budget = this.config.maxStateBytes - metaSize(self.meta);
    const all = [...this.table.all()];
    const start = this.random.int(all.length);
    for (let i = 0; i < all.length && out.length < this.config.maxMembers; i++) {
      const r = all[(start + i) % all.length]!;
      if (r === self) continue;
      budget -= SNAPSHOT_OVERHEAD + r.id.length + metaSize(r.meta);
      if (budget < 0) break;
      out.push(toSnapshot(r));
    }
    return out;
  }

  private contactSeeds(): void {
    const body: Body = { t: 'push-pull', join: true, reply: false, members: this.snapshot() };
    for (const addr of this.seeds) this.sender.send({ node: null, addresses: [addr] }, body, [], false);
  }

  private failJoin(err: Error): void {
    const waiters = this.joinWaiters;
    this.joinWaiters = [];
    for (const w of waiters) w.reject(err);
  }

  private gossip(): void {
    this.table.reap();
    if (this.queue.length === 0) return;
    const cfg = this.config;
    const live = this.table.liveIds();
    const gone = this.table.recentlyGone(cfg.gossipToTheDeadTime);
    const pool = live.length + gone.length;
    const picked = new Set<NodeId>();
    for (let i = 0; i < cfg.gossipNodes * 3 && picked.size < Math.min(cfg.gossipNodes, pool); i++) {
      const r = this.random.int(pool);
      picked.add(r < live.length ? live[r]! : gone[r - live.length]!);
    }
    for (const id of picked) {
      if (this.queue.length === 0) return;
      this.sender.toMember(id, { t: 'gossip' });
    }
  }

  private pushPullWith(id: NodeId | undefined): void {
    if (id !== undefined) this.sender.toMember(id, { t: 'push-pull', join: false, reply: false, members: this.snapshot() }, [], undefined, false);
  }

  /** Refutations and verdicts go to a few random members (and the accuser) directly, besides the broadcast queue. */
  private urgent(u: Update, accuser: NodeId | null): void {
    const targets = new Set(this.table.randomLive(this.config.urgentFanout, null));
    if (accuser !== null && accuser !== this.id) targets.add(accuser);
    for (const id of targets) this.sender.toMember(id, { t: 'gossip' }, [u], undefined, false);
  }

  /** Runs `fn` every period() ms (re-read each time, so it can follow N or local health), first after `first` ms. */
  private every(period: () => number, fn: () => void, first: number): void {
    const run = (): void => {
      this.timers.delete(handle);
      if (this.stopped) return;
      handle = this.clock.setTimeout(run, period());
      this.timers.add(handle);
      fn();
    };
    let handle = this.clock.setTimeout(run, first);
    this.timers.add(handle);
  }

  private emit(ev: MembershipEvent): void {
    for (const l of this.listeners) {
      try { l(ev); } catch (err) { this.onListenerError(err); }
    }
  }
}

/** Creates a membership (not started: call join(seeds) or start()). */
export function createMembership(o: MembershipOptions): Membership {
  return new Membership(o);
}
