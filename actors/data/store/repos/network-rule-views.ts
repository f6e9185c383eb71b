import { compact } from '../format.js';
import type { RulePurpose } from '../rule-conflicts.js';
import type { OwnedRow, OwnerColumns } from './common.js';
import { OWNER_COLUMNS, OWNER_JOINS, ownerFields } from './common.js';
import type { ResourceTag } from './tags.js';

export type TrafficType = 'Ingress' | 'Egress';
export type RuleState = 'Add' | 'Active' | 'Revoke';

/** The tag resource type (ResourceObjectType) of each rule purpose. */
export const TAG_TYPE: Readonly<Record<RulePurpose, string>> = {
  Firewall: 'FirewallRule', PortForwarding: 'PortForwardingRule', LoadBalancing: 'LoadBalancer', StaticNat: 'FirewallRule',
};

/**
 * A network rule as the API shows it. The fields are the union of CloudStack's FirewallResponse,
 * FirewallRuleResponse (port forwarding: ports as strings) and LoadBalancerResponse; `mapRule` fills
 * the ones of the rule's purpose.
 */
export interface NetworkRuleView {
  id: string;
  purpose: RulePurpose;
  state: RuleState;
  protocol: string;
  networkid: string;
  ipaddressid?: string;
  ipaddress?: string;
  startport?: number;
  endport?: number;
  icmptype?: number;
  icmpcode?: number;
  cidrlist?: string;
  destcidrlist?: string;
  traffictype?: TrafficType;
  privateport?: string;
  privateendport?: string;
  publicport?: string;
  publicendport?: string;
  virtualmachineid?: string;
  virtualmachinename?: string;
  virtualmachinedisplayname?: string;
  vmguestip?: string;
  name?: string;
  description?: string;
  algorithm?: string;
  publicipid?: string;
  publicip?: string;
  zoneid?: string;
  zonename?: string;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  fordisplay: boolean;
  tags: ResourceTag[];
}

export interface RuleRow extends OwnedRow, OwnerColumns {
  uuid: string;
  purpose: RulePurpose;
  traffic_type: TrafficType;
  state: RuleState;
  protocol: string;
  start_port: number | null;
  end_port: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  source_cidrs: string | null;
  dest_cidrs: string | null;
  vm_ip: string | null;
  dest_start_port: number | null;
  dest_end_port: number | null;
  name: string | null;
  description: string | null;
  algorithm: string | null;
  ip_uuid: string | null;
  ip_address: string | null;
  nw_uuid: string;
  vm_uuid: string | null;
  vm_name: string | null;
  vm_display: string | null;
  z_uuid: string;
  z_name: string;
}

export const RULE_COLUMNS = `${OWNER_COLUMNS}, t.uuid, t.purpose, t.traffic_type, t.state, t.protocol, t.start_port, t.end_port,
  t.icmp_type, t.icmp_code, t.source_cidrs, t.dest_cidrs, t.vm_ip, t.dest_start_port, t.dest_end_port, t.name, t.description,
  t.algorithm, ip.uuid AS ip_uuid, ip.address AS ip_address, nw.uuid AS nw_uuid, vm.uuid AS vm_uuid, vm.name AS vm_name,
  vm.display_name AS vm_display, z.uuid AS z_uuid, z.name AS z_name`;
export const RULE_JOINS = `${OWNER_JOINS} LEFT JOIN ip_address ip ON ip.id = t.ip_address_id JOIN network nw ON nw.id = t.network_id
  LEFT JOIN vm_instance vm ON vm.id = t.vm_id JOIN zone z ON z.id = nw.zone_id`;

const str = (n: number | null): string | undefined => (n === null ? undefined : String(n));

export function mapRule(r: RuleRow): NetworkRuleView {
  const common = { id: r.uuid, purpose: r.purpose, state: r.state, protocol: r.protocol, networkid: r.nw_uuid, ...ownerFields(r),
    fordisplay: true, tags: [] as ResourceTag[] };
  if (r.purpose === 'PortForwarding') {
    return compact<NetworkRuleView>({ ...common, ipaddressid: r.ip_uuid, ipaddress: r.ip_address, publicport: str(r.start_port),
      publicendport: str(r.end_port), privateport: str(r.dest_start_port), privateendport: str(r.dest_end_port),
      virtualmachineid: r.vm_uuid, virtualmachinename: r.vm_name, virtualmachinedisplayname: r.vm_display ?? r.vm_name,
      vmguestip: r.vm_ip, cidrlist: r.source_cidrs });
  }
  if (r.purpose === 'LoadBalancing') {
    return compact<NetworkRuleView>({ ...common, name: r.name, description: r.description, publicipid: r.ip_uuid,
      publicip: r.ip_address, publicport: str(r.start_port), privateport: str(r.dest_start_port), algorithm: r.algorithm,
      cidrlist: r.source_cidrs, zoneid: r.z_uuid, zonename: r.z_name });
  }
  return compact<NetworkRuleView>({ ...common, ipaddressid: r.ip_uuid, ipaddress: r.ip_address, startport: r.start_port,
    endport: r.end_port, icmptype: r.icmp_type, icmpcode: r.icmp_code, cidrlist: r.source_cidrs, destcidrlist: r.dest_cidrs,
    traffictype: r.traffic_type });
}
