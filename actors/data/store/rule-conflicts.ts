import { InvalidParameterError, NetworkRuleConflictError } from '../../../src/errors.js';

/**
 * CloudStack's network rule conflict check (FirewallManagerImpl.detectRulesConflict), as a pure
 * function over the rules already on the same public address (or, for egress rules, the same network):
 * - a rule of any purpose conflicts with static NAT on the address, and static NAT with any rule but
 *   firewall rules (firewall rules only open ports, whatever else uses them);
 * - rules on one address must all belong to the same network;
 * - two rules whose public port ranges overlap conflict, except: a firewall rule against a rule of
 *   another purpose or protocol; two firewall rules whose source CIDRs share nothing; two port
 *   forwarding rules of different protocols;
 * - two ICMP firewall rules with the same type, code and a shared CIDR are the same rule (431).
 */

export type RulePurpose = 'Firewall' | 'PortForwarding' | 'LoadBalancing' | 'StaticNat';

export interface RuleShape {
  /** Public id, for messages (undefined for the new rule). */
  id?: string;
  purpose: RulePurpose;
  protocol: string;
  networkId: number;
  startPort: number | null;
  endPort: number | null;
  icmpType: number | null;
  icmpCode: number | null;
  /** Source CIDRs (firewall rules); null means "every source". */
  cidrs: readonly string[] | null;
}

function overlaps(a: RuleShape, b: RuleShape): boolean {
  if (a.startPort === null || a.endPort === null || b.startPort === null || b.endPort === null) return false;
  return a.startPort <= b.endPort && b.startPort <= a.endPort;
}

function sharedCidr(a: RuleShape, b: RuleShape): boolean {
  if (a.cidrs === null || b.cidrs === null) return false;
  return a.cidrs.some((c) => b.cidrs!.includes(c));
}

/** Throws NetworkRuleConflictError (537) or InvalidParameterError (431) when `rule` conflicts with one of `existing`. */
export function detectRulesConflict(rule: RuleShape, existing: readonly RuleShape[], where: string): void {
  for (const other of existing) {
    const proto = rule.protocol.toLowerCase();
    const otherProto = other.protocol.toLowerCase();
    const firewallAside = (rule.purpose === 'Firewall' || other.purpose === 'Firewall')
      && (rule.purpose !== other.purpose || proto !== otherProto);
    const bothFirewall = rule.purpose === 'Firewall' && other.purpose === 'Firewall';
    if (bothFirewall && (rule.cidrs === null || other.cidrs === null)) continue;
    const duplicatedCidrs = bothFirewall && sharedCidr(rule, other);
    if (!firewallAside) {
      if (other.purpose === 'StaticNat' && rule.purpose !== 'StaticNat') {
        throw new NetworkRuleConflictError(`There is 1 to 1 Nat rule specified for the ip address ${where}`);
      }
      if (other.purpose !== 'StaticNat' && rule.purpose === 'StaticNat') {
        throw new NetworkRuleConflictError(`There is already firewall rule specified for the ip address ${where}`);
      }
    }
    if (other.networkId !== rule.networkId) {
      throw new NetworkRuleConflictError(`New rule is for a different network than what's specified in rule ${other.id ?? ''}`);
    }
    if (proto === 'icmp' && otherProto === 'icmp' && duplicatedCidrs
      && rule.icmpType === other.icmpType && rule.icmpCode === other.icmpCode) {
      throw new InvalidParameterError(`New rule conflicts with existing rule id=${other.id ?? ''}`);
    }
    if (firewallAside || (bothFirewall && !duplicatedCidrs) || !overlaps(rule, other)) continue;
    const differentProtocol = proto !== otherProto;
    if (rule.purpose === other.purpose && (rule.purpose === 'PortForwarding' || rule.purpose === 'StaticNat') && differentProtocol) continue;
    throw new NetworkRuleConflictError(`The range specified, ${rule.startPort}-${rule.endPort}, conflicts with rule ${other.id ?? ''} ` +
      `which has ${other.startPort}-${other.endPort}`);
  }
}
