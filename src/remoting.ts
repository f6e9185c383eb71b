import type { ActorSystem } from './actor-system.js';
import type { ActorCell } from './actor-cell.js';
import { DedupCache, DEFAULT_DEDUP, type DedupOptions } from './dedup-cache.js';
import { CONTROL_LANE, type Envelope } from './envelope.js';
import { DeadLetterError, fromWire, toWire, UnknownMessageError, ValidationError, type WireError } from './errors.js';
import type { ReplySink } from './pending-asks.js';
import { validate } from './schema.js';
import { SYS_TERMINATED, SYS_UNWATCH, SYS_WATCH } from './watch-registry.js';

/** Handlers for system envelopes addressed to the node rather than an actor (membership uses this). */
export type SystemEnvelopeHandler = (env: Envelope) => void;

/**
 * The boundary where envelopes from other nodes enter: it validates every message against the
 * target's protocol before delivery (invalid → typed error to the sender, counted, never delivered),
 * deduplicates messages marked for it, and turns handler results into reply envelopes.
 */
export class Remoting {
  private readonly dedup: DedupCache;
  private readonly sysHandlers = new Map<string, SystemEnvelopeHandler>();

  constructor(private readonly system: ActorSystem, dedup: DedupOptions = DEFAULT_DEDUP) {
    this.dedup = new DedupCache(dedup);
  }

  /** Registers a handler for `sys` envelopes of one type (e.g. gossip messages). */
  onSystem(type: string, handler: SystemEnvelopeHandler): void {
    this.sysHandlers.set(type, handler);
  }

  receive(env: Envelope): void {
    this.system.metrics.remoteReceived++;
    switch (env.kind) {
      case 'tell': case 'ask': return this.deliver(env);
      case 'reply': case 'error': return this.settle(env);
      case 'sys': return this.systemMessage(env);
    }
  }

  private deliver(env: Envelope): void {
    const key = env.dedup ? `${env.fromNode}|${env.id}` : undefined;
    if (key !== undefined && this.isDuplicate(env, key)) return;
    const cell = this.system.lookup(env.to);
    if (cell === undefined || !cell.alive) {
      this.system.deadLetter(env.type, env.to, `no such actor (from ${env.fromNode})`);
      if (env.kind === 'ask') this.replyError(env, new DeadLetterError(`no actor at ${env.to} on node ${this.system.nodeId}`), key);
      return;
    }
    const problem = this.check(cell, env);
    if (problem !== undefined) {
      this.system.metrics.invalidMessages++;
      if (env.kind === 'ask') this.replyError(env, problem, key);
      return;
    }
    const reply = env.kind === 'ask' ? this.sinkFor(env, key) : undefined;
    if (key !== undefined) this.dedup.set(key, { state: 'running' }, this.system.clock.now());
    try {
      cell.enqueue({
        type: env.type, body: env.body, reply,
        sender: env.from === '' ? undefined : { node: env.fromNode, path: env.from },
        deadline: env.kind === 'ask' ? this.system.clock.now() + (env.ttl ?? this.system.askTimeoutMs) : 0,
        trace: env.trace,
      });
    } catch (err) {
      if (reply) reply.reject(err);
      else this.system.deadLetter(env.type, env.to, (err as Error).message);
    }
  }

  private isDuplicate(env: Envelope, key: string): boolean {
    const seen = this.dedup.get(key, this.system.clock.now());
    if (seen === undefined) return false;
    this.system.metrics.duplicatesDropped++;
    if (env.kind === 'ask' && seen.state === 'done' && seen.reply !== undefined) {
      this.sendReply(env, seen.reply.ok, seen.reply.value);
    }
    return true;
  }

  private check(cell: ActorCell, env: Envelope): Error | undefined {
    const spec = cell.definition.protocol.messages[env.type];
    if (spec === undefined) {
      return new UnknownMessageError(`${env.to} (protocol ${cell.definition.protocol.name}) has no message "${env.type}"`);
    }
    if (spec.kind !== env.kind) {
      return new UnknownMessageError(`"${env.type}" is a ${spec.kind} in protocol ${cell.definition.protocol.name}, not a ${env.kind}`);
    }
    const problem = validate(spec.request, env.body);
    return problem === undefined ? undefined : new ValidationError(`invalid ${env.type} for ${env.to}: ${problem}`);
  }

  private sinkFor(env: Envelope, key: string | undefined): ReplySink {
    return {
      resolve: (value) => this.finish(env, key, true, value),
      reject: (err) => this.finish(env, key, false, toWire(err)),
    };
  }

  private finish(env: Envelope, key: string | undefined, ok: boolean, value: unknown): void {
    if (key !== undefined) this.dedup.set(key, { state: 'done', reply: { ok, value } }, this.system.clock.now());
    this.sendReply(env, ok, value);
  }

  private replyError(env: Envelope, err: Error, key: string | undefined): void {
    this.finish(env, key, false, toWire(err));
  }

  private sendReply(env: Envelope, ok: boolean, body: unknown): void {
    try {
      this.system.sendEnvelope({
        // A reply is found by `corr` alone: its own id and type would only add bytes to every answer.
        kind: ok ? 'reply' : 'error', id: '', toNode: env.fromNode, to: env.from,
        fromNode: this.system.nodeId, from: '', type: '', body: body === undefined ? null : body, corr: env.id,
      });
    } catch (err) {
      this.system.metrics.sendFailures++;
      this.system.log.debug('reply could not be sent', { to: env.fromNode, error: (err as Error).message });
    }
  }

  private settle(env: Envelope): void {
    const p = env.corr === undefined ? undefined : this.system.pending.takeRemote(env.corr);
    if (p === undefined) return; // late reply after a timeout, or a duplicate
    if (env.kind !== 'reply') { p.reject(fromWire(asWireError(env.body))); return; }
    const body = env.body === null ? undefined : env.body;
    // Replies cross the same boundary as requests: one that does not match its protocol's reply schema
    // (a peer of another version, a bug) fails the ask here instead of misleading the caller.
    const problem = p.replySchema === undefined || body === undefined ? undefined : validate(p.replySchema, body, 'reply');
    if (problem === undefined) { p.resolve(body); return; }
    this.system.metrics.invalidMessages++;
    p.reject(new ValidationError(`invalid reply to ${p.description} from ${env.fromNode}: ${problem}`));
  }

  private systemMessage(env: Envelope): void {
    const path = typeof env.body === 'string' ? env.body : '';
    switch (env.type) {
      case SYS_WATCH: return this.system.watches.remoteWatch(env.fromNode, path);
      case SYS_UNWATCH: return this.system.watches.remoteUnwatch(env.fromNode, path);
      case SYS_TERMINATED: return this.system.watches.remoteTerminated(env.fromNode, path);
    }
    const handler = this.sysHandlers.get(env.type);
    if (handler) handler(env);
    else this.system.deadLetter(env.type, '(system)', `no system handler (from ${env.fromNode})`);
  }
}

function asWireError(v: unknown): WireError {
  if (v !== null && typeof v === 'object' && typeof (v as WireError).code === 'string' && typeof (v as WireError).message === 'string') {
    return v as WireError;
  }
  return { code: 'INTERNAL', message: 'malformed error reply', retryable: false };
}

export { CONTROL_LANE };
