import type { AskOptions, Address } from '../actor-types.js';
import { PeerDownError, StoppedError, DeadLetterError } from '../errors.js';
import type { AskKeys, Protocol, ReplyOf, RequestOf } from '../protocol.js';
import type { BalancePolicy, ServiceRegistry } from '../registry/index.js';
import type { RefFactory } from '../locator.js';
import { defaultPathOf, instanceName, type PathOf } from './registry-locator.js';

export interface ServiceAskOptions extends AskOptions {
  /** Balancing policy for this ask (default: the registry's). */
  policy?: BalancePolicy;
  /**
   * The request may run twice without harm: when the chosen instance's node is lost (PeerDownError)
   * or the actor is gone there, the same request (same id, so receivers deduplicate) is sent to the
   * next live instance. Non-idempotent asks are never retried: their error is the caller's to judge.
   */
  idempotent?: boolean;
  /** Most instances tried for an idempotent ask. Default 3. */
  maxAttempts?: number;
  /** Keyed service instance (e.g. a compute host name). */
  instance?: string;
}

const FAILOVER = (err: unknown): boolean => err instanceof PeerDownError || err instanceof StoppedError || err instanceof DeadLetterError;

/**
 * Asks and tells addressed to a service name: the registry picks a live, protocol-compatible
 * instance (round-robin or least-in-flight, counting this node's own asks in flight), an ask to a
 * service with no live instance fails at once (NoInstanceError), and idempotent asks fail over to
 * another instance when the chosen one is lost.
 */
export class ServiceClient {
  constructor(
    private readonly registry: ServiceRegistry,
    private readonly system: RefFactory & { newMessageId(): string },
    private readonly pathOf: PathOf = defaultPathOf,
  ) {}

  async ask<P extends Protocol, K extends AskKeys<P>>(protocol: P, type: K, body: RequestOf<P, K>, options: ServiceAskOptions = {}): Promise<ReplyOf<P, K>> {
    if (options.instance !== undefined) this.registry.followKeys(protocol.name);
    const name = options.instance === undefined ? protocol.name : instanceName(protocol.name, options.instance);
    const attempts = options.idempotent ? Math.max(1, options.maxAttempts ?? 3) : 1;
    const id = options.idempotent ? (options.id ?? this.system.newMessageId()) : options.id;
    const tried: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const chosen = this.registry.select(name, {
        version: protocol.version, exclude: tried, ...(options.policy === undefined ? {} : { policy: options.policy }),
      });
      const address: Address = { node: chosen.node, path: this.pathOf(protocol.name, options.instance) };
      const done = this.registry.track(chosen.node);
      try {
        const askOptions: AskOptions = { ...options };
        if (id !== undefined) askOptions.id = id;
        return await this.system.ref(address, protocol).ask(type, body, askOptions);
      } catch (err) {
        if (attempt >= attempts || !FAILOVER(err)) throw err;
        tried.push(chosen.node);
      } finally {
        done();
      }
    }
  }

  tell<P extends Protocol>(protocol: P, type: Parameters<import('../actor-types.js').ActorRef<P>['tell']>[0], body: Parameters<import('../actor-types.js').ActorRef<P>['tell']>[1], instance?: string): void {
    if (instance !== undefined) this.registry.followKeys(protocol.name);
    const name = instance === undefined ? protocol.name : instanceName(protocol.name, instance);
    const chosen = this.registry.select(name, { version: protocol.version, preferLocal: true });
    this.system.ref({ node: chosen.node, path: this.pathOf(protocol.name, instance) }, protocol).tell(type, body);
  }
}
