import type { RuntimeObserver } from './observer.js';
import { currentTrace } from './trace-context.js';
import { ActorCell, type Msg } from './actor-cell.js';
import type { ActorDefinition, ActorRef, Address, AskOptions, SpawnOptions } from './actor-types.js';
import { DEFAULT_MAILBOX, DEFAULT_SUPERVISION } from './actor-types.js';
import { createRealClock, type Clock } from './clock.js';
import { roundTrip } from './codec.js';
import { DeadLetterBuffer, type DeadLetter } from './dead-letters.js';
import type { Envelope } from './envelope.js';
import { ConfigError, PeerDownError, StoppedError } from './errors.js';
import { createIdGenerator } from './ids.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type RuntimeMetrics } from './metrics.js';
import { PendingAsks, type PendingAsk, type ReplySink } from './pending-asks.js';
import type { Protocol } from './protocol.js';
import type { Schema } from './schema.js';
import { LocalRef, RemoteRef, type RefHost } from './refs.js';
import type { SystemInternals } from './system-internals.js';
import { WatchRegistry } from './watch-registry.js';
import { Dispatcher } from './dispatcher.js';

export interface ActorSystemOptions {
  /** This node's id; addresses of local actors carry it. */
  nodeId: string;
  clock?: Clock;
  logger?: Logger;
  /** Default ask deadline, ms. Every ask has one; never infinite. Default 30,000. */
  askTimeoutMs?: number;
  /** Most asks outstanding from this node at once. Default 100,000. */
  maxPendingAsks?: number;
  /** Granularity of ask deadline checks, ms. Default 5. */
  askResolutionMs?: number;
  /** Dead letters kept for inspection (the oldest are dropped). Default 1,000. */
  deadLetterLogSize?: number;
  /** Encode and decode every local message and reply as if it crossed the wire. Default false. */
  strict?: boolean;
}

/** Hands envelopes for other nodes to the remoting layer (set by createNode). */
export type Outbound = (env: Envelope) => void;

const PATH_RE = /^(\/[A-Za-z0-9._:@+-]+)+$/;

/**
 * One node's actors: spawning, addressing, local delivery, asks with deadlines, dead letters,
 * supervision at the top level, and the hooks remoting uses to send and receive envelopes.
 */
export class ActorSystem implements SystemInternals, RefHost {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics = createMetrics();
  readonly askTimeoutMs: number;
  readonly strict: boolean;
  readonly pending: PendingAsks;
  readonly deadLetters: DeadLetterBuffer;
  readonly watches: WatchRegistry;
  readonly dispatcher = new Dispatcher();
  private readonly cells = new Map<string, ActorCell>();
  private readonly nextId = createIdGenerator();
  private outbound: Outbound | undefined;
  private stopped = false;

  constructor(options: ActorSystemOptions) {
    if (!options.nodeId) throw new ConfigError('nodeId is required');
    this.nodeId = options.nodeId;
    this.clock = options.clock ?? createRealClock();
    this.log = (options.logger ?? createLogger('info')).child({ node: options.nodeId });
    this.askTimeoutMs = positive('askTimeoutMs', options.askTimeoutMs ?? 30_000);
    this.strict = options.strict ?? false;
    this.pending = new PendingAsks(this.clock, {
      maxPending: positive('maxPendingAsks', options.maxPendingAsks ?? 100_000),
      resolutionMs: positive('askResolutionMs', options.askResolutionMs ?? 5),
    });
    this.deadLetters = new DeadLetterBuffer(positive('deadLetterLogSize', options.deadLetterLogSize ?? 1_000));
    this.watches = new WatchRegistry(this);
  }

  /** Connects the system to remoting; envelopes for other nodes go there. */
  setOutbound(outbound: Outbound | undefined): void {
    this.outbound = outbound;
  }

  newMessageId(): string {
    return this.nextId();
  }

  spawn<P extends Protocol, S>(path: string, definition: ActorDefinition<P, S>, options: SpawnOptions = {}): ActorRef<P> {
    if (!PATH_RE.test(path)) throw new ConfigError(`actor path "${path}" must look like /name or /name/child (letters, digits, . _ : @ + -)`);
    const slash = path.lastIndexOf('/');
    const parentPath = path.slice(0, slash);
    const parent = parentPath === '' ? undefined : this.cells.get(parentPath);
    if (parentPath !== '' && parent === undefined) {
      throw new ConfigError(`cannot spawn ${path}: parent ${parentPath} does not exist (spawn children from the parent's context)`);
    }
    return this.spawnCell(path, definition, options, parent);
  }

  spawnCell<P extends Protocol, S>(path: string, def: ActorDefinition<P, S>, options: SpawnOptions, parent: ActorCell | undefined): ActorRef<P> {
    if (this.stopped) throw new StoppedError(`node ${this.nodeId} is stopped`);
    if (!PATH_RE.test(path)) throw new ConfigError(`actor path "${path}" must look like /name or /name/child (letters, digits, . _ : @ + -)`);
    if (this.cells.has(path)) throw new ConfigError(`an actor already runs at ${path} on ${this.nodeId}`);
    const cell = new ActorCell<S>(this, path, def as ActorDefinition<Protocol, S>,
      { ...DEFAULT_MAILBOX, ...def.mailbox }, { ...DEFAULT_SUPERVISION, ...options.supervision }, parent);
    this.cells.set(path, cell as ActorCell);
    parent?.children.set(path.slice(path.lastIndexOf('/') + 1), cell as ActorCell);
    void cell.start();
    return new LocalRef(this, path, def.protocol);
  }

  /** A ref by path (this node) or address (any node). */
  ref<P extends Protocol>(address: Address | string, protocol: P): ActorRef<P> {
    const a = typeof address === 'string' ? { node: this.nodeId, path: address } : address;
    return a.node === this.nodeId ? new LocalRef(this, a.path, protocol) : new RemoteRef(this, a.node, a.path, protocol);
  }

  lookup(path: string): ActorCell | undefined {
    return this.cells.get(path);
  }

  async stop(path: string): Promise<void> {
    await this.cells.get(path)?.stop();
  }

  /** Stops every actor (children before parents), fails pending asks and cancels timers. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const roots = [...this.cells.values()].filter((c) => c.parent === undefined);
    await Promise.all(roots.map((c) => c.stop()));
    this.pending.failAll(() => new StoppedError(`node ${this.nodeId} is shutting down`));
    this.pending.stop();
  }

  /** Messages waiting in every mailbox, and the `top` fullest mailboxes (status, load reports). */
  mailboxes(top = 5): { total: number; busiest: { path: string; queued: number }[] } {
    let total = 0;
    const all: { path: string; queued: number }[] = [];
    for (const [path, cell] of this.cells) {
      const queued = cell.queued;
      total += queued;
      if (queued > 0) all.push({ path, queued });
    }
    return { total, busiest: all.sort((a, b) => b.queued - a.queued).slice(0, top) };
  }

  /** Installed by a metrics endpoint (see observer.ts); undefined costs nothing but a check. */
  observer: RuntimeObserver | undefined;

  stats(): RuntimeMetrics & { actors: number; pendingAsks: number } {
    return { ...this.metrics, actors: this.cells.size, pendingAsks: this.pending.count };
  }

  // ---- local delivery --------------------------------------------------------------------------

  localTell(cell: ActorCell, type: string, body: unknown, sender: ActorCell | undefined): Promise<void> | undefined {
    return cell.enqueue({
      type, body: this.strict ? roundTrip(body) : body, reply: undefined,
      sender: sender?.address, deadline: 0, trace: sender?.current?.trace ?? currentTrace(),
    });
  }

  localAsk(cell: ActorCell, type: string, body: unknown, options: AskOptions | undefined, sender: ActorCell | undefined): Promise<unknown> {
    const p = this.pending.create(options?.timeoutMs ?? this.askTimeoutMs, `${type} to ${cell.path}`);
    if (this.observer !== undefined) observeAsk(p, this.observer, cell.protocolName, type);
    const reply: ReplySink = this.strict ? strictSink(p) : p;
    const msg: Msg = {
      type, body, reply, sender: sender?.address, deadline: p.deadline,
      trace: options?.trace ?? sender?.current?.trace ?? currentTrace(),
    };
    try {
      if (this.strict) msg.body = roundTrip(body);
      cell.enqueue(msg);
    } catch (err) {
      p.reject(err);
    }
    return p.promise;
  }

  askFrom(sender: ActorCell, ref: ActorRef, type: string, body: unknown, options: AskOptions): Promise<unknown> {
    if (ref instanceof LocalRef) return ref.askFrom(type, body, options, sender);
    return this.remoteAsk(ref, type, body, options, sender);
  }

  tellFrom(sender: ActorCell, ref: ActorRef, type: string, body: unknown): void {
    if (ref instanceof LocalRef) void ref.tellFrom(type, body, sender);
    else this.remoteTell(ref, type, body, sender);
  }

  // ---- remote delivery -------------------------------------------------------------------------

  remoteTell(ref: ActorRef, type: string, body: unknown, sender: ActorCell | undefined): void {
    const env: Envelope = {
      kind: 'tell', id: this.nextId(), toNode: ref.node, to: ref.path, fromNode: this.nodeId,
      from: sender?.path ?? '', type, body,
    };
    const trace = sender?.current?.trace ?? currentTrace();
    if (trace !== undefined) env.trace = trace;
    try {
      this.sendOut(env);
    } catch (err) {
      this.metrics.sendFailures++;
      this.deadLetter(type, `${ref.node}${ref.path}`, (err as Error).message);
    }
  }

  remoteAsk(ref: ActorRef, type: string, body: unknown, options: AskOptions | undefined, sender: ActorCell | undefined): Promise<unknown> {
    const timeoutMs = options?.timeoutMs ?? this.askTimeoutMs;
    const p = this.pending.create(timeoutMs, `${type} to ${ref.node}${ref.path}`);
    if (this.observer !== undefined) observeAsk(p, this.observer, ref.protocol.name, type);
    const spec = ref.protocol.messages[type];
    if (spec?.kind === 'ask') p.replySchema = spec.reply as Schema<unknown>;
    const id = options?.id ?? this.nextId();
    const env: Envelope = {
      kind: 'ask', id, toNode: ref.node, to: ref.path, fromNode: this.nodeId, from: sender?.path ?? '',
      type, body, ttl: timeoutMs,
    };
    const trace = options?.trace ?? sender?.current?.trace ?? currentTrace();
    if (trace !== undefined) env.trace = trace;
    if (options?.retry || options?.id !== undefined) env.dedup = true;
    this.pending.trackRemote(p, ref.node, id);
    try {
      this.sendOut(env);
      if (options?.retry) {
        p.retryTimer = this.clock.setInterval(() => {
          env.ttl = Math.max(0, p.deadline - this.clock.now());
          try { this.sendOut(env); } catch { /* the next interval or the deadline settles it */ }
        }, options.retry.intervalMs);
      }
    } catch (err) {
      p.reject(err);
    }
    return p.promise;
  }

  private sendOut(env: Envelope): void {
    if (this.outbound === undefined) {
      throw new PeerDownError(`node ${this.nodeId} has no transport, so ${env.toNode} cannot be reached`);
    }
    this.metrics.remoteSent++;
    this.outbound(env);
  }

  /** Sends an envelope built by remoting (replies, system messages). */
  sendEnvelope(env: Envelope): void {
    this.sendOut(env);
  }

  /** The transport could not send `env`: an ask it carried fails now instead of at its deadline. */
  undeliverable(env: Envelope, err: Error): void {
    this.metrics.sendFailures++;
    if (env.kind === 'ask') this.pending.takeRemote(env.id)?.reject(err);
    else if (env.kind === 'tell') this.deadLetter(env.type, `${env.toNode}${env.to}`, err.message);
  }

  /** A node was lost: fail asks pending on it and tell watchers of its actors. */
  nodeDown(node: string): void {
    const n = this.pending.failNode(node, () => new PeerDownError(`node ${node} is unreachable`));
    if (n > 0) this.log.info('failed asks pending on a lost node', { peer: node, asks: n });
    this.watches.nodeDown(node);
  }

  // ---- watching, dead letters, supervision root ------------------------------------------------

  watch(watcher: ActorCell, target: Address): void {
    this.watches.watch(watcher, target);
  }

  unwatch(watcher: ActorCell, target: Address): void {
    this.watches.unwatch(watcher, target);
  }

  deadLetter(type: string, to: string, reason: string): void {
    this.metrics.deadLetters++;
    this.deadLetters.push({ at: this.clock.now(), type, to, reason });
  }

  recentDeadLetters(): DeadLetter[] {
    return this.deadLetters.list();
  }

  removed(cell: ActorCell): void {
    if (this.cells.get(cell.path) === cell) this.cells.delete(cell.path);
    this.watches.localStopped(cell.address);
  }

  topLevelFailed(cell: ActorCell, err: unknown): void {
    // A top-level actor has no parent to escalate to: the node applies the actor's own directive.
    const directive = cell.supervision.directive;
    if (directive === 'restart') {
      const delay = cell.restartPolicy.nextRestartDelay(this.clock.now());
      if (delay !== undefined) {
        this.clock.setTimeout(() => { void cell.restart(err); }, delay);
        return;
      }
    }
    this.log.error('top-level actor stopped after failure', { path: cell.path, error: err instanceof Error ? err.message : String(err) });
    void cell.stop();
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`${name} must be a positive number (got ${v})`);
  return v;
}

function strictSink(p: ReplySink): ReplySink {
  return {
    resolve: (v) => { try { p.resolve(roundTrip(v)); } catch (err) { p.reject(err); } },
    reject: (e) => p.reject(e),
  };
}

function observeAsk(p: PendingAsk, o: RuntimeObserver, protocol: string, type: string): void {
  const stat = o.askStat(protocol, type);
  p.stat = stat;
  p.begun = stat.begin();
}
