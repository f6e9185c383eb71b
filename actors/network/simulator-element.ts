import { ResourceUnavailableError } from '../../src/errors.js';
import type { DataApi } from '../data/protocol.js';
import { targetKey, type ElementSnapshot, type NetworkElement, type RuleSet } from './element.js';

/**
 * The agent command CloudStack's virtual router would receive for each purpose: a simulator mock with
 * that name (configureSimulator name=SetPortForwardingRulesCommand value=result:fail) makes the apply
 * fail, as it makes CloudStack's simulator fail it.
 */
export const ELEMENT_COMMANDS: Readonly<Record<RuleSet['target']['purpose'], string>> = {
  Firewall: 'SetFirewallRulesCommand',
  PortForwarding: 'SetPortForwardingRulesCommand',
  LoadBalancing: 'LoadBalancerConfigCommand',
  StaticNat: 'SetStaticNatRulesCommand',
};

/** Networks whose applied sets the simulator keeps (a cap so a long-lived lab cannot grow it without end). */
export const DEFAULT_MAX_NETWORKS = 10_000;

/**
 * The simulator's network element: it records what it was told per network and target, and honours
 * the simulator's failure mocks. Nothing else happens, as with CloudStack's simulator.
 */
export function createSimulatorElement(data: DataApi, maxNetworks = DEFAULT_MAX_NETWORKS): NetworkElement {
  const networks = new Map<string, ElementSnapshot>();
  return {
    name: 'simulator',
    async apply(set) {
      const fired = await data.mocks.fire(ELEMENT_COMMANDS[set.target.purpose], { zoneid: set.network.zoneid });
      // The data service answers "no mock" as null over the wire.
      const result = fired?.options['result'];
      if (result === 'fail' || result === 'fault') {
        throw new ResourceUnavailableError(`Simulated failure: ${ELEMENT_COMMANDS[set.target.purpose]} on network ${set.network.name}`);
      }
      let snap = networks.get(set.network.id);
      if (snap === undefined) {
        if (networks.size >= maxNetworks) networks.delete(networks.keys().next().value!);
        snap = { networkid: set.network.id, applies: 0, sets: {} };
        networks.set(set.network.id, snap);
      }
      const { token: _token, network: _network, ...recorded } = set;
      snap.sets[targetKey(set.target)] = recorded;
      snap.applies++;
    },
    state(networkid) {
      const snap = networks.get(networkid);
      return snap === undefined ? { networkid, applies: 0, sets: {} } : structuredClone(snap);
    },
  };
}
