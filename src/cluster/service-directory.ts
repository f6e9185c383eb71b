import type { ClusterMember, ServiceDirectory } from '../component.js';
import type { RefFactory } from '../locator.js';
import type { GossipNode } from './gossip-node.js';
import { RegistryLocator } from './registry-locator.js';

/**
 * The service directory over a gossip node: what components publish goes into the node's member
 * metadata, and lookups go through the registry built from every member's metadata. A node alone (the
 * all-in-one lab) is a membership of one, so the lab runs this same code.
 */
export function createServiceDirectory(gossip: GossipNode, system: RefFactory): ServiceDirectory {
  const locator = new RegistryLocator(gossip.registry, system);
  // Figures set by several parts of a node (a launcher's capacity, the load report) are merged.
  const load: Record<string, number> = {};
  return {
    locator,
    registry: gossip.registry,
    // Keyed instances (compute/<host>) share one metadata entry per service, however many (issue 18).
    publish: (p, instance) => (instance === undefined ? gossip.advertise(p.name, p.version) : gossip.advertiseKey(p.name, p.version, instance)),
    withdraw: (p, instance) => (instance === undefined ? gossip.withdraw(p.name) : gossip.withdrawKey(p.name, instance)),
    setLoad: (figures) => { Object.assign(load, figures); gossip.membership.updateMetadata({ load: { ...load } }); },
    has: (service) => gossip.registry.lookup(service).length > 0,
    members: () => gossip.membership.members({ includeSelf: true })
      .filter((m) => m.status === 'alive' || m.status === 'suspect')
      .map((m): ClusterMember => ({
        id: m.id, roles: m.meta.roles, addresses: m.meta.addresses, startedAt: m.epoch,
        status: m.status === 'suspect' ? 'suspect' : 'alive', local: m.id === gossip.membership.id, load: m.meta.load,
      })),
    memberStatus: (nodeId) => gossip.membership.member(nodeId)?.status ?? 'unknown',
    onMemberChange: (listener) => gossip.membership.onChange((e) => listener(e.member.id, e.member.status)),
  };
}
