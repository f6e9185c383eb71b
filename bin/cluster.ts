/**
 * A node's membership in its cluster (gossip) and the service directory over it. Every node has one:
 * a lab is a cluster of one member on the in-process transport, so its components find each other
 * through the same registry as the components of a cloud spread over many processes.
 */
import { GossipNode } from '../src/cluster/gossip-node.js';
import { createServiceDirectory } from '../src/cluster/service-directory.js';
import type { ServiceDirectory, TimingProfile } from '../src/component.js';
import { defaultConfig, testConfig, type GossipConfig } from '../src/gossip/config.js';
import type { Logger } from '../src/logger.js';
import type { Node } from '../src/node.js';

/**
 * Gossip timings for real processes. The `test` profile is the simulator's test profile slowed 2x:
 * child processes on a loaded 2-core CI machine miss 20 ms timers, and a busy node must not be
 * declared dead.
 */
export function gossipProfile(profile: TimingProfile): Partial<GossipConfig> {
  if (profile === 'default') return defaultConfig();
  const t = testConfig();
  return { ...t, probeInterval: 120, probeTimeout: 60, suspicionFloor: 800, gossipInterval: 40 };
}

export interface ClusterMembership {
  readonly gossip: GossipNode;
  readonly services: ServiceDirectory;
}

export interface MembershipOptions {
  /** The roles this node runs (advertised to the others: listManagementServers, status). */
  roles: readonly string[];
  clusterName: string;
  profile: TimingProfile;
  /** Seeds to join (ws addresses); none for a node alone or a Redis cluster (peers found on the channel). */
  seeds: readonly string[];
  /** Wait for the seeds' answer (or the join timeout) before returning. Default false. */
  waitForSeeds?: boolean;
  log: Logger;
}

/**
 * Starts membership for a node, joins the seeds and logs membership changes. A seed slow to answer
 * gossip is not fatal: membership keeps retrying in the background and says so.
 */
export async function startClusterMembership(node: Node, o: MembershipOptions): Promise<ClusterMembership> {
  const gossip = new GossipNode(node, { roles: [...o.roles], cluster: o.clusterName, config: gossipProfile(o.profile) });
  gossip.membership.onChange((e) => {
    // Metadata updates (a service published) are routine; joins, failures and departures are news.
    if (e.type === 'updated') o.log.debug('member', { event: e.type, member: e.member.id });
    else o.log.info('member', { event: e.type, member: e.member.id });
  });
  const joined = gossip.join(o.seeds).catch((err: unknown) => {
    o.log.warn('no gossip answer from the seeds yet; still retrying', { error: (err as Error).message });
  });
  // A node with a data component waits for the seeds' answer, so that it starts knowing the cluster (a
  // second SQLite data instance is refused); others start at once and find services as they appear.
  if (o.waitForSeeds === true) await joined;
  return { gossip, services: createServiceDirectory(gossip, node.system) };
}
