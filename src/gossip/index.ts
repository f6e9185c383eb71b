/**
 * Gossip membership (SWIM with Lifeguard) as a pure state machine, and the deterministic cluster
 * simulator. The runtime feeds a Membership with the control-lane messages of a transport and
 * gives it a send function; nothing here does I/O.
 */
export {
  Membership, createMembership, type MembershipOptions, type MembershipStats, type MembershipListener, type PeerRef,
  type SendFn,
} from './membership.js';
export type { MembershipEvent, MembershipEventType } from './member-table.js';
export type { MemberInfo } from './member-state.js';
export {
  defaultConfig, testConfig, memberlistLanConfig, resolveConfig, suspicionTimeouts, retransmitLimit, pushPullInterval,
  type GossipConfig,
} from './config.js';
export {
  parseEnvelope, WIRE_VERSION, type GossipEnvelope, type MemberMeta, type MemberSnapshot, type MemberStatus,
  type ServiceInfo, type NodeId, type Update, type Body,
} from './messages.js';
export { ClusterSimulator, SimNode, type SimulatorOptions, type SimNodeOptions, type SimNodeState, type SimEventListener } from './simulator.js';
export type { SimNetworkOptions, SimNetworkStats } from './sim-network.js';
