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
export async function startGossip(node: Node, config: CliConfig, seeds: string[], log: Logger): Promise<GossipNode> {
  const gossip = new GossipNode(node, { roles: config.roles, cluster: config.clusterName, config: gossipProfile(config.heartbeatProfile) });
  gossip.membership.onChange((e) => {
    log.info('member', { event: e.type, member: e.member.id });
  });
  try {
    await gossip.join(seeds);
  } catch (err) {
    gossip.stop();
    throw err;
  }
  return gossip;
}
