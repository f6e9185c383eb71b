import { SYSTEM, type DataApi } from '../data/protocol.js';
import type { NetworkElement, RuleTarget } from './element.js';


/**
 * Applies one target's rules: the data service builds the complete set, the element makes it true,
 * and only then are the rules it carried settled (Add → Active, revoked ones removed).
 */
export async function applyTarget(data: DataApi, element: NetworkElement, target: RuleTarget): Promise<number> {
  const set = await data.ruleSets.ruleSet(target);
  await element.apply(set);
  await data.ruleSets.settle(set.token);
  return set.rules.length;
}

/**
 * Before a public address goes back to the pool: every rule on it is removed and its static NAT
 * dropped, and the element is told so (an empty set per purpose).
 */
export async function clearAddress(data: DataApi, element: NetworkElement, ipid: string): Promise<void> {
  const ip = await data.ipAddresses.get(SYSTEM, ipid);
  const networkid = ip.associatednetworkid;
  if (networkid === undefined) return;
  await data.networkRules.purgeIp(ipid);
  if (ip.isstaticnat) await data.ruleSets.disableStaticNat(SYSTEM, ipid);
  for (const purpose of ['Firewall', 'PortForwarding', 'LoadBalancing', 'StaticNat'] as const) {
    await applyTarget(data, element, { purpose, traffictype: 'Ingress', ipid, networkid });
  }
}
