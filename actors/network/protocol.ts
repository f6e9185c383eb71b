import { ask, defineProtocol } from '../../src/protocol.js';
import { FenceSchema } from '../../src/lease.js';
import { t } from '../../src/schema.js';
import { NetworkSchema, NicSchema, PublicIpAddressSchema, ScopeSchema, type Network, type Nic, type PublicIpAddress } from '../data/protocol.js';
import type { ElementSnapshot } from './element.js';

/**
 * The network component's protocol (service `network`, actor at NETWORK_PATH). It implements guest
 * networks on first use, hands out NIC addresses and public IPs, and shuts networks down.
 *
 * Every command that changes something carries an idempotency `key` (and, from a job, the job's lease
 * `fence`: its data writes are refused once the job has another owner) and is idempotent by state as
 * well: implementing an Implemented network, preparing a NIC that already has its address, releasing
 * an address that is already free all answer success without acting again. The orchestrator sends its
 * job steps at least once, so a repeated command must be harmless.
 *
 * Errors (src/errors.ts): NotFoundError for an unknown network, NIC or address; InsufficientCapacityError
 * when no VLAN/VNI, guest address or public address is free; ResourceInUseError when a network still
 * has NICs and is asked to go; IllegalStateError when an object is in a state the command cannot use.
 */

export const NETWORK_SERVICE = 'network';
export const NETWORK_PATH = '/network';

export type { Network, Nic, PublicIpAddress };

const id = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });

/** Which rules are applied together (see RuleTarget in the data store). */
export const RuleTargetSchema = t.object({
  purpose: t.literal('Firewall', 'PortForwarding', 'LoadBalancing', 'StaticNat'), traffictype: t.literal('Ingress', 'Egress'),
  ipid: t.optional(id()), networkid: id(),
});

export const NetworkProtocol = defineProtocol(NETWORK_SERVICE, '1.0', {
  /**
   * Allocated → Implementing → Implemented: a VLAN/VNI from the zone's pool and, for isolated networks,
   * a source NAT public address. Implemented and Setup (shared) networks answer at once. A failure
   * leaves the network Allocated with nothing held.
   */
  implementNetwork: ask(t.object({ key: id(), fence: t.optional(FenceSchema), networkid: id() }), NetworkSchema),
  /** Reserves the NIC's guest address (the requested one, or the lowest free). */
  prepareNic: ask(t.object({ key: id(), fence: t.optional(FenceSchema), nicid: id(), ipaddress: t.optional(t.string({ maxLength: 64 })) }), NicSchema),
  /** Returns the NIC's guest address to its network. */
  releaseNic: ask(t.object({ key: id(), fence: t.optional(FenceSchema), nicid: id() }), NicSchema),
  /**
   * Puts an allocated public address to use on its network (associateIpAddress' job): the network is
   * implemented first when it is not yet.
   */
  applyPublicIp: ask(t.object({ key: id(), fence: t.optional(FenceSchema), ipid: id() }), PublicIpAddressSchema),
  /** Releases a public address (disassociateIpAddress) for `scope`, which must be allowed to see it. */
  releasePublicIp: ask(t.object({ key: id(), fence: t.optional(FenceSchema), ipid: id(), scope: ScopeSchema }), PublicIpAddressSchema),
  /**
   * deleteNetwork: refuses (ResourceInUseError) while NICs are on it, otherwise shuts it down (its
   * VLAN/VNI and public addresses go back) and removes it. Deleting a deleted network succeeds.
   */
  deleteNetwork: ask(t.object({ key: id(), fence: t.optional(FenceSchema), networkid: id(), scope: ScopeSchema }), t.object({ networkid: t.string() })),
  /**
   * Applies the complete rule set of one target (a public address's rules of one purpose, its static
   * NAT, or a network's egress rules) to the network element, then settles the rules it carried: Add →
   * Active, Revoke → removed. An element failure leaves them as they were (ResourceUnavailableError).
   */
  applyRules: ask(t.object({ key: id(), fence: t.optional(FenceSchema), target: RuleTargetSchema }), t.object({ rules: t.number() })),
  /** What the network element holds for a network (the simulator's record of what it was told). */
  elementState: ask(t.object({ networkid: id() }), t.type<ElementSnapshot>()),
});

export type NetworkProtocolType = typeof NetworkProtocol;
