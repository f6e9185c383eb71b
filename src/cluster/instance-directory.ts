import type { ServiceDirectory } from '../component.js';

/**
 * Which node runs which instance of a keyed service (a hypervisor host's agent: `compute/<host>`),
 * learned from the registry and remembered after the node is gone (so that a dead node's hosts still
 * get its verdict).
 */
export class InstanceDirectory {
  private readonly prefix: string;
  private readonly nodes = new Map<string, string>();
  private readonly addedListeners = new Set<(host: string, node: string, addresses: readonly string[]) => void>();

  constructor(private readonly services: ServiceDirectory, service: string) {
    const PREFIX = `${service}/`;
    this.prefix = PREFIX;
    // The instances may be advertised as a keyed service (one metadata entry per node): resolve them.
    services.registry.followKeys(service);
    for (const name of services.registry.services()) {
      if (!name.startsWith(PREFIX)) continue;
      const inst = services.registry.lookup(name)[0];
      if (inst !== undefined) this.nodes.set(name.slice(PREFIX.length), inst.node);
    }
    services.registry.onChange((e) => {
      if (e.type !== 'service-added' || !e.instance.service.startsWith(PREFIX)) return;
      const host = e.instance.service.slice(PREFIX.length);
      this.nodes.set(host, e.instance.node);
      for (const l of this.addedListeners) l(host, e.instance.node, e.instance.addresses);
    });
  }

  /** The node an instance runs on (or last ran on). */
  nodeOf(host: string): string | undefined {
    return this.nodes.get(host);
  }

  /** Every host with a node known, and that node. */
  entries(): IterableIterator<[string, string]> {
    return this.nodes.entries();
  }

  /** Hosts with a live agent now, with where to reach their node. */
  live(): { host: string; node: string; addresses: readonly string[] }[] {
    return this.services.registry.services().filter((n) => n.startsWith(this.prefix)).flatMap((n) => {
      const inst = this.services.registry.lookup(n)[0];
      return inst === undefined ? [] : [{ host: n.slice(this.prefix.length), node: inst.node, addresses: inst.addresses }];
    });
  }

  /** Called when an agent appears (a node joined or restarted); returns the unsubscribe function. */
  onAdded(listener: (host: string, node: string, addresses: readonly string[]) => void): () => void {
    this.addedListeners.add(listener);
    return () => { this.addedListeners.delete(listener); };
  }
}
