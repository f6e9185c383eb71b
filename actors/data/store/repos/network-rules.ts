import { InvalidParameterError, NetworkRuleConflictError, NotFoundError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { detectRulesConflict, type RulePurpose, type RuleShape } from '../rule-conflicts.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { getOwned } from './common.js';
import {
  RULE_COLUMNS, RULE_JOINS, TAG_TYPE, mapRule, type NetworkRuleView, type RuleRow, type TrafficType,
} from './network-rule-views.js';
import type { TagRepository } from './tags.js';
import { checkCidrs, checkPorts, checkProtocol } from './rule-input.js';

export type { NetworkRuleView, TrafficType } from './network-rule-views.js';

/** createFirewallRule / createEgressFirewallRule / createPortForwardingRule / createLoadBalancerRule, as the store takes them. */
export interface RuleInput {
  purpose: Exclude<RulePurpose, 'StaticNat'>;
  traffictype?: TrafficType;
  /** The public address (every purpose but egress firewall). */
  ipaddressid?: string;
  /** The network (egress firewall; port forwarding and load balancing may name it, it must be the address's). */
  networkid?: string;
  protocol: string;
  /** Public ports (firewall, port forwarding, load balancer public port). */
  startport?: number;
  endport?: number;
  icmptype?: number;
  icmpcode?: number;
  cidrlist?: readonly string[];
  destcidrlist?: readonly string[];
  /** Port forwarding: destination VM, its guest address and private ports; load balancing: private port. */
  virtualmachineid?: string;
  vmguestip?: string;
  privateport?: number;
  privateendport?: number;
  name?: string;
  description?: string;
  algorithm?: string;
  /** Port forwarding / load balancing: also open the public ports with a firewall rule tied to this one. */
  openfirewall?: boolean;
}

/**
 * Most live rules on one target (a public address, or a network's egress rules). The element is sent
 * the whole set of a target on every change, and a virtual router's ruleset is rebuilt from it, so the
 * set is kept to a size one apply handles quickly; no real deployment needs a thousand rules on one address.
 */
export const MAX_RULES_PER_TARGET = 1000;

/** Load balancing algorithms of the virtual router element. */
export const LB_ALGORITHMS = ['roundrobin', 'leastconn', 'source'] as const;

interface Target {
  ipId: number | null;
  networkId: number;
}

/**
 * Network rules on public addresses and egress rules on networks, with CloudStack's states: a new rule
 * is `Add` until the network element has applied it (`Active`); a deleted one is `Revoke` until the
 * element has applied the set without it, then it is removed. Conflicts are checked in the same
 * transaction as the insert, so two concurrent requests cannot both take a port range.
 */
export class NetworkRuleRepository {
  private readonly specs = new Map<string, ListSpec<RuleRow, NetworkRuleView>>();

  constructor(private readonly ctx: StoreContext, private readonly tags: TagRepository) {}

  /** One rule of `purpose` (and traffic type); NotFoundError names the kind the caller asked for. */
  get(scope: Scope, uuid: string, purpose?: RulePurpose, traffic?: TrafficType): NetworkRuleView {
    return this.find(scope, uuid, purpose, traffic).item;
  }

  list(scope: Scope, purpose: RulePurpose, traffic: TrafficType, params: ListParams = {}): ListResult<NetworkRuleView> {
    return listResources(this.ctx, this.spec(purpose, traffic), scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, purpose: RulePurpose, traffic: TrafficType, params: ListParams, window: ScanWindow = {}): ScanChunk<NetworkRuleView> {
    return scanResources(this.ctx, this.spec(purpose, traffic), scope, params, window);
  }

  create(scope: Scope, input: RuleInput): NetworkRuleView {
    return this.ctx.tx(() => {
      const traffic = input.traffictype ?? 'Ingress';
      const { target, owner } = this.resolveTarget(scope, input, traffic);
      this.checkRoom(target, traffic);
      const id = this.insert(input, traffic, target, owner, null);
      this.checkConflicts(id, target, traffic);
      if (input.openfirewall === true && input.purpose !== 'Firewall') {
        const fw = this.insert({ purpose: 'Firewall', protocol: input.protocol, startport: input.startport!,
          endport: input.endport ?? input.startport!, cidrlist: input.cidrlist ?? ['0.0.0.0/0'] }, 'Ingress', target, owner, id);
        this.checkConflicts(fw, target, 'Ingress');
      }
      return this.byId(id);
    });
  }

  /** Marks a rule (and the firewall rule opened with it) Revoke; the element applies the set without it next. */
  revoke(scope: Scope, uuid: string, purpose: RulePurpose, traffic: TrafficType = 'Ingress'): NetworkRuleView {
    return this.ctx.tx(() => {
      const found = this.find(scope, uuid, purpose, traffic);
      this.ctx.run("UPDATE network_rule SET state = 'Revoke' WHERE id = ? OR related_rule_id = ?", found.row._id, found.row._id);
      return this.byId(found.row._id);
    });
  }

  /** updateLoadBalancerRule: name, description, algorithm (the element gets the new set next). */
  updateLb(scope: Scope, uuid: string, patch: { name?: string; description?: string; algorithm?: string }): NetworkRuleView {
    return this.ctx.tx(() => {
      const found = this.find(scope, uuid, 'LoadBalancing');
      const algo = patch.algorithm?.toLowerCase();
      if (algo !== undefined && !(LB_ALGORITHMS as readonly string[]).includes(algo)) {
        throw new InvalidParameterError(`Invalid load balancing algorithm ${patch.algorithm ?? ''}; use one of ${LB_ALGORITHMS.join(', ')}`);
      }
      if (patch.name !== undefined && patch.name.trim() === '') throw new InvalidParameterError('a load balancer rule needs a name');
      this.ctx.run(`UPDATE network_rule SET name = COALESCE(?, name), description = COALESCE(?, description),
        algorithm = COALESCE(?, algorithm) WHERE id = ?`, patch.name ?? null, patch.description ?? null, algo ?? null, found.row._id);
      return this.byId(found.row._id);
    });
  }

  /** Deletes a rule that could not be applied (and what was opened with it). */
  discard(uuid: string): void {
    this.ctx.tx(() => {
      const row = this.ctx.one<{ id: number }>('SELECT id FROM network_rule WHERE uuid = ?', uuid);
      if (row !== undefined) this.removeRows([row.id]);
    });
  }

  /** Removes every rule of a public address (it is being released). Returns the networks whose sets changed. */
  purgeIp(ipUuid: string): void {
    this.ctx.tx(() => {
      const ip = this.ctx.one<{ id: number }>('SELECT id FROM ip_address WHERE uuid = ?', ipUuid);
      if (ip === undefined) return;
      const ids = this.ctx.all<{ id: number }>('SELECT id FROM network_rule WHERE ip_address_id = ?', ip.id).map((r) => r.id);
      this.removeRows(ids);
    });
  }

  /** A VM is expunged: its port forwarding rules go, it leaves every load balancer. @internal store transactions only. */
  purgeVm(vmId: number): void {
    const ids = this.ctx.all<{ id: number }>("SELECT id FROM network_rule WHERE vm_id = ? AND purpose = 'PortForwarding'", vmId).map((r) => r.id);
    this.removeRows(ids);
    this.ctx.run('DELETE FROM lb_vm_map WHERE vm_id = ?', vmId);
  }

  /** @internal The store's internal key and target of a rule, for the element and membership code. */
  rowOf(scope: Scope, uuid: string, purpose?: RulePurpose): { id: number; target: Target; accountId: number } {
    const found = this.find(scope, uuid, purpose);
    const r = this.ctx.one<{ ip_address_id: number | null; network_id: number; account_id: number }>(
      'SELECT ip_address_id, network_id, account_id FROM network_rule WHERE id = ?', found.row._id)!;
    return { id: found.row._id, target: { ipId: r.ip_address_id, networkId: r.network_id }, accountId: r.account_id };
  }

  /** Rows of `ids` as they are now. @internal */
  byIds(ids: readonly number[]): NetworkRuleView[] {
    if (ids.length === 0) return [];
    const rows = this.ctx.rows<RuleRow>(`SELECT ${RULE_COLUMNS} FROM network_rule t ${RULE_JOINS}
      WHERE t.id IN (SELECT value FROM json_each(?)) ORDER BY t.id`, JSON.stringify(ids));
    return rows.map(mapRule);
  }

  /** Deletes rules, their tags and load balancer memberships, and the firewall rules opened with them. @internal */
  removeRows(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const json = JSON.stringify(ids);
    const all = this.ctx.all<{ id: number; purpose: RulePurpose }>(`SELECT id, purpose FROM network_rule
      WHERE id IN (SELECT value FROM json_each(?)) OR related_rule_id IN (SELECT value FROM json_each(?))`, json, json);
    for (const r of all) this.tags.purge(TAG_TYPE[r.purpose], r.id);
    const allJson = JSON.stringify(all.map((r) => r.id));
    this.ctx.run('DELETE FROM lb_vm_map WHERE rule_id IN (SELECT value FROM json_each(?))', allJson);
    this.ctx.run('UPDATE network_rule SET related_rule_id = NULL WHERE related_rule_id IN (SELECT value FROM json_each(?))', allJson);
    this.ctx.run('DELETE FROM network_rule WHERE id IN (SELECT value FROM json_each(?))', allJson);
  }

  private find(scope: Scope, uuid: string, purpose?: RulePurpose, traffic?: TrafficType): { row: RuleRow; item: NetworkRuleView } {
    const what = purpose === undefined ? 'network rule' : { Firewall: 'firewall rule', PortForwarding: 'port forwarding rule',
      LoadBalancing: 'load balancer rule', StaticNat: 'static nat rule' }[purpose];
    const spec = this.spec(purpose ?? 'Firewall', traffic ?? 'Ingress');
    const cond = purpose === undefined ? '1' : `t.purpose = '${purpose}'${traffic === undefined ? '' : ` AND t.traffic_type = '${traffic}'`}`;
    return getOwned(this.ctx, spec, scope, traffic === 'Egress' ? 'egress firewall rule' : what, uuid, cond);
  }

  private byId(id: number): NetworkRuleView {
    return this.byIds([id])[0]!;
  }

  private spec(purpose: RulePurpose, traffic: TrafficType): ListSpec<RuleRow, NetworkRuleView> {
    const key = `${purpose}/${traffic}`;
    let spec = this.specs.get(key);
    if (spec === undefined) {
      spec = {
        table: 'network_rule',
        columns: RULE_COLUMNS,
        joins: RULE_JOINS,
        scope: 'owned',
        where: `t.purpose = '${purpose}' AND t.traffic_type = '${traffic}'`,
        filters: {
          ipaddressid: { ref: 'ip_address', column: 'ip_address_id' }, publicipid: { ref: 'ip_address', column: 'ip_address_id' },
          networkid: { ref: 'network', column: 'network_id' }, virtualmachineid: { ref: 'vm_instance', column: 'vm_id' },
          name: { eq: 'name' },
        },
        keyword: ['name'],
        map: mapRule,
        attach: (_c, rows, items) => this.tags.attach(TAG_TYPE[purpose], rows.map((r) => r._id), items),
      };
      this.specs.set(key, spec);
    }
    return spec;
  }

  private resolveTarget(scope: Scope, input: RuleInput, traffic: TrafficType): { target: Target; owner: { accountId: number; domainId: number } } {
    if (traffic === 'Egress') {
      if (input.networkid === undefined) throw new InvalidParameterError('Unable to execute API command createegressfirewallrule due to missing parameter networkid');
      const net = this.ctx.one<{ id: number; account_id: number; domain_id: number; guest_type: string }>(
        'SELECT id, account_id, domain_id, guest_type FROM network WHERE uuid = ? AND removed IS NULL', input.networkid);
      assertVisible(this.ctx, scope, 'network', input.networkid, net);
      if (net!.guest_type !== 'Isolated') throw new InvalidParameterError('Egress firewall rules are supported on isolated guest networks only');
      return { target: { ipId: null, networkId: net!.id }, owner: { accountId: net!.account_id, domainId: net!.domain_id } };
    }
    if (input.ipaddressid === undefined) throw new InvalidParameterError('Unable to execute API command: missing parameter ipaddressid');
    const ip = this.ctx.one<{ id: number; account_id: number | null; domain_id: number | null; network_id: number | null; state: string;
      static_nat: number; source_nat: number; address: string }>(
      'SELECT id, account_id, domain_id, network_id, state, static_nat, source_nat, address FROM ip_address WHERE uuid = ?', input.ipaddressid);
    assertVisible(this.ctx, scope, 'ip address', input.ipaddressid, ip);
    if (ip!.state !== 'Allocated' || ip!.account_id === null || ip!.domain_id === null) {
      throw new InvalidParameterError(`Unable to create the rule: ip address ${ip!.address} is ${ip!.state}, not Allocated`);
    }
    if (ip!.network_id === null) {
      throw new InvalidParameterError('Unable to create firewall rule ; ip with specified id is not associated with any network');
    }
    if (input.networkid !== undefined && this.ctx.idOf('network', input.networkid) !== ip!.network_id) {
      throw new InvalidParameterError(`ip address ${ip!.address} is not associated with network ${input.networkid}`);
    }
    if (ip!.static_nat === 1 && input.purpose !== 'Firewall') {
      const what = input.purpose === 'PortForwarding' ? 'portforwarding' : 'load balancer rule';
      throw new NetworkRuleConflictError(`Can't do ${what} on the address ${ip!.address} as it's already assigned for static nat`);
    }
    return { target: { ipId: ip!.id, networkId: ip!.network_id }, owner: { accountId: ip!.account_id, domainId: ip!.domain_id } };
  }

  private insert(input: RuleInput, traffic: TrafficType, target: Target, owner: { accountId: number; domainId: number },
    relatedTo: number | null): number {
    const protocol = checkProtocol(input.purpose, traffic, input.protocol);
    const ports = checkPorts(input, protocol);
    const cidrs = input.cidrlist ?? (traffic === 'Egress' ? this.networkCidr(target.networkId) : ['0.0.0.0/0']);
    checkCidrs(cidrs, 'cidrlist');
    if (input.destcidrlist !== undefined) checkCidrs(input.destcidrlist, 'destcidrlist');
    const vm = input.purpose === 'PortForwarding' ? this.forwardTarget(input, target) : null;
    if (input.purpose === 'LoadBalancing') this.checkLb(input, target);
    const uuid = this.ctx.uuid();
    const r = this.ctx.run(`INSERT INTO network_rule (uuid, purpose, traffic_type, state, ip_address_id, network_id, account_id,
      domain_id, protocol, start_port, end_port, icmp_type, icmp_code, source_cidrs, dest_cidrs, vm_id, vm_ip, dest_start_port,
      dest_end_port, name, description, algorithm, related_rule_id, created) VALUES (?, ?, ?, 'Add', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    uuid, input.purpose, traffic, target.ipId, target.networkId, owner.accountId, owner.domainId, protocol, ports.start, ports.end,
    ports.icmpType, ports.icmpCode, cidrs.join(','), input.destcidrlist?.join(',') ?? null, vm?.id ?? null, vm?.ip ?? null,
    ports.privateStart, ports.privateEnd, input.name ?? null, input.description ?? null,
    input.purpose === 'LoadBalancing' ? input.algorithm!.toLowerCase() : null, relatedTo, this.ctx.now());
    return Number(r.lastInsertRowid);
  }

  private checkRoom(target: Target, traffic: TrafficType): void {
    const n = target.ipId === null
      ? this.ctx.one<{ n: number }>("SELECT count(*) AS n FROM network_rule WHERE network_id = ? AND ip_address_id IS NULL AND traffic_type = ?",
        target.networkId, traffic)!.n
      : this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM network_rule WHERE ip_address_id = ?', target.ipId)!.n;
    if (n >= MAX_RULES_PER_TARGET) {
      throw new InvalidParameterError(`the address (or network) already has ${n} rules, the most one target may hold (${MAX_RULES_PER_TARGET}); delete some first`);
    }
  }

  private networkCidr(networkId: number): string[] {
    const cidr = this.ctx.one<{ cidr: string | null }>('SELECT cidr FROM network WHERE id = ?', networkId)?.cidr;
    return cidr === null || cidr === undefined ? ['0.0.0.0/0'] : [cidr];
  }

  /** The VM a port forwarding rule sends to: it must have a NIC with an address on the rule's network. */
  private forwardTarget(input: RuleInput, target: Target): { id: number; ip: string } {
    if (input.virtualmachineid === undefined) throw new InvalidParameterError('Unable to execute API command createportforwardingrule due to missing parameter virtualmachineid');
    const vm = this.ctx.one<{ id: number; account_id: number; state: string; name: string }>(
      'SELECT id, account_id, state, name FROM vm_instance WHERE uuid = ? AND removed IS NULL', input.virtualmachineid);
    const ipOwner = this.ctx.one<{ account_id: number }>('SELECT account_id FROM ip_address WHERE id = ?', target.ipId)!;
    if (vm === undefined || vm.account_id !== ipOwner.account_id) {
      throw new InvalidParameterError(`Unable to find virtual machine with id ${input.virtualmachineid} in the account of the ip address`);
    }
    if (vm.state === 'Destroyed' || vm.state === 'Expunging' || vm.state === 'Error') {
      throw new InvalidParameterError(`Invalid user vm: ${vm.name} is ${vm.state}`);
    }
    const nic = this.ctx.one<{ ip_address: string | null }>('SELECT ip_address FROM nic WHERE vm_id = ? AND network_id = ? AND removed IS NULL',
      vm.id, target.networkId);
    if (nic === undefined) throw new InvalidParameterError(`Unable to find a nic of vm ${vm.name} in the network of the ip address`);
    const ip = input.vmguestip ?? nic.ip_address;
    if (ip === null || ip === undefined) {
      throw new InvalidParameterError(`vm ${vm.name} has no guest address on the network yet: start it before forwarding ports to it`);
    }
    if (input.vmguestip !== undefined && input.vmguestip !== nic.ip_address) {
      throw new InvalidParameterError(`Vm ip ${input.vmguestip} is not the guest address of vm ${vm.name} on the network`);
    }
    return { id: vm.id, ip };
  }

  private checkLb(input: RuleInput, target: Target): void {
    if (input.name === undefined || input.name.trim() === '') throw new InvalidParameterError('a load balancer rule needs a name');
    const algo = input.algorithm?.toLowerCase();
    if (algo === undefined || !(LB_ALGORITHMS as readonly string[]).includes(algo)) {
      throw new InvalidParameterError(`Invalid load balancing algorithm ${input.algorithm ?? ''}; use one of ${LB_ALGORITHMS.join(', ')}`);
    }
    const dup = this.ctx.one<{ id: number }>("SELECT id FROM network_rule WHERE purpose = 'LoadBalancing' AND network_id = ? AND name = ?",
      target.networkId, input.name);
    if (dup !== undefined) throw new NetworkRuleConflictError(`A load balancer rule with name ${input.name} already exists in the network`);
  }

  /**
   * The rules that could conflict with the new one are fetched by SQL (another network, an ICMP rule
   * against an ICMP rule, or overlapping ports: with static NAT kept on the address, nothing else can
   * conflict), so the check costs the candidates, not every rule on the address.
   */
  private checkConflicts(id: number, target: Target, traffic: TrafficType): void {
    const cols = 'uuid, purpose, protocol, network_id, start_port, end_port, icmp_type, icmp_code, source_cidrs, id';
    const mine = this.ctx.one<ConflictRow>(`SELECT ${cols} FROM network_rule WHERE id = ?`, id);
    if (mine === undefined) throw new NotFoundError('the new rule vanished during its conflict check; retry');
    const candidates = `AND id <> ? AND (network_id <> ? OR (protocol = 'icmp' AND ? = 'icmp')
      OR (start_port IS NOT NULL AND start_port <= ? AND end_port >= ?))`;
    const args = [id, mine.network_id, mine.protocol, mine.end_port ?? -1, mine.start_port ?? 65536];
    const rows = target.ipId === null
      ? this.ctx.rows<ConflictRow>(`SELECT ${cols} FROM network_rule WHERE network_id = ? AND purpose = 'Firewall' AND traffic_type = ?
          AND state <> 'Revoke' ${candidates}`, target.networkId, traffic, ...args)
      : this.ctx.rows<ConflictRow>(`SELECT ${cols} FROM network_rule WHERE ip_address_id = ? AND state <> 'Revoke' ${candidates}`,
        target.ipId, ...args);
    if (rows.length === 0) return;
    const where = target.ipId === null ? '' : this.ctx.one<{ address: string }>('SELECT address FROM ip_address WHERE id = ?', target.ipId)!.address;
    detectRulesConflict(shape(mine), rows.map(shape), where);
  }
}

interface ConflictRow {
  id: number;
  uuid: string;
  purpose: RulePurpose;
  protocol: string;
  network_id: number;
  start_port: number | null;
  end_port: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  source_cidrs: string | null;
}

function shape(r: ConflictRow): RuleShape {
  return { id: r.uuid, purpose: r.purpose, protocol: r.protocol, networkId: r.network_id, startPort: r.start_port, endPort: r.end_port,
    icmpType: r.icmp_type, icmpCode: r.icmp_code, cidrs: r.source_cidrs === null ? null : r.source_cidrs.split(',') };
}

export { SYSTEM };
