import type { ClusterMember, ServiceDirectory } from '../component.js';
import type { Protocol } from '../protocol.js';
import type { RefFactory } from '../locator.js';
import type { GossipNode } from './gossip-node.js';
import { RegistryLocator, instanceName } from './registry-locator.js';

/**
 * The service directory over a gossip node: what components publish goes into the node's member
 * metadata, and lookups go through the registry built from every member's metadata. A node alone (the
 * all-in-one lab) is a membership of one, so the lab runs this same code.
 */
export function createServiceDirectory(gossip: GossipNode, system: RefFactory): ServiceDirectory {
  const locator = new RegistryLocator(gossip.registry, system);
  const nameOf = (p: Protocol, instance?: string): string => (instance === undefined ? p.name : instanceName(p.name, instance));
  return {
    locator,
    registry: gossip.registry,
    publish: (p, instance) => gossip.advertise(nameOf(p, instance), p.version),
    withdraw: (p, instance) => gossip.withdraw(nameOf(p, instance)),
    has: (service) => gossip.registry.lookup(service).length > 0,
    members: () => gossip.membership.members({ includeSelf: true })
      .filter((m) => m.status === 'alive' || m.status === 'suspect')
      .map((m): ClusterMember => ({
        id: m.id, roles: m.meta.roles, addresses: m.meta.addresses, startedAt: m.epoch,
        status: m.status === 'suspect' ? 'suspect' : 'alive', local: m.id === gossip.membership.id,
      })),
    memberStatus: (nodeId) => gossip.membership.member(nodeId)?.status ?? 'unknown',
    onMemberChange: (listener) => gossip.membership.onChange((e) => listener(e.member.id, e.member.status)),
  };
}
