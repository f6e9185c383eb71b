import { InvalidParameterError, NetworkRuleConflictError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import type { RulePurpose } from '../rule-conflicts.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import type { PublicIpAddress } from './ip-addresses.js';
import type { TrafficType } from './network-rule-views.js';
import type { NetworkRuleRepository } from './network-rules.js';

/** Most VMs one load balancer rule may balance over (the virtual router's haproxy backends). */
export const MAX_LB_MEMBERS = 256;

/** Which rules a network element applies together: CloudStack applies all rules of one purpose on one address (or, for egress, one network). */
export interface RuleTarget {
  purpose: RulePurpose;
  traffictype: TrafficType;
  /** The public address (every purpose but egress firewall). */
  ipid?: string;
  networkid: string;
}

/** One rule as a network element receives it. */
export interface ElementRule {
  id: string;
  protocol: string;
  startport?: number;
  endport?: number;
  icmptype?: number;
  icmpcode?: number;
  cidrs: string[];
  /** Port forwarding: where to; load balancing: the members. */
  destip?: string;
  destport?: number;
  destendport?: number;
  algorithm?: string;
  members?: { vmid: string; ip: string }[];
}

/**
 * The whole desired set of one target, which the element makes true (declarative, so applying it twice
 * is harmless and a later issue can push it to a host's router). `token` says what to settle once it
 * is applied: only the rules and memberships the element was actually given.
 */
export interface RuleSet {
  target: RuleTarget;
  network: { id: string; name: string; vlan?: string; cidr?: string; gateway?: string; zoneid: string };
  publicip?: string;
  rules: ElementRule[];
  /** Static NAT target: the guest address the public address is mapped to (absent: no static NAT). */
  staticnat?: { vmid: string; vmip: string };
  token: { activate: string[]; remove: string[]; members: { rule: string; vm: string }[] };
}

interface RuleRow {
  id: number;
  uuid: string;
  state: string;
  protocol: string;
  start_port: number | null;
  end_port: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  source_cidrs: string | null;
  vm_ip: string | null;
  dest_start_port: number | null;
  dest_end_port: number | null;
  algorithm: string | null;
}

/**
 * What the network elements are told: rule sets per target, and the changes that only touch
 * memberships and addresses (load balancer members, static NAT). Settling after a successful apply
 * moves Add rules to Active and deletes what was revoked.
 */
export class RuleSetRepository {
  constructor(private readonly ctx: StoreContext, private readonly rules: NetworkRuleRepository) {}

  /** The target a rule belongs to. */
  targetOf(scope: Scope, ruleUuid: string): RuleTarget {
    const r = this.ctx.one<{ purpose: RulePurpose; traffic_type: TrafficType; ip: string | null; net: string; account_id: number; domain_id: number }>(
      `SELECT t.purpose, t.traffic_type, ip.uuid AS ip, nw.uuid AS net, t.account_id, t.domain_id FROM network_rule t
       LEFT JOIN ip_address ip ON ip.id = t.ip_address_id JOIN network nw ON nw.id = t.network_id WHERE t.uuid = ?`, ruleUuid);
    assertVisible(this.ctx, scope, 'network rule', ruleUuid, r);
    const out: RuleTarget = { purpose: r!.purpose, traffictype: r!.traffic_type, networkid: r!.net };
    if (r!.ip !== null) out.ipid = r!.ip;
    return out;
  }

  /** The static NAT target of a public address (its network must exist). */
  staticNatTarget(scope: Scope, ipUuid: string): RuleTarget {
    const ip = this.ctx.one<{ account_id: number | null; domain_id: number | null; net: string | null }>(
      'SELECT ip.account_id, ip.domain_id, nw.uuid AS net FROM ip_address ip LEFT JOIN network nw ON nw.id = ip.network_id WHERE ip.uuid = ?', ipUuid);
    assertVisible(this.ctx, scope, 'ip address', ipUuid, ip);
    if (ip!.net === null) throw new InvalidParameterError(`ip address ${ipUuid} is not associated with any network`);
    return { purpose: 'StaticNat', traffictype: 'Ingress', ipid: ipUuid, networkid: ip!.net };
  }

  /** The full set of `target` for the element. */
  ruleSet(target: RuleTarget): RuleSet {
    const net = this.ctx.one<{ id: number; uuid: string; name: string; vlan: string | null; cidr: string | null; gateway: string | null; z: string }>(
      'SELECT n.id, n.uuid, n.name, n.vlan, n.cidr, n.gateway, z.uuid AS z FROM network n JOIN zone z ON z.id = n.zone_id WHERE n.uuid = ?', target.networkid);
    if (net === undefined) throw new InvalidParameterError(`Unable to find network with id ${target.networkid}`);
    const ip = target.ipid === undefined ? undefined : this.ctx.one<{ id: number; address: string; static_nat: number; vm: string | null; vm_ip: string | null }>(
      'SELECT ip.id, ip.address, ip.static_nat, v.uuid AS vm, ip.vm_ip FROM ip_address ip LEFT JOIN vm_instance v ON v.id = ip.vm_id WHERE ip.uuid = ?', target.ipid);
    const set: RuleSet = { target, network: compactNet(net), rules: [], token: { activate: [], remove: [], members: [] } };
    if (ip !== undefined) set.publicip = ip.address;
    if (target.purpose === 'StaticNat') {
      if (ip?.static_nat === 1 && ip.vm !== null && ip.vm_ip !== null) set.staticnat = { vmid: ip.vm, vmip: ip.vm_ip };
      return set;
    }
    const rows = ip === undefined
      ? this.ctx.all<RuleRow>(`SELECT * FROM network_rule WHERE network_id = ? AND purpose = ? AND traffic_type = ? ORDER BY id`,
        net.id, target.purpose, target.traffictype)
      : this.ctx.all<RuleRow>(`SELECT * FROM network_rule WHERE ip_address_id = ? AND purpose = ? AND traffic_type = ? ORDER BY id`,
        ip.id, target.purpose, target.traffictype);
    for (const r of rows) {
      if (r.state === 'Revoke') { set.token.remove.push(r.uuid); continue; }
      if (r.state === 'Add') set.token.activate.push(r.uuid);
      set.rules.push(this.elementRule(r, set));
    }
    return set;
  }

  /** After the element applied `token`'s set: Add → Active, revoked rules and memberships deleted. */
  settle(token: RuleSet['token']): void {
    this.ctx.tx(() => {
      this.ctx.run(`UPDATE network_rule SET state = 'Active' WHERE state = 'Add' AND uuid IN (SELECT value FROM json_each(?))`,
        JSON.stringify(token.activate));
      const removed = this.ctx.all<{ id: number }>(`SELECT id FROM network_rule WHERE state = 'Revoke'
        AND uuid IN (SELECT value FROM json_each(?))`, JSON.stringify(token.remove)).map((r) => r.id);
      this.rules.removeRows(removed);
      for (const m of token.members) {
        this.ctx.run(`DELETE FROM lb_vm_map WHERE revoke = 1 AND rule_id = (SELECT id FROM network_rule WHERE uuid = ?)
          AND vm_id = (SELECT id FROM vm_instance WHERE uuid = ?)`, m.rule, m.vm);
      }
    });
  }

  /** assignToLoadBalancerRule: the VMs (of the rule's account, with a NIC on its network) join it. */
  assignToLb(scope: Scope, ruleUuid: string, vmUuids: readonly string[]): void {
    this.ctx.tx(() => {
      const rule = this.rules.rowOf(scope, ruleUuid, 'LoadBalancing');
      const current = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM lb_vm_map WHERE rule_id = ? AND revoke = 0', rule.id)!.n;
      if (current + vmUuids.length > MAX_LB_MEMBERS) {
        throw new InvalidParameterError(`a load balancer rule balances over at most ${MAX_LB_MEMBERS} instances`);
      }
      for (const vmUuid of vmUuids) {
        const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; state: string; name: string }>(
          'SELECT id, account_id, domain_id, state, name FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
        assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
        if (vm!.account_id !== rule.accountId) throw new InvalidParameterError(`vm ${vm!.name} belongs to another account than the rule`);
        if (vm!.state === 'Destroyed' || vm!.state === 'Expunging' || vm!.state === 'Error') {
          throw new InvalidParameterError(`Invalid user vm: ${vm!.name} is ${vm!.state}`);
        }
        const nic = this.ctx.one<{ ip_address: string | null }>('SELECT ip_address FROM nic WHERE vm_id = ? AND network_id = ? AND removed IS NULL',
          vm!.id, rule.target.networkId);
        if (nic === undefined) throw new InvalidParameterError(`vm ${vm!.name} has no nic in the network of the load balancer rule`);
        const existing = this.ctx.one<{ revoke: number }>('SELECT revoke FROM lb_vm_map WHERE rule_id = ? AND vm_id = ?', rule.id, vm!.id);
        if (existing?.revoke === 0) {
          throw new InvalidParameterError(`vm ${vm!.name} is already assigned to the load balancer rule ${ruleUuid}`);
        }
        this.ctx.run(`INSERT INTO lb_vm_map (rule_id, vm_id, vm_ip, revoke) VALUES (?, ?, ?, 0)
          ON CONFLICT (rule_id, vm_id) DO UPDATE SET revoke = 0, vm_ip = excluded.vm_ip`, rule.id, vm!.id, nic.ip_address);
      }
    });
  }

  /** removeFromLoadBalancerRule: the VMs are marked to leave; settling after the apply removes them. */
  removeFromLb(scope: Scope, ruleUuid: string, vmUuids: readonly string[]): void {
    this.ctx.tx(() => {
      const rule = this.rules.rowOf(scope, ruleUuid, 'LoadBalancing');
      for (const vmUuid of vmUuids) {
        const vm = this.ctx.one<{ id: number }>('SELECT id FROM vm_instance WHERE uuid = ?', vmUuid);
        const r = vm === undefined ? undefined : this.ctx.run('UPDATE lb_vm_map SET revoke = 1 WHERE rule_id = ? AND vm_id = ? AND revoke = 0', rule.id, vm.id);
        if (r === undefined || r.changes === 0) {
          throw new InvalidParameterError(`vm ${vmUuid} is not assigned to the load balancer rule ${ruleUuid}`);
        }
      }
    });
  }

  /** Undoes an assign (the rows go) or a remove (the members stay) whose apply failed. */
  undoMembers(ruleUuid: string, vmUuids: readonly string[], assigned: boolean): void {
    this.ctx.tx(() => {
      for (const vm of vmUuids) {
        const where = 'rule_id = (SELECT id FROM network_rule WHERE uuid = ?) AND vm_id = (SELECT id FROM vm_instance WHERE uuid = ?)';
        if (assigned) this.ctx.run(`DELETE FROM lb_vm_map WHERE revoke = 0 AND ${where}`, ruleUuid, vm);
        else this.ctx.run(`UPDATE lb_vm_map SET revoke = 0 WHERE ${where}`, ruleUuid, vm);
      }
    });
  }

  /** The VMs a load balancer rule balances over (listLoadBalancerRuleInstances). */
  lbMembers(scope: Scope, ruleUuid: string): string[] {
    const rule = this.rules.rowOf(scope, ruleUuid, 'LoadBalancing');
    return this.ctx.all<{ uuid: string }>(`SELECT v.uuid FROM lb_vm_map m JOIN vm_instance v ON v.id = m.vm_id
      WHERE m.rule_id = ? AND m.revoke = 0 AND v.removed IS NULL ORDER BY v.id`, rule.id).map((r) => r.uuid);
  }

  /** enableStaticNat's checks (RulesManagerImpl) and the change of the address. Returns the previous mapping's VM, if any. */
  enableStaticNat(scope: Scope, ipUuid: string, vmUuid: string, vmGuestIp?: string): PublicIpAddress['id'] {
    return this.ctx.tx(() => {
      const ip = this.ctx.one<{ id: number; account_id: number | null; domain_id: number | null; state: string; source_nat: number;
        static_nat: number; vm_id: number | null; network_id: number | null; address: string }>(
        'SELECT id, account_id, domain_id, state, source_nat, static_nat, vm_id, network_id, address FROM ip_address WHERE uuid = ?', ipUuid);
      assertVisible(this.ctx, scope, 'ip address', ipUuid, ip);
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number; name: string; state: string }>(
        'SELECT id, account_id, domain_id, name, state FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      assertVisible(this.ctx, scope, 'virtual machine', vmUuid, vm);
      const a = ip!;
      if (a.state !== 'Allocated') throw new InvalidParameterError(`ip address ${a.address} is ${a.state}, not Allocated`);
      if (a.source_nat === 1) throw new InvalidParameterError(`Can't enable static, ip address ${a.address} is a sourceNat ip address`);
      if (a.network_id === null) throw new InvalidParameterError(`ip address ${a.address} is not associated with any network`);
      if (vm!.account_id !== a.account_id) throw new InvalidParameterError(`vm ${vm!.name} and ip address ${a.address} belong to different accounts`);
      if (a.static_nat === 0) {
        for (const [purpose, label] of [['PortForwarding', 'PortForwarding'], ['LoadBalancing', 'LoadBalancing']] as const) {
          const n = this.ctx.one<{ n: number }>("SELECT count(*) AS n FROM network_rule WHERE ip_address_id = ? AND purpose = ? AND state <> 'Revoke'",
            a.id, purpose)!.n;
          if (n > 0) throw new NetworkRuleConflictError(`Failed to enable static nat for the ip address ${a.address} as it already has ${label} rules assigned`);
        }
      } else if (a.vm_id !== null && a.vm_id !== vm!.id) {
        throw new NetworkRuleConflictError(`Failed to enable static for the ip address ${a.address} and vm id=${vmUuid} as it's already assigned to antoher vm`);
      }
      const nic = this.ctx.one<{ ip_address: string | null }>('SELECT ip_address FROM nic WHERE vm_id = ? AND network_id = ? AND removed IS NULL',
        vm!.id, a.network_id);
      if (nic === undefined) throw new InvalidParameterError(`vm ${vm!.name} has no nic in the network of ip address ${a.address}`);
      const guest = vmGuestIp ?? nic.ip_address;
      if (guest === null) throw new InvalidParameterError(`vm ${vm!.name} has no guest address yet: start it before enabling static nat`);
      if (vmGuestIp !== undefined && vmGuestIp !== nic.ip_address) throw new InvalidParameterError(`Vm ip ${vmGuestIp} is not the guest address of vm ${vm!.name}`);
      const other = this.ctx.one<{ address: string }>('SELECT address FROM ip_address WHERE vm_id = ? AND static_nat = 1 AND id <> ? AND vm_ip = ?',
        vm!.id, a.id, guest);
      if (other !== undefined) {
        throw new NetworkRuleConflictError(`Failed to enable static nat on the ip ${a.address} as the vm ${vm!.name} is already associated with another public ip ${other.address}`);
      }
      this.ctx.run("UPDATE ip_address SET static_nat = 1, vm_id = ?, vm_ip = ?, purpose = 'StaticNat' WHERE id = ?", vm!.id, guest, a.id);
      return ipUuid;
    });
  }

  /** disableStaticNat: the address keeps its allocation, loses its mapping. */
  disableStaticNat(scope: Scope, ipUuid: string): void {
    this.ctx.tx(() => {
      const ip = this.ctx.one<{ id: number; account_id: number | null; domain_id: number | null; static_nat: number; address: string }>(
        'SELECT id, account_id, domain_id, static_nat, address FROM ip_address WHERE uuid = ?', ipUuid);
      assertVisible(this.ctx, scope, 'ip address', ipUuid, ip);
      if (ip!.static_nat === 0) throw new InvalidParameterError(`Specified IP address id is not associated with any vm Id: ${ip!.address} has no static nat`);
      this.ctx.run('UPDATE ip_address SET static_nat = 0, vm_id = NULL, vm_ip = NULL, purpose = NULL WHERE id = ?', ip!.id);
    });
  }

  private elementRule(r: RuleRow, set: RuleSet): ElementRule {
    const out: ElementRule = { id: r.uuid, protocol: r.protocol, cidrs: r.source_cidrs === null ? [] : r.source_cidrs.split(',') };
    if (r.start_port !== null) out.startport = r.start_port;
    if (r.end_port !== null) out.endport = r.end_port;
    if (r.icmp_type !== null) out.icmptype = r.icmp_type;
    if (r.icmp_code !== null) out.icmpcode = r.icmp_code;
    if (r.vm_ip !== null) out.destip = r.vm_ip;
    if (r.dest_start_port !== null) out.destport = r.dest_start_port;
    if (r.dest_end_port !== null) out.destendport = r.dest_end_port;
    if (r.algorithm !== null) {
      out.algorithm = r.algorithm;
      const members = this.ctx.all<{ uuid: string; vm_ip: string | null; revoke: number }>(`SELECT v.uuid, m.vm_ip, m.revoke FROM lb_vm_map m
        JOIN vm_instance v ON v.id = m.vm_id WHERE m.rule_id = ? ORDER BY v.id`, r.id);
      out.members = [];
      for (const m of members) {
        if (m.revoke === 1) set.token.members.push({ rule: r.uuid, vm: m.uuid });
        else if (m.vm_ip !== null) out.members.push({ vmid: m.uuid, ip: m.vm_ip });
      }
    }
    return out;
  }
}

function compactNet(n: { uuid: string; name: string; vlan: string | null; cidr: string | null; gateway: string | null; z: string }): RuleSet['network'] {
  const out: RuleSet['network'] = { id: n.uuid, name: n.name, zoneid: n.z };
  if (n.vlan !== null) out.vlan = n.vlan;
  if (n.cidr !== null) out.cidr = n.cidr;
  if (n.gateway !== null) out.gateway = n.gateway;
  return out;
}

export { SYSTEM };
