import type { ActorRef } from '../actor-types.js';
import type { LocateOptions, ServiceLocator, RefFactory } from '../locator.js';
import type { Protocol } from '../protocol.js';
import type { ServiceRegistry } from '../registry/index.js';

/** Where a service's actor lives on the node that advertises it. */
export type PathOf = (service: string, instance: string | undefined) => string;

/** The default convention: service "data" at /data, keyed "compute" instance "h1" at /compute/h1. */
export const defaultPathOf: PathOf = (service, instance) => (instance === undefined ? `/${service}` : `/${service}/${instance}`);

/** The advertised name of a keyed service instance. */
export function instanceName(service: string, instance: string): string {
  return `${service}/${instance}`;
}

/**
 * A ServiceLocator over the gossip registry: a ref to a live instance chosen by the registry's
 * balancing policy, preferring this node's own instance, refusing an incompatible protocol major
 * version (IncompatibleProtocolError) and failing at once when no live instance exists
 * (NoInstanceError) — never waiting for an ask's deadline.
 */
export class RegistryLocator implements ServiceLocator {
  constructor(
    private readonly registry: ServiceRegistry,
    private readonly system: RefFactory,
    private readonly pathOf: PathOf = defaultPathOf,
  ) {}

  ref<P extends Protocol>(protocol: P, instance?: string, options: LocateOptions = {}): ActorRef<P> {
    // Instances of a keyed service may be advertised compactly (keys read from their nodes): follow it.
    if (instance !== undefined) this.registry.followKeys(protocol.name);
    const name = instance === undefined ? protocol.name : instanceName(protocol.name, instance);
    const chosen = this.registry.select(name, { version: protocol.version, preferLocal: options.spread !== true });
    return this.system.ref({ node: chosen.node, path: this.pathOf(protocol.name, instance) }, protocol);
  }

  instances(service: string): string[] {
    this.registry.followKeys(service);
    const prefix = `${service}/`;
    return this.registry.services().filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  }
}
