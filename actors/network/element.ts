import type { DataApi } from '../data/protocol.js';

/** One target's complete rule set, as the data service builds it (see RuleSet in the data store). */
export type RuleSet = Awaited<ReturnType<DataApi['ruleSets']['ruleSet']>>;
export type RuleTarget = RuleSet['target'];

/**
 * A network element: what makes a network's rules true on the wire — on real hosts the virtual router
 * (iptables, haproxy), here the simulator. The network component hands it the complete desired set of
 * one target (all firewall rules of a public address, all its port forwarding or load balancing rules,
 * its static NAT, or all egress rules of a network), never a diff, so that applying is idempotent and
 * a router that lost its state is repaired by the next apply. A rejected apply throws; the rules it
 * carried then stay as they were (new ones are dropped by their job, revoked ones stay Revoke).
 */
export interface NetworkElement {
  readonly name: string;
  apply(set: RuleSet): Promise<void>;
  /** What the element currently holds for a network (tests, diagnostics). */
  state(networkid: string): ElementSnapshot;
}

/** The sets an element holds for one network, by target key (`purpose/traffic/address`). */
export interface ElementSnapshot {
  networkid: string;
  /** How many applies the element has accepted for this network. */
  applies: number;
  sets: Record<string, Omit<RuleSet, 'token' | 'network'>>;
}

export function targetKey(t: RuleTarget): string {
  return `${t.purpose}/${t.traffictype}/${t.ipid ?? ''}`;
}
