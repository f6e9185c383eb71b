import { SimulatedClock, type Clock, type TimerHandle } from '../clock.js';
import { InvalidParameterError, NotFoundError } from '../errors.js';
import { createSeededRandom, type Random } from '../random.js';
import type { GossipConfig } from './config.js';
import type { MemberMeta, MemberSnapshot, MemberStatus, GossipEnvelope } from './messages.js';
import type { MembershipEvent } from './member-table.js';
import { Membership, type PeerRef } from './membership.js';
import { SimNetwork, type SimNetworkOptions } from './sim-network.js';

/**
 * The deterministic cluster simulator: N memberships in one process on one SimulatedClock, over a
 * simulated network with per-link loss and delay and partitions (one-way too), plus node pause,
 * crash and restart with a new epoch. Everything random comes from `seed`, and timers fire in a fixed
 * order, so the same seed and the same calls produce the same trace.
 *
 * A paused node models a stalled event loop: its timers and incoming messages wait; on resume the
 * overdue timers run first and the queued messages after, as in Node's event loop (timers phase
 * before the poll phase), which is the order most likely to make a stalled node accuse others.
 */
export interface SimulatorOptions extends SimNetworkOptions {
  seed: number;
  /** Gossip config overrides for every node. */
  config?: Partial<GossipConfig>;
  /** Record membership events in `trace` (default true; turn off for large benchmarks). */
  trace?: boolean;
}

export interface SimNodeOptions {
  id?: string;
  /** Cluster label (default: the config's). Two labels on one network never merge. */
  cluster?: string;
  meta?: Partial<MemberMeta>;
  config?: Partial<GossipConfig>;
}

export type SimNodeState = 'running' | 'paused' | 'crashed' | 'stopped';

export type SimEventListener = (observer: string, event: MembershipEvent, time: number) => void;

interface Proc {
  membership: Membership;
  epoch: number;
  state: SimNodeState;
  deferred: (() => void)[];
  inbox: [string, GossipEnvelope][];
  resumeTimer: TimerHandle | null;
}

export class SimNode {
  /** Messages this node has sent, over all its restarts. */
  sent = 0;
  /** @internal */ proc: Proc | null = null;
  constructor(readonly id: string, readonly address: string, readonly index: number, readonly options: SimNodeOptions) {}

  get membership(): Membership {
    if (this.proc === null) throw new NotFoundError(`simulated node ${this.id} was never started`);
    return this.proc.membership;
  }

  get state(): SimNodeState {
    return this.proc?.state ?? 'stopped';
  }

  get epoch(): number {
    return this.proc?.epoch ?? 0;
  }
}

export class ClusterSimulator {
  readonly clock = new SimulatedClock(0);
  readonly trace: string[] = [];
  readonly network: SimNetwork;
  private readonly rng: Random;
  private readonly nodes: SimNode[] = [];
  private readonly byId = new Map<string, SimNode>();
  private readonly byAddress = new Map<string, SimNode>();
  private readonly listeners = new Set<SimEventListener>();

  constructor(private readonly o: SimulatorOptions) {
    this.rng = createSeededRandom(o.seed);
    this.network = new SimNetwork(this.clock, createSeededRandom(o.seed ^ 0x5bd1e995), o, {
      resolve: (to) => this.resolve(to),
      deliver: (node, from, env) => this.deliver(node, from, env),
    });
  }

  /** Creates a node (not started). */
  addNode(opts: SimNodeOptions = {}): SimNode {
    const index = this.nodes.length;
    const id = opts.id ?? `n${String(index).padStart(4, '0')}`;
    if (this.byId.has(id)) throw new InvalidParameterError(`simulated node ${id} already exists`);
    const node = new SimNode(id, `sim://${id}`, index, opts);
    this.nodes.push(node);
    this.byId.set(id, node);
    return node;
  }

  /** Starts a node process (a new epoch each time) and joins it through `seeds` (addresses). */
  start(id: string, seeds: readonly string[] = [], initialMembers?: readonly MemberSnapshot[]): SimNode {
    const node = this.node(id);
    if (node.proc !== null && node.proc.state !== 'crashed' && node.proc.state !== 'stopped') {
      throw new InvalidParameterError(`simulated node ${id} is already running`);
    }
    const epoch = node.epoch + 1;
    const proc = this.spawn(node, epoch, initialMembers);
    if (seeds.length > 0) proc.membership.join(seeds).catch(() => { /* retried in the background */ });
    else proc.membership.start();
    this.note(`start ${id} epoch=${epoch}`);
    return node;
  }

  /**
   * Adds and starts `n` nodes. `converged`: every node starts knowing all the others (a settled
   * cluster, for benchmarks); otherwise the first starts alone and the others join through it.
   */
  addCluster(n: number, opts: SimNodeOptions & { converged?: boolean } = {}): SimNode[] {
    const { converged: _c, id: _id, ...shared } = opts;
    const added = Array.from({ length: n }, () => this.addNode(shared));
    if (opts.converged === true) {
      const snaps = added.map((nd) => this.snapshotOf(nd, 1, opts.meta));
      for (const nd of added) this.start(nd.id, [], snaps);
    } else {
      const [first, ...rest] = added;
      if (first !== undefined) this.start(first.id);
      for (const nd of rest) this.start(nd.id, [first!.address]);
    }
    return added;
  }

  node(id: string): SimNode {
    const n = this.byId.get(id);
    if (n === undefined) throw new NotFoundError(`no simulated node ${id}`);
    return n;
  }

  all(): readonly SimNode[] {
    return this.nodes;
  }

  /** Nodes currently running or paused (not crashed, not stopped). */
  up(): SimNode[] {
    return this.nodes.filter((n) => n.state === 'running' || n.state === 'paused');
  }

  /** Kills a node at once: no goodbye, its timers and queued messages are lost. */
  crash(id: string): void {
    const proc = this.node(id).proc;
    if (proc === null || proc.state === 'crashed') return;
    proc.state = 'crashed';
    proc.resumeTimer?.cancel();
    proc.membership.stop();
    this.note(`crash ${id}`);
  }

  /** Crashes (if needed) and starts the node again with a new epoch, joining through `seeds`. */
  restart(id: string, seeds: readonly string[]): SimNode {
    this.crash(id);
    return this.start(id, seeds);
  }

  /** Graceful leave. */
  leave(id: string): Promise<void> {
    this.note(`leave ${id}`);
    return this.node(id).membership.leave();
  }

  /** Stalls a node (its timers and inbound messages wait) for `ms`, or until resume(). */
  pause(id: string, ms?: number): void {
    const proc = this.node(id).proc;
    if (proc === null || proc.state !== 'running') return;
    proc.state = 'paused';
    this.note(`pause ${id}`);
    if (ms !== undefined) proc.resumeTimer = this.clock.setTimeout(() => this.resume(id), ms);
  }

  resume(id: string): void {
    const proc = this.node(id).proc;
    if (proc === null || proc.state !== 'paused') return;
    proc.state = 'running';
    proc.resumeTimer?.cancel();
    proc.resumeTimer = null;
    this.note(`resume ${id}`);
    const timers = proc.deferred.splice(0);
    for (const fn of timers) if (proc.state === 'running') fn();
    const inbox = proc.inbox.splice(0);
    for (const [from, env] of inbox) if (proc.state === 'running') proc.membership.handle(from, env);
  }

  /** Advances simulated time by `ms`. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  /** Runs until `done()` holds, checking every `step` ms, for at most `max` ms. Returns whether it held. */
  runUntil(done: () => boolean, max: number, step = 50): boolean {
    const end = this.clock.now() + max;
    while (!done()) {
      if (this.clock.now() >= end) return false;
      this.clock.advance(Math.min(step, end - this.clock.now()));
    }
    return true;
  }

  /** How `observer` currently sees `member` (undefined: unknown to it). */
  view(observer: string, member: string): MemberStatus | undefined {
    return this.node(observer).membership.member(member)?.status;
  }

  /** True when every running node among `ids` sees exactly those nodes as alive, at their current epoch. */
  converged(ids: readonly string[] = this.up().map((n) => n.id)): boolean {
    for (const a of ids) {
      const m = this.node(a).membership;
      const alive = m.members({ status: ['alive'] });
      if (alive.length !== ids.length) return false;
      for (const b of ids) {
        const info = m.member(b);
        if (info === undefined || info.status !== 'alive' || info.epoch !== this.node(b).epoch) return false;
      }
    }
    return true;
  }

  /** Subscribes to every node's membership events; returns the unsubscribe function. */
  onEvent(listener: SimEventListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private spawn(node: SimNode, epoch: number, initialMembers?: readonly MemberSnapshot[]): Proc {
    const cfg = { ...this.o.config, ...node.options.config };
    if (node.options.cluster !== undefined) cfg.cluster = node.options.cluster;
    const seed = (Math.imul(this.o.seed + 1, 0x9e3779b1) ^ Math.imul(node.index + 1, 0x85ebca6b) ^ Math.imul(epoch, 0xc2b2ae35)) >>> 0;
    const proc: Proc = { membership: null as unknown as Membership, epoch, state: 'running', deferred: [], inbox: [], resumeTimer: null };
    const meta = { ...node.options.meta, addresses: [node.address] };
    proc.membership = new Membership({
      self: { id: node.id, epoch, meta }, config: cfg, clock: this.procClock(proc), random: createSeededRandom(seed),
      send: (to, env) => {
        if (proc.state !== 'running') return;
        node.sent++;
        this.network.send(node.id, to, env);
      },
      ...(initialMembers === undefined ? {} : { initialMembers }),
    });
    proc.membership.onChange((ev) => this.observe(node.id, ev));
    node.proc = proc;
    this.byAddress.set(node.address, node);
    return proc;
  }

  private resolve(to: PeerRef): SimNode | undefined {
    if (to.node !== null) return this.byId.get(to.node);
    for (const a of to.addresses) {
      const n = this.byAddress.get(a);
      if (n !== undefined) return n;
    }
    return undefined;
  }

  private deliver(node: SimNode, from: string, env: GossipEnvelope): boolean {
    const proc = node.proc;
    if (proc === null || proc.state === 'crashed' || proc.state === 'stopped') return false;
    if (proc.state === 'paused') proc.inbox.push([from, env]);
    else proc.membership.handle(from, env);
    return true;
  }

  /** A clock for one process: its timers wait while it is paused and die with it. */
  private procClock(proc: Proc): Clock {
    const clock = this.clock;
    const wrap = (fn: () => void) => (): void => {
      if (proc.state === 'running') fn();
      else if (proc.state === 'paused') proc.deferred.push(fn);
    };
    return {
      now: () => clock.now(),
      setTimeout: (fn, ms) => clock.setTimeout(wrap(fn), ms),
      setInterval: (fn, ms) => {
        let waiting = false;
        return clock.setInterval(() => {
          if (proc.state === 'running') fn();
          else if (proc.state === 'paused' && !waiting) {
            waiting = true;
            proc.deferred.push(() => { waiting = false; fn(); });
          }
        }, ms);
      },
    };
  }

  private snapshotOf(node: SimNode, epoch: number, meta?: Partial<MemberMeta>): MemberSnapshot {
    return {
      node: node.id, epoch, inc: 0, status: 'alive',
      meta: {
        roles: [...(meta?.roles ?? [])], addresses: [node.address], services: [...(meta?.services ?? [])],
        load: { ...(meta?.load ?? {}) },
      },
    };
  }

  private observe(observer: string, ev: MembershipEvent): void {
    const now = this.clock.now();
    if (this.o.trace !== false) {
      this.trace.push(`${now} ${observer} ${ev.type} ${ev.member.id}@${ev.member.epoch}.${ev.member.incarnation}`);
    }
    for (const l of this.listeners) l(observer, ev, now);
  }

  private note(line: string): void {
    if (this.o.trace !== false) this.trace.push(`${this.clock.now()} ! ${line}`);
  }

  /** Draws from the simulator's own seeded source (for scenario scripts that need randomness). */
  random(): Random {
    return this.rng;
  }
}
