/**
 * The gossip membership as the fabric components see it: which compute agents exist (discovery, for
 * the fabric admin) and what the membership says about the node of each host (verdicts, for the
 * fabric monitor's investigations). Host → node is learned from the registry's `compute/<host>`
 * services and remembered after the node is gone, so a dead node's hosts get its verdict. Compute
 * nodes advertise their hosts as a keyed service (src/registry/keyed.ts), which is followed here.
 */
import type { GossipNode } from '../src/cluster/index.js';
import type { MemberStatus } from '../src/gossip/index.js';
import type { Transport } from '../src/transport.js';
import type { ComputeDiscovery } from '../actors/fabric-admin/admin-actor.js';
import type { FabricSignals, NodeVerdict } from '../actors/fabric-monitor/investigation.js';

const PREFIX = 'compute/';

const VERDICT: Record<MemberStatus, NodeVerdict> = { alive: 'alive', suspect: 'suspect', dead: 'failed', left: 'left' };

/** Host name → node id, kept current from the registry (one map per gossip node). */
const maps = new WeakMap<GossipNode, Map<string, string>>();

function hostNodes(gossip: GossipNode): Map<string, string> {
  let map = maps.get(gossip);
  if (map !== undefined) return map;
  const m = new Map<string, string>();
  gossip.registry.followKeys('compute');
  for (const name of gossip.registry.services()) {
    if (!name.startsWith(PREFIX)) continue;
    const inst = gossip.registry.lookup(name)[0];
    if (inst !== undefined) m.set(name.slice(PREFIX.length), inst.node);
  }
  gossip.registry.onChange((e) => {
    if (e.type === 'service-added' && e.instance.service.startsWith(PREFIX)) m.set(e.instance.service.slice(PREFIX.length), e.instance.node);
  });
  maps.set(gossip, m);
  map = m;
  return map;
}

export function signalsOf(gossip: GossipNode): FabricSignals {
  const nodes = hostNodes(gossip);
  const verdictOfNode = (node: string | undefined): NodeVerdict => {
    if (node === undefined) return 'unknown';
    const m = gossip.membership.member(node);
    return m === undefined ? 'unknown' : VERDICT[m.status];
  };
  return {
    verdict: (host) => verdictOfNode(nodes.get(host)),
    onChange: (listener) => gossip.membership.onChange((e) => {
      for (const [host, node] of nodes) if (node === e.member.id) listener(host, VERDICT[e.member.status]);
    }),
  };
}

/**
 * Discovery over the registry. A node learned through gossip may not be connected to this one yet:
 * its advertised address is handed to the transport first, so the admission's asks can reach it.
 */
export function discoveryOf(gossip: GossipNode, transport: Transport | undefined): ComputeDiscovery {
  hostNodes(gossip);
  const reach = (node: string, addresses: readonly string[]): void => {
    const address = addresses[0];
    if (address === undefined || transport?.learnAddress === undefined || transport.peers().includes(node)) return;
    try { transport.learnAddress(node, address); } catch { /* an address this transport cannot use: asks fail and are retried */ }
  };
  return {
    hosts: () => gossip.registry.services().filter((n) => n.startsWith(PREFIX)).map((n) => {
      const inst = gossip.registry.lookup(n)[0];
      if (inst !== undefined) reach(inst.node, inst.addresses);
      return n.slice(PREFIX.length);
    }),
    onAdded: (listener) => gossip.registry.onChange((e) => {
      if (e.type !== 'service-added' || !e.instance.service.startsWith(PREFIX)) return;
      reach(e.instance.node, e.instance.addresses);
      listener(e.instance.service.slice(PREFIX.length));
    }),
  };
}
