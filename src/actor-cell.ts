import type { RuntimeObserver, TimingStat } from './observer.js';
import { withTrace } from './trace-context.js';
import type {
  ActorContext, ActorDefinition, Address, MailboxOptions, SupervisionOptions,
} from './actor-types.js';
import { CloudstackdError, DeadLetterError, HandlerError, MailboxFullError, UnknownMessageError } from './errors.js';
import type { Protocol } from './protocol.js';
import type { ReplySink } from './pending-asks.js';
import { RingQueue } from './queue.js';
import { RestartPolicy } from './supervision.js';
import type { SystemInternals } from './system-internals.js';
import { createContext } from './actor-context.js';
import type { Runnable } from './dispatcher.js';

/** A message in a mailbox. All fields are always present so the object shape stays monomorphic. */
export interface Msg {
  type: string;
  body: unknown;
  reply: ReplySink | undefined;
  sender: Address | undefined;
  /** Absolute deadline in clock ms; 0 for none. */
  deadline: number;
  trace: string | undefined;
}

interface Waiter {
  msg: Msg;
  admitted: (() => void) | undefined;
}

type Status = 'starting' | 'running' | 'suspended' | 'stopping' | 'stopped';

const TERMINATED = '$terminated';

/**
 * The runtime side of one actor: its mailbox, the one-message-at-a-time loop, lifecycle hooks and
 * what happens when it fails. Handlers never see this object; they get an ActorContext.
 */
export class ActorCell<S = unknown> implements Runnable {
  readonly children = new Map<string, ActorCell>();
  readonly watchers = new Set<ActorCell>();
  readonly ctx: ActorContext<S>;
  status: Status = 'starting';
  current: Msg | undefined = undefined;
  private readonly queue = new RingQueue<Msg>();
  private readonly waiters = new RingQueue<Waiter>();
  private scheduled = false;
  private busy = false;
  readonly restartPolicy: RestartPolicy;
  private readonly handlers: Record<string, (body: unknown, ctx: never) => unknown>;
  private stopPromise: Promise<void> | undefined;

  constructor(
    readonly system: SystemInternals,
    readonly path: string,
    readonly definition: ActorDefinition<Protocol, S>,
    readonly mailbox: MailboxOptions,
    readonly supervision: SupervisionOptions,
    readonly parent: ActorCell | undefined,
  ) {
    this.ctx = createContext(this);
    this.handlers = definition.handlers as unknown as Record<string, (body: unknown, ctx: never) => unknown>;
    this.restartPolicy = new RestartPolicy(supervision);
  }

  get address(): Address {
    return { node: this.system.nodeId, path: this.path };
  }

  /** False from the moment stopping begins (a field, not a getter: it is read on every send). */
  alive = true;

  private statOf: { observer: RuntimeObserver; stat: TimingStat } | undefined;

  /** This actor's handling stat from the installed observer, found once per observer. */
  private handlingStat(): TimingStat {
    const observer = this.system.observer!;
    if (this.statOf?.observer !== observer) this.statOf = { observer, stat: observer.handlingStat(this.path) };
    return this.statOf.stat;
  }

  get protocolName(): string {
    return this.definition.protocol.name;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Runs init and the started hook; messages sent meanwhile wait in the mailbox. */
  async start(): Promise<void> {
    try {
      if (this.definition.init) this.ctx.state = await this.definition.init(this.ctx);
      await this.definition.started?.(this.ctx);
      if (this.status === 'starting') this.status = 'running';
      this.schedule();
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * Puts a message in the mailbox, applying the overflow policy. Returns a promise only when the
   * sender has to wait for room (back-pressure); throws MailboxFullError when the message is refused.
   */
  enqueue(msg: Msg): Promise<void> | undefined {
    if (!this.alive) {
      throw new DeadLetterError(`actor ${this.path} on ${this.system.nodeId} is stopped`);
    }
    if (this.queue.length >= this.mailbox.capacity) return this.overflow(msg);
    this.queue.push(msg);
    if (!this.scheduled && !this.busy) this.schedule();
    return undefined;
  }

  private overflow(msg: Msg): Promise<void> | undefined {
    this.system.metrics.mailboxOverflows++;
    switch (this.mailbox.overflow) {
      case 'reject':
        throw new MailboxFullError(`mailbox of ${this.path} is full (${this.mailbox.capacity} messages); retry later`);
      case 'drop-oldest': {
        const dropped = this.queue.shift();
        dropped?.reply?.reject(new MailboxFullError(`message dropped from the full mailbox of ${this.path}`));
        this.system.deadLetter(dropped?.type ?? '?', this.path, 'dropped: mailbox full');
        this.queue.push(msg);
        return undefined;
      }
      case 'backpressure': {
        if (this.waiters.length >= this.mailbox.maxWaiting) {
          throw new MailboxFullError(`mailbox of ${this.path} is full and ${this.mailbox.maxWaiting} senders already wait`);
        }
        return new Promise<void>((admitted) => this.waiters.push({ msg, admitted }));
      }
    }
  }

  private schedule(): void {
    if (this.scheduled || this.busy || this.status !== 'running' || this.queue.length === 0) return;
    this.scheduled = true;
    this.system.dispatcher.schedule(this);
  }

  /** Called by the dispatcher: handles up to `throughput` messages, then lets other actors run. */
  runSome(): number {
    this.scheduled = false;
    let n = 0;
    while (this.status === 'running' && !this.busy) {
      const msg = this.queue.shift();
      if (msg === undefined) return n;
      if (this.waiters.length > 0) this.admitWaiter();
      this.invoke(msg);
      if (++n >= this.mailbox.throughput) break;
    }
    this.schedule();
    return n;
  }

  private admitWaiter(): void {
    const w = this.waiters.shift();
    if (w === undefined) return;
    this.queue.push(w.msg);
    w.admitted?.();
  }

  private invoke(msg: Msg): void {
    if (msg.deadline !== 0 && msg.deadline <= this.system.clock.now()) {
      this.system.metrics.expiredBeforeHandling++;
      return; // the asker has already been told it timed out
    }
    if (msg.type === TERMINATED) return this.invokeTerminated(msg);
    const handler = this.handlers[msg.type];
    if (handler === undefined) {
      msg.reply?.reject(new UnknownMessageError(`${this.path} has no handler for "${msg.type}"`));
      return;
    }
    this.current = msg;
    const stat = this.system.observer === undefined ? undefined : this.handlingStat();
    const begun = stat === undefined ? -1 : stat.begin();
    let result: unknown;
    try {
      // A traced message is handled under its trace: the asks the handler makes carry it on.
      result = msg.trace === undefined ? handler(msg.body, this.ctx as never) : withTrace(msg.trace, () => handler(msg.body, this.ctx as never));
    } catch (err) {
      stat?.record(begun, false);
      this.handlerFailed(msg, err);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      this.busy = true;
      (result as Promise<unknown>).then(
        (value) => { stat?.record(begun, true); this.busy = false; msg.reply?.resolve(value); this.current = undefined; this.schedule(); },
        (err) => { stat?.record(begun, false); this.busy = false; this.handlerFailed(msg, err); this.current = undefined; this.schedule(); },
      );
      return;
    }
    stat?.record(begun, true);
    this.current = undefined;
    msg.reply?.resolve(result);
  }

  private invokeTerminated(msg: Msg): void {
    const hook = this.definition.onTerminated;
    if (!hook) return;
    try {
      const r = hook(msg.body as Address, this.ctx);
      if (r instanceof Promise) {
        this.busy = true;
        r.then(() => { this.busy = false; this.schedule(); }, (err) => { this.busy = false; this.failed(err); });
      }
    } catch (err) {
      this.failed(err);
    }
  }

  /** Expected errors (CloudstackdError) answer the asker; anything else is a crash for the supervisor. */
  private handlerFailed(msg: Msg, err: unknown): void {
    if (err instanceof CloudstackdError) {
      if (msg.reply) msg.reply.reject(err);
      else this.system.log.debug('tell handler refused a message', { path: this.path, type: msg.type, error: err.message });
      return;
    }
    const text = err instanceof Error ? err.message : String(err);
    msg.reply?.reject(new HandlerError(`${this.path} failed while handling ${msg.type}: ${text}`, { cause: err }));
    this.failed(err);
  }

  /** The actor crashed: suspend it and let the parent decide. */
  failed(err: unknown): void {
    if (!this.alive) return;
    this.status = 'suspended';
    this.system.metrics.actorFailures++;
    this.system.log.warn('actor failed', { path: this.path, error: err instanceof Error ? err.message : String(err) });
    const self = this as unknown as ActorCell;
    if (this.parent) this.parent.childFailed(self, err);
    else this.system.topLevelFailed(self, err);
  }

  childFailed(child: ActorCell, err: unknown): void {
    const directive = child.supervision.directive;
    if (directive === 'stop') { void child.stop(); return; }
    if (directive === 'restart') {
      const delay = child.restartPolicy.nextRestartDelay(this.system.clock.now());
      if (delay !== undefined) {
        this.system.clock.setTimeout(() => { void child.restart(err); }, delay);
        return;
      }
    }
    const why = directive === 'restart' ? `restarted ${child.supervision.maxRestarts} times within ${child.supervision.windowMs} ms` : 'escalates';
    void child.stop();
    this.failed(new HandlerError(`child ${child.path} failed and ${why}`, { cause: err }));
  }

  /** Restarts with fresh state; queued messages are kept and handled by the new incarnation. */
  async restart(cause: unknown): Promise<void> {
    if (this.status !== 'suspended') return;
    await Promise.all([...this.children.values()].map((c) => c.stop()));
    this.system.metrics.actorRestarts++;
    try {
      this.ctx.state = (this.definition.init ? await this.definition.init(this.ctx) : undefined) as S;
      await this.definition.restarted?.(this.ctx, cause);
      if (this.status === 'suspended') this.status = 'running';
      this.schedule();
    } catch (err) {
      this.status = 'running';
      this.failed(err);
    }
  }

  /** Stops children first, runs the stopping hook, fails what is queued, then tells the watchers. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    this.status = 'stopping';
    this.alive = false;
    await Promise.all([...this.children.values()].map((c) => c.stop()));
    try {
      await this.definition.stopping?.(this.ctx);
    } catch (err) {
      this.system.log.warn('stopping hook failed', { path: this.path, error: String(err) });
    }
    const gone = (): DeadLetterError => new DeadLetterError(`actor ${this.path} on ${this.system.nodeId} stopped`);
    for (const m of this.queue.clear()) m.reply?.reject(gone());
    for (const w of this.waiters.clear()) { w.msg.reply?.reject(gone()); w.admitted?.(); }
    this.status = 'stopped';
    this.parent?.children.delete(this.path.slice(this.path.lastIndexOf('/') + 1));
    this.system.removed(this as unknown as ActorCell);
    for (const w of this.watchers) w.notifyTerminated(this.address);
    this.watchers.clear();
  }

  notifyTerminated(target: Address): void {
    if (!this.alive) return;
    this.queue.push({ type: TERMINATED, body: target, reply: undefined, sender: undefined, deadline: 0, trace: undefined });
    this.schedule();
  }
}
