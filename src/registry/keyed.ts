import type { Clock, TimerHandle } from '../clock.js';
import type { MemberInfo } from '../gossip/member-state.js';
import type { ServiceInfo } from '../gossip/messages.js';
import type { RemovalReason } from './registry.js';

/**
 * Keyed services kept out of gossip metadata. A node running many instances of one service (a compute
 * process simulating 200 hosts serves `compute/<host>` 200 times) advertises the service once, with
 * the revision of its key set (`{ name: 'compute', version, keys: rev }`), instead of one metadata
 * entry per key: metadata stays a few hundred bytes however many keys there are. Nodes that route to
 * such instances ask the owner for its keys (in pages, see src/cluster/keyed-services.ts) when they
 * first see it, and again whenever the revision grows; this index then answers key → nodes.
 *
 * Only services somebody follows are fetched (a compute node does not need the other compute nodes'
 * hosts). A fetch that fails (the node is not reachable yet) is retried after retryMs while the node
 * still advertises the service.
 */

/** One page of a node's keys for a service. */
export interface KeyPage {
  /** Revision of the key set the page was cut from; pages of different revisions are not mixed. */
  readonly rev: number;
  readonly keys: readonly string[];
  /** More keys after the last one of this page. */
  readonly more: boolean;
}

export interface KeyedOptions {
  /** Asks `node` for the page of its `service` keys after `after` (sorted). */
  fetch(node: string, service: string, after: string | undefined): Promise<KeyPage>;
  clock: Clock;
  /** Pause before a failed fetch is tried again, ms. Default 1,000 (a peer connection is usually up by then). */
  retryMs?: number;
  /** Most keys taken from one node for one service; more is logged and ignored. Default 100,000. */
  maxKeysPerNode?: number;
}

/** What the index tells the registry: keys that appeared or went, per node. */
export interface KeyedChange {
  readonly service: string;
  readonly node: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Why keys were removed. */
  readonly reason: RemovalReason;
}

interface NodeKeys {
  epoch: number;
  /** The revision the node advertises, and the one `keys` holds. */
  advertised: number;
  held: number;
  keys: Set<string>;
  fetching: boolean;
  retry: TimerHandle | undefined;
  /** Reads failed in a row (reset by a success). */
  failures: number;
}

const DEFAULT_RETRY_MS = 1_000;
/**
 * Failed reads of a node's keys in a row before it is worth a warning: a node gossip has just announced
 * is often not dialable for a moment yet (its address not learnt), which the first retry settles.
 */
const WARN_AFTER_FAILURES = 3;
/** Then a reminder every this many failures (about a minute at the default retry), not a line per retry. */
const REWARN_EVERY_FAILURES = 60;
const DEFAULT_MAX_KEYS = 100_000;

export class KeyedIndex {
  private readonly followed = new Set<string>();
  /** service → node → its keys. */
  private readonly byNode = new Map<string, Map<string, NodeKeys>>();
  /** service → key → nodes serving it. */
  private readonly byKey = new Map<string, Map<string, Set<string>>>();
  private closed = false;

  constructor(private readonly o: KeyedOptions, private readonly changed: (c: KeyedChange) => void,
    private readonly warn: (message: string) => void) {}

  /** Starts resolving `service`'s keys on every member that advertises it; true when newly followed. */
  follow(service: string, members: readonly MemberInfo[]): boolean {
    if (this.followed.has(service)) return false;
    this.followed.add(service);
    for (const m of members) this.memberUp(m);
    return true;
  }

  isFollowed(service: string): boolean {
    return this.followed.has(service);
  }

  /** Nodes that serve `key` of `service` (empty when none, or not followed). */
  nodesOf(service: string, key: string): ReadonlySet<string> {
    return this.byKey.get(service)?.get(key) ?? EMPTY;
  }

  /** Every `service/key` name known. */
  names(): string[] {
    const out: string[] = [];
    for (const [service, keys] of this.byKey) for (const k of keys.keys()) out.push(`${service}/${k}`);
    return out;
  }

  /** A live member advertised (new) metadata: fetch what changed. */
  memberUp(m: MemberInfo): void {
    const advertised = new Map<string, ServiceInfo>();
    for (const s of m.meta.services) if (s.keys !== undefined) advertised.set(s.name, s);
    for (const [service, nodes] of this.byNode) {
      const state = nodes.get(m.id);
      if (state !== undefined && (!advertised.has(service) || state.epoch !== m.epoch)) {
        this.drop(service, m.id, state.epoch !== m.epoch ? 'restarted' : 'unpublished');
      }
    }
    for (const [service, s] of advertised) {
      if (!this.followed.has(service)) continue;
      const nodes = this.nodesFor(service);
      let state = nodes.get(m.id);
      if (state === undefined) {
        state = { epoch: m.epoch, advertised: s.keys!, held: -1, keys: new Set(), fetching: false, retry: undefined, failures: 0 };
        nodes.set(m.id, state);
      }
      state.advertised = Math.max(state.advertised, s.keys!);
      if (state.held < state.advertised) this.fetch(service, m.id, state);
    }
  }

  /** A member is gone (failed, left): its keys go with it. */
  memberDown(node: string, reason: RemovalReason): void {
    for (const service of [...this.byNode.keys()]) this.drop(service, node, reason);
  }

  close(): void {
    this.closed = true;
    for (const nodes of this.byNode.values()) for (const s of nodes.values()) s.retry?.cancel();
  }

  private nodesFor(service: string): Map<string, NodeKeys> {
    let nodes = this.byNode.get(service);
    if (nodes === undefined) { nodes = new Map(); this.byNode.set(service, nodes); }
    return nodes;
  }

  private drop(service: string, node: string, reason: RemovalReason): void {
    const nodes = this.byNode.get(service);
    const state = nodes?.get(node);
    if (nodes === undefined || state === undefined) return;
    state.retry?.cancel();
    nodes.delete(node);
    this.apply(service, node, new Set(), state.keys, reason);
  }

  private fetch(service: string, node: string, state: NodeKeys): void {
    if (state.fetching || this.closed) return;
    state.fetching = true;
    state.retry?.cancel();
    state.retry = undefined;
    void this.readAll(service, node).then((r) => {
      state.fetching = false;
      if (this.byNode.get(service)?.get(node) !== state) return; // dropped meanwhile
      state.failures = 0;
      const before = state.keys;
      state.keys = r.keys;
      state.held = r.rev;
      this.apply(service, node, r.keys, before, 'unpublished');
      if (state.held < state.advertised) this.fetch(service, node, state);
    }, (err: unknown) => {
      state.fetching = false;
      if (this.closed || this.byNode.get(service)?.get(node) !== state) return;
      state.failures++;
      if (state.failures === WARN_AFTER_FAILURES || state.failures % REWARN_EVERY_FAILURES === 0) {
        this.warn(`could not read the ${service} keys of node ${node} ${state.failures} times in a row (${(err as Error).message}); still retrying`);
      }
      state.retry = this.o.clock.setTimeout(() => this.fetch(service, node, state), this.o.retryMs ?? DEFAULT_RETRY_MS);
    });
  }

  /** Every page of one revision; a revision change half-way starts over. */
  private async readAll(service: string, node: string): Promise<{ rev: number; keys: Set<string> }> {
    const max = this.o.maxKeysPerNode ?? DEFAULT_MAX_KEYS;
    for (let attempt = 0; ; attempt++) {
      const keys = new Set<string>();
      let page = await this.o.fetch(node, service, undefined);
      const rev = page.rev;
      for (;;) {
        for (const k of page.keys) if (keys.size < max) keys.add(k);
        if (!page.more) return { rev, keys };
        if (keys.size >= max) {
          this.warn(`node ${node} serves more than ${max} ${service} keys (maxKeysPerNode); the rest are not routed to`);
          return { rev, keys };
        }
        page = await this.o.fetch(node, service, page.keys[page.keys.length - 1]);
        if (page.rev !== rev) break;
      }
      if (attempt >= 3) throw new Error(`the ${service} keys of node ${node} kept changing while they were read`);
    }
  }

  private apply(service: string, node: string, now: ReadonlySet<string>, before: ReadonlySet<string>, reason: RemovalReason): void {
    let index = this.byKey.get(service);
    if (index === undefined) { index = new Map(); this.byKey.set(service, index); }
    const added: string[] = [];
    const removed: string[] = [];
    for (const k of before) {
      if (now.has(k)) continue;
      removed.push(k);
      const nodes = index.get(k);
      nodes?.delete(node);
      if (nodes?.size === 0) index.delete(k);
    }
    for (const k of now) {
      if (before.has(k)) continue;
      added.push(k);
      let nodes = index.get(k);
      if (nodes === undefined) { nodes = new Set(); index.set(k, nodes); }
      nodes.add(node);
    }
    if (added.length > 0 || removed.length > 0) this.changed({ service, node, added, removed, reason });
  }
}

const EMPTY: ReadonlySet<string> = new Set();
