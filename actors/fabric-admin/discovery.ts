import type { ServiceDirectory } from '../../src/component.js';
import { InstanceDirectory } from '../../src/cluster/instance-directory.js';
import type { Transport } from '../../src/transport.js';
import { COMPUTE_SERVICE } from '../compute/protocol.js';
import type { ComputeDiscovery } from './admin-actor.js';

/**
 * Discovery of compute agents over the registry. A node learned through gossip may not be connected to
 * this one yet: its advertised address is handed to the transport first, so that the admission's asks
 * can reach it.
 */
export function discoveryOf(services: ServiceDirectory, transport: Transport | undefined): ComputeDiscovery {
  const hosts = new InstanceDirectory(services, COMPUTE_SERVICE);
  const reach = (node: string, addresses: readonly string[]): void => {
    const address = addresses[0];
    if (address === undefined || transport?.learnAddress === undefined || transport.peers().includes(node)) return;
    try { transport.learnAddress(node, address); } catch { /* an address this transport cannot use: asks fail and are retried */ }
  };
  return {
    hosts: () => hosts.live().map((h) => { reach(h.node, h.addresses); return h.host; }),
    onAdded: (listener) => hosts.onAdded((host, node, addresses) => { reach(node, addresses); listener(host); }),
  };
}
