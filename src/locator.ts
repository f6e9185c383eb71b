import type { ActorRef, Address } from './actor-types.js';
import { NoInstanceError } from './errors.js';
import type { Protocol } from './protocol.js';

/**
 * How a component finds another: by service (protocol) name and, for keyed services such as the
 * compute agent of one host, an instance key. Components hold a locator, never node ids or paths, so
 * the same component code runs in the all-in-one lab (a static map) and in a cluster (the gossip
 * registry decides which live node serves what).
 */
export interface ServiceLocator {
  /**
   * A ref to a live instance; throws NoInstanceError (retryable) when none is known. This node's own
   * instance is preferred unless `spread` asks to balance over every instance (work that several
   * instances share, such as jobs submitted to orchestrators).
   */
  ref<P extends Protocol>(protocol: P, instance?: string, options?: LocateOptions): ActorRef<P>;
  /** Instance keys currently known for a keyed service (e.g. every compute host). */
  instances(service: string): string[];
}

export interface LocateOptions {
  /** Balance over every live instance instead of preferring this node's own. */
  spread?: boolean;
}

export interface RefFactory {
  ref<P extends Protocol>(address: Address | string, protocol: P): ActorRef<P>;
}

type Resolver = (instance: string | undefined) => Address | undefined;

/** A locator over a fixed table: service → address, or service → (instance → address). */
export class StaticLocator implements ServiceLocator {
  private readonly services = new Map<string, Resolver>();
  private readonly keyed = new Map<string, Map<string, Address>>();

  constructor(private readonly system: RefFactory) {}

  /** Binds a singleton service (e.g. 'data') to an address. */
  bind(service: string, address: Address): this {
    this.services.set(service, () => address);
    return this;
  }

  /** Adds one instance of a keyed service (e.g. 'compute', host name). */
  bindInstance(service: string, instance: string, address: Address): this {
    let m = this.keyed.get(service);
    if (m === undefined) { m = new Map(); this.keyed.set(service, m); }
    m.set(instance, address);
    return this;
  }

  unbindInstance(service: string, instance: string): void {
    this.keyed.get(service)?.delete(instance);
  }

  ref<P extends Protocol>(protocol: P, instance?: string): ActorRef<P> {
    const address = instance === undefined
      ? this.services.get(protocol.name)?.(undefined)
      : this.keyed.get(protocol.name)?.get(instance);
    if (address === undefined) {
      throw new NoInstanceError(`no live instance of service ${protocol.name}${instance === undefined ? '' : ` for ${instance}`}`);
    }
    return this.system.ref(address, protocol);
  }

  instances(service: string): string[] {
    return [...(this.keyed.get(service)?.keys() ?? [])];
  }
}
