import { IncompatibleProtocolError, InvalidParameterError, NoInstanceError } from '../errors.js';
import type { MemberInfo } from '../gossip/member-state.js';
import type { MembershipEvent } from '../gossip/member-table.js';
import type { MemberStatus, ServiceInfo } from '../gossip/messages.js';
import { isCompatible, majorOf } from '../protocol.js';
import { KeyedIndex, type KeyedChange, type KeyedOptions } from './keyed.js';
import { createBalancer, type BalancePolicy, type Balancer } from './selection.js';

/**
 * The service registry: "who serves X", built from the membership view (each member advertises its
 * services and their protocol versions in its metadata), a stream of changes, and instance selection
 * for routing asks and tells to a service name. Routing refuses instances whose protocol major
 * version differs from the caller's, and says so.
 */

/** What the registry needs from a membership (Membership implements it). */
export interface MembershipView {
  readonly id: string;
  members(opts?: { includeSelf?: boolean }): MemberInfo[];
  onChange(listener: (event: MembershipEvent) => void): () => void;
}

export interface ServiceInstance {
  readonly service: string;
  /** Protocol version "major.minor" this instance speaks. */
  readonly version: string;
  readonly node: string;
  readonly epoch: number;
  readonly status: 'alive' | 'suspect';
  readonly addresses: readonly string[];
  readonly load: Readonly<Record<string, number>>;
  /** True when the instance is on this node. */
  readonly local: boolean;
}

export type RemovalReason = 'left' | 'failed' | 'unpublished' | 'restarted';

export type RegistryEvent =
  | { readonly type: 'member-joined'; readonly member: MemberInfo }
  | { readonly type: 'member-left'; readonly member: MemberInfo }
  | { readonly type: 'member-failed'; readonly member: MemberInfo }
  | { readonly type: 'member-restarted'; readonly member: MemberInfo }
  | { readonly type: 'service-added'; readonly instance: ServiceInstance }
  | { readonly type: 'service-removed'; readonly instance: ServiceInstance; readonly reason: RemovalReason };

export interface SelectOptions {
  /** Default: the registry's defaultPolicy. */
  policy?: BalancePolicy;
  /** The caller's protocol version ("major.minor"): instances with another major are refused. */
  version?: string;
  /** Nodes not to pick (e.g. the one that just failed). */
  exclude?: Iterable<string>;
  /** Pick this node's own instance when it has one. */
  preferLocal?: boolean;
}

export interface RegistryOptions {
  /** Policy when a select() call names none (default 'round-robin'). */
  defaultPolicy?: BalancePolicy;
  /** Most services with a round-robin counter kept (counters are reset past it; default 4096). */
  maxServices?: number;
  /** Receives errors thrown by change listeners (default: rethrown asynchronously). */
  onListenerError?: (err: unknown) => void;
  /** How keyed services' keys are read from their nodes (see keyed.ts). Without it they are not resolved. */
  keyed?: KeyedOptions;
  /** Receives what the registry cannot do but goes on without (a key fetch that failed). Default: ignored. */
  onWarning?: (message: string) => void;
}

const LIVE: ReadonlySet<MemberStatus> = new Set(['alive', 'suspect']);

interface Entry {
  member: MemberInfo;
  /** Plain services; keyed ones (ServiceInfo.keys) are resolved by the KeyedIndex. */
  services: Map<string, ServiceInfo>;
  keyed: Map<string, ServiceInfo>;
}

export class ServiceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(e: RegistryEvent) => void>();
  private readonly inflight = new Map<string, number>();
  private readonly balancer: Balancer;
  private readonly policy: BalancePolicy;
  private readonly onListenerError: (err: unknown) => void;
  private readonly unsubscribe: () => void;
  private readonly keyed: KeyedIndex | undefined;
  /** The member whose keys are being removed because it left or failed (no longer in `entries`). */
  private departing: MemberInfo | undefined;

  constructor(private readonly view: MembershipView, o: RegistryOptions = {}) {
    this.policy = o.defaultPolicy ?? 'round-robin';
    this.onListenerError = o.onListenerError ?? ((err) => queueMicrotask(() => { throw err; }));
    this.balancer = createBalancer((node) => this.inflight.get(node) ?? 0, o.maxServices ?? 4096);
    this.keyed = o.keyed === undefined ? undefined : new KeyedIndex(o.keyed, (c) => this.onKeyed(c), o.onWarning ?? (() => undefined));
    for (const m of view.members()) if (LIVE.has(m.status)) this.entries.set(m.id, entryOf(m));
    this.unsubscribe = view.onChange((e) => this.onMembership(e));
  }

  /**
   * Resolves the keys of keyed service `service` (instances `service/<key>`) from now on: its nodes
   * are asked for their keys, and lookups, services() and change events then include the instances.
   * Idempotent. False when this registry has no `keyed` option (it then sees plain services only).
   */
  followKeys(service: string): boolean {
    if (this.keyed === undefined) return false;
    this.keyed.follow(service, [...this.entries.values()].map((e) => e.member));
    return true;
  }

  /** Live instances of `service` (alive first), optionally only those compatible with `version`. */
  lookup(service: string, opts: { version?: string } = {}): ServiceInstance[] {
    const out: ServiceInstance[] = [];
    const fits = (s: ServiceInfo): boolean => opts.version === undefined || isCompatible(opts.version, s.version);
    for (const e of this.entries.values()) {
      const s = e.services.get(service);
      if (s !== undefined && fits(s)) out.push(this.instance(e.member, s));
    }
    const slash = service.indexOf('/');
    if (this.keyed !== undefined && slash > 0) {
      const base = service.slice(0, slash);
      for (const node of this.keyed.nodesOf(base, service.slice(slash + 1))) {
        const e = this.entries.get(node);
        const s = e?.keyed.get(base);
        if (e !== undefined && s !== undefined && fits(s) && !e.services.has(service)) out.push(this.instance(e.member, { name: service, version: s.version }));
      }
    }
    return out.sort((a, b) => (a.status === b.status ? (a.node < b.node ? -1 : 1) : a.status === 'alive' ? -1 : 1));
  }

  /** Names of every service some live member offers. */
  services(): string[] {
    const names = new Set<string>();
    for (const e of this.entries.values()) for (const n of e.services.keys()) names.add(n);
    for (const n of this.keyed?.names() ?? []) names.add(n);
    return [...names].sort();
  }

  /**
   * Picks a live instance of `service` to send to. Throws NoInstanceError when no live member serves
   * it, IncompatibleProtocolError when some do but none speaks the caller's major version.
   */
  select(service: string, opts: SelectOptions = {}): ServiceInstance {
    const all = this.lookup(service);
    const exclude = new Set(opts.exclude ?? []);
    const open = all.filter((i) => !exclude.has(i.node));
    if (open.length === 0) {
      const why = all.length === 0 ? 'no live member offers it' : `every live instance is excluded (${[...exclude].join(', ')})`;
      throw new NoInstanceError(`no instance of service "${service}" to route to: ${why}; check that a node hosting it is running and has joined the cluster`, { details: { service } });
    }
    const fit = opts.version === undefined ? open : open.filter((i) => isCompatible(opts.version!, i.version));
    if (fit.length === 0) {
      const offered = [...new Set(open.map((i) => i.version))].join(', ');
      throw new IncompatibleProtocolError(`service "${service}": this node speaks protocol ${opts.version} (major ${majorOf(opts.version!)}) but the live instances speak ${offered}; upgrade one side so that the major versions match`, { details: { service, wanted: opts.version, offered } });
    }
    if (opts.preferLocal === true) {
      const local = fit.find((i) => i.local && i.status === 'alive');
      if (local !== undefined) return local;
    }
    return this.balancer.pick(service, fit, opts.policy ?? this.policy)!;
  }

  /** Other live, compatible instances to retry an idempotent request on after `failedNode` went down, best first. */
  failoverCandidates(service: string, failedNode: string, opts: Omit<SelectOptions, 'exclude'> = {}): ServiceInstance[] {
    const version = opts.version;
    const list = this.lookup(service, version === undefined ? {} : { version }).filter((i) => i.node !== failedNode);
    const load = (i: ServiceInstance): number => this.inflight.get(i.node) ?? 0;
    return list.sort((a, b) => (a.status === b.status ? load(a) - load(b) : a.status === 'alive' ? -1 : 1));
  }

  /** Counts a request in flight to `node` (for least-in-flight); call the returned function when it ends. */
  track(node: string): () => void {
    this.inflight.set(node, (this.inflight.get(node) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.inflight.get(node) ?? 1) - 1;
      if (n <= 0) this.inflight.delete(node); else this.inflight.set(node, n);
    };
  }

  inFlight(node: string): number {
    return this.inflight.get(node) ?? 0;
  }

  /** Subscribes to registry changes; returns the unsubscribe function. */
  onChange(listener: (e: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Stops following the membership. */
  close(): void {
    this.unsubscribe();
    this.keyed?.close();
    this.listeners.clear();
  }

  private instance(m: MemberInfo, s: ServiceInfo): ServiceInstance {
    return {
      service: s.name, version: s.version, node: m.id, epoch: m.epoch, status: m.status === 'suspect' ? 'suspect' : 'alive',
      addresses: m.meta.addresses, load: m.meta.load, local: m.id === this.view.id,
    };
  }

  private onMembership(e: MembershipEvent): void {
    const m = e.member;
    const old = this.entries.get(m.id);
    if (!LIVE.has(m.status)) {
      if (old === undefined) return;
      this.entries.delete(m.id);
      const reason: RemovalReason = m.status === 'left' ? 'left' : 'failed';
      this.publish({ type: reason === 'left' ? 'member-left' : 'member-failed', member: m });
      for (const s of old.services.values()) this.publish({ type: 'service-removed', instance: this.instance(old.member, s), reason });
      this.departing = old.member;
      try { this.keyed?.memberDown(m.id, reason); } finally { this.departing = undefined; }
      return;
    }
    const entry = entryOf(m);
    const services = entry.services;
    this.entries.set(m.id, entry);
    const restarted = old !== undefined && old.member.epoch !== m.epoch;
    if (old === undefined) this.publish({ type: 'member-joined', member: m });
    else if (restarted) this.publish({ type: 'member-restarted', member: m });
    const before = old?.services ?? new Map<string, ServiceInfo>();
    for (const [name, s] of before) {
      const now = services.get(name);
      if (now === undefined || now.version !== s.version || restarted) {
        this.publish({ type: 'service-removed', instance: this.instance(old!.member, s), reason: restarted ? 'restarted' : 'unpublished' });
      }
    }
    for (const [name, s] of services) {
      const was = before.get(name);
      if (was === undefined || was.version !== s.version || restarted) this.publish({ type: 'service-added', instance: this.instance(m, s) });
    }
    this.keyed?.memberUp(m);
  }

  /** Keys of a keyed service appeared on or left a node: the same events as plain services. */
  private onKeyed(c: KeyedChange): void {
    const e = this.entries.get(c.node);
    const version = e?.keyed.get(c.service)?.version;
    const member = e?.member ?? (this.departing?.id === c.node ? this.departing : undefined);
    if (member === undefined) return;
    const info = (key: string): ServiceInfo => ({ name: `${c.service}/${key}`, version: version ?? '0.0' });
    for (const k of c.removed) this.publish({ type: 'service-removed', instance: this.instance(member, info(k)), reason: c.reason });
    if (version === undefined) return;
    for (const k of c.added) this.publish({ type: 'service-added', instance: this.instance(member, info(k)) });
  }

  private publish(e: RegistryEvent): void {
    for (const l of this.listeners) {
      try { l(e); } catch (err) { this.onListenerError(err); }
    }
  }
}

function entryOf(m: MemberInfo): Entry {
  const services = new Map<string, ServiceInfo>();
  const keyed = new Map<string, ServiceInfo>();
  for (const s of m.meta.services) (s.keys === undefined ? services : keyed).set(s.name, s);
  return { member: m, services, keyed };
}

/** Creates a registry following `view` (a Membership). */
export function createServiceRegistry(view: MembershipView, o: RegistryOptions = {}): ServiceRegistry {
  if (o.maxServices !== undefined && !(Number.isInteger(o.maxServices) && o.maxServices > 0)) {
    throw new InvalidParameterError(`registry option maxServices must be a positive integer, got ${o.maxServices}`);
  }
  return new ServiceRegistry(view, o);
}
