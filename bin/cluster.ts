import { GossipNode } from '../src/cluster/gossip-node.js';
import { defaultConfig, testConfig, type GossipConfig } from '../src/gossip/config.js';
import type { Logger } from '../src/logger.js';
import type { Node } from '../src/node.js';
import type { CliConfig } from './cli-options.js';

/**
 * Gossip timings for real processes. The `test` profile is the simulator's test profile slowed 2x:
 * child processes on a loaded 2-core CI machine miss 20 ms timers, and a busy node must not be
 * declared dead.
 */
export function gossipProfile(profile: CliConfig['heartbeatProfile']): Partial<GossipConfig> {
  if (profile === 'default') return defaultConfig();
  const t = testConfig();
  return { ...t, probeInterval: 120, probeTimeout: 60, suspicionFloor: 800, gossipInterval: 40 };
}

/** Starts membership for a networked node, joins the seeds and logs membership changes. */
export function startGossip(node: Node, config: CliConfig, seeds: string[], log: Logger): GossipNode {
  const gossip = new GossipNode(node, { roles: config.roles, cluster: config.clusterName, config: gossipProfile(config.heartbeatProfile) });
  gossip.membership.onChange((e) => {
    log.info('member', { event: e.type, member: e.member.id });
  });
  // The seeds answered at the transport level already (joinSeeds); a seed that is slow to answer
  // gossip is not fatal: membership keeps retrying in the background and says so.
  gossip.join(seeds).catch((err: unknown) => log.warn('no gossip answer from the seeds yet; still retrying', { error: (err as Error).message }));
  return gossip;
}
