/**
 * Firewall, egress, port forwarding, load balancer rules and static NAT on a real lab: rules reach the
 * network element (the simulator's record), conflicts are refused as CloudStack refuses them, users
 * see only their own rules, and lists page.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import type { CsApi, Json } from '../../../helpers/cs-api.js';
import { type ClientLab, deploy, fails, list, ok, publicIp, startClientLab, tenant, type Tenant } from './client-fixture.js';
import type { LabClient } from './lab-client.js';

describe('api/commands: network rules', function () {
  this.timeout(60_000);
  let lab: Lab;
  let admin: CsApi;
  let client: LabClient;
  let cl: ClientLab;
  let a: Tenant;
  let b: Tenant;

  before(async () => {
    cl = await startClientLab();
    ({ lab, admin, client } = cl);
    a = await tenant(lab, client);
    b = await tenant(lab, client);
  });

  after(async () => {
    admin.close();
    a.api.close();
    b.api.close();
    await lab.stop();
  });

  it('creates, lists and deletes firewall rules; overlapping ports with a shared CIDR are one rule too many', async () => {
    const ip = await publicIp(a.api, a.networkId);
    const fw = await ok(a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'TCP', startport: 22, endport: 22, cidrlist: '10.0.0.0/8' });
    expect(fw['firewallrule']).to.include({ protocol: 'tcp', startport: 22, endport: 22, cidrlist: '10.0.0.0/8', state: 'Active', ipaddressid: ip });
    expect((fw['firewallrule'] as Json)['tags']).to.deep.equal([]);
    // A disjoint CIDR may open the same port; an ICMP rule twice is refused (431).
    await ok(a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 22, cidrlist: '192.168.0.0/16' });
    await ok(a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'icmp', icmptype: 8, icmpcode: 0 });
    await fails(431, a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'icmp', icmptype: 8, icmpcode: 0 });
    await fails(537, a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 20, endport: 30, cidrlist: '10.1.0.0/16,10.0.0.0/8' });
    await fails(431, a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 30, endport: 20 });
    await fails(431, a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'gre', startport: 1 });
    await fails(431, a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 70000 });
    await fails(431, a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 80, cidrlist: 'nonsense' });
    const rules = await list(a.api, 'listFirewallRules', 'firewallrule', { ipaddressid: ip });
    expect(rules).to.have.length(3);
    const page = await a.api.call('listFirewallRules', { ipaddressid: ip, page: 2, pagesize: 2 });
    expect(page['count']).to.equal(3);
    expect(page['firewallrule']).to.have.length(1);
    // Another account sees none of them and cannot delete them.
    expect(await list(b.api, 'listFirewallRules', 'firewallrule', { listall: true })).to.deep.equal([]);
    await fails(431, b.api, 'deleteFirewallRule', { id: String(rules[0]!['id']) });
    await fails(431, b.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 80 });
    const element = (await elementState(a.networkId)).sets[`Firewall/Ingress/${ip}`]!;
    expect(element.rules.map((r) => r.id)).to.have.members(rules.map((r) => r['id']));
    await ok(a.api, 'deleteFirewallRule', { id: String(rules[0]!['id']) });
    expect(await list(a.api, 'listFirewallRules', 'firewallrule', { ipaddressid: ip })).to.have.length(2);
    expect((await elementState(a.networkId)).sets[`Firewall/Ingress/${ip}`]!.rules).to.have.length(2);
  });

  it('forwards ports to a VM, refuses overlapping ranges of one protocol, and opens the firewall with the rule', async () => {
    const ip = await publicIp(a.api, a.networkId);
    const pf = (await ok(a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'tcp', publicport: 8080, publicendport: 8081,
      privateport: 80, privateendport: 81, virtualmachineid: a.vmId }))['portforwardingrule'] as Json;
    expect(pf).to.include({ publicport: '8080', publicendport: '8081', privateport: '80', privateendport: '81', virtualmachineid: a.vmId,
      vmguestip: a.vmIp, state: 'Active', protocol: 'tcp', ipaddressid: ip, networkid: a.networkId });
    expect(await list(a.api, 'listFirewallRules', 'firewallrule', { ipaddressid: ip })).to.have.length(1);
    await fails(537, a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'tcp', publicport: 8081, privateport: 22, virtualmachineid: a.vmId });
    await ok(a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'udp', publicport: 8081, privateport: 22, virtualmachineid: a.vmId,
      openfirewall: false });
    await fails(431, a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'tcp', publicport: 1, publicendport: 3, privateport: 1,
      privateendport: 2, virtualmachineid: a.vmId });
    await fails(431, a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'tcp', publicport: 9000, privateport: 22, virtualmachineid: b.vmId });
    // Static NAT on an address with port forwarding is a conflict.
    await fails(537, a.api, 'enableStaticNat', { ipaddressid: ip, virtualmachineid: a.vmId });
    const set = (await elementState(a.networkId)).sets[`PortForwarding/Ingress/${ip}`]!;
    expect(set.rules.find((r) => r.id === pf['id'])).to.include({ destip: a.vmIp, destport: 80, destendport: 81, startport: 8080 });
    const nics = await list(a.api, 'listNics', 'nic', { virtualmachineid: a.vmId });
    expect(nics[0]).to.include({ isdefault: true, ipaddress: a.vmIp, networkid: a.networkId });
    await fails(431, b.api, 'listNics', { virtualmachineid: a.vmId });
    await ok(a.api, 'deletePortForwardingRule', { id: String(pf['id']) });
    // Its firewall rule went with it.
    expect(await list(a.api, 'listFirewallRules', 'firewallrule', { ipaddressid: ip })).to.deep.equal([]);
    expect(await list(a.api, 'listPortForwardingRules', 'portforwardingrule', { ipaddressid: ip })).to.have.length(1);
    await fails(431, a.api, 'deleteFirewallRule', { id: String(pf['id']) });
  });

  it('maps static NAT one to one and refuses port forwarding on it; releasing the address drops its rules', async () => {
    const ip = await publicIp(a.api, a.networkId);
    await a.api.call('enableStaticNat', { ipaddressid: ip, virtualmachineid: a.vmId });
    const listed = (await list(a.api, 'listPublicIpAddresses', 'publicipaddress', { id: ip }))[0]!;
    expect(listed).to.include({ isstaticnat: true, virtualmachineid: a.vmId, vmipaddress: a.vmIp });
    await fails(537, a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'tcp', publicport: 22, privateport: 22, virtualmachineid: a.vmId });
    const other = await publicIp(a.api, a.networkId);
    await fails(537, a.api, 'enableStaticNat', { ipaddressid: other, virtualmachineid: a.vmId });
    expect((await elementState(a.networkId)).sets[`StaticNat/Ingress/${ip}`]!.staticnat).to.deep.equal({ vmid: a.vmId, vmip: a.vmIp });
    await ok(a.api, 'createFirewallRule', { ipaddressid: ip, protocol: 'tcp', startport: 22 });
    await ok(a.api, 'disableStaticNat', { ipaddressid: ip });
    expect((await elementState(a.networkId)).sets[`StaticNat/Ingress/${ip}`]!.staticnat).to.equal(undefined);
    await fails(431, a.api, 'disableStaticNat', { ipaddressid: ip });
    await ok(a.api, 'disassociateIpAddress', { id: ip });
    expect(await list(a.api, 'listFirewallRules', 'firewallrule', { ipaddressid: ip })).to.deep.equal([]);
    expect((await elementState(a.networkId)).sets[`Firewall/Ingress/${ip}`]!.rules).to.deep.equal([]);
  });

  it('balances over assigned VMs, keeps members per rule, and undoes a rule the element refuses', async () => {
    const vm2 = await deploy(lab, a.api, a.networkId, 'web-2');
    const ip = await publicIp(a.api, a.networkId);
    const lb = (await ok(a.api, 'createLoadBalancerRule', { publicipid: ip, name: 'web', algorithm: 'roundrobin', publicport: 80,
      privateport: 8080 }))['loadbalancer'] as Json;
    expect(lb).to.include({ name: 'web', algorithm: 'roundrobin', publicport: '80', privateport: '8080', publicipid: ip, state: 'Active' });
    await fails(537, a.api, 'createLoadBalancerRule', { publicipid: ip, name: 'web2', algorithm: 'source', publicport: 80, privateport: 80 });
    await fails(431, a.api, 'createLoadBalancerRule', { publicipid: ip, name: 'bad', algorithm: 'random', publicport: 81, privateport: 80 });
    await ok(a.api, 'assignToLoadBalancerRule', { id: String(lb['id']), virtualmachineids: `${a.vmId},${String(vm2['id'])}` });
    expect((await list(a.api, 'listLoadBalancerRuleInstances', 'loadbalancerruleinstance', { id: String(lb['id']) })).map((v) => v['id']))
      .to.have.members([a.vmId, vm2['id']]);
    await fails(431, a.api, 'assignToLoadBalancerRule', { id: String(lb['id']), virtualmachineids: b.vmId });
    await ok(a.api, 'removeFromLoadBalancerRule', { id: String(lb['id']), virtualmachineids: a.vmId });
    const set = (await elementState(a.networkId)).sets[`LoadBalancing/Ingress/${ip}`]!;
    expect(set.rules[0]!.members).to.deep.equal([{ vmid: vm2['id'], ip: ((vm2['nic'] as Json[])[0]!)['ipaddress'] }]);
    await ok(a.api, 'updateLoadBalancerRule', { id: String(lb['id']), algorithm: 'leastconn' });
    expect((await list(a.api, 'listLoadBalancerRules', 'loadbalancerrule', { publicipid: ip }))[0]).to.include({ algorithm: 'leastconn' });
    // The element refuses the next load balancer change: the new rule is gone again, the old one stays.
    await admin.call('configureSimulator', { name: 'LoadBalancerConfigCommand', value: 'result:fail', count: 1 });
    const text = await fails(534, a.api, 'createLoadBalancerRule', { publicipid: ip, name: 'ssh', algorithm: 'source', publicport: 22, privateport: 22 });
    expect(text).to.match(/.+/);
    expect((await list(a.api, 'listLoadBalancerRules', 'loadbalancerrule', { publicipid: ip })).map((r) => r['name'])).to.deep.equal(['web']);
    await ok(a.api, 'deleteLoadBalancerRule', { id: String(lb['id']) });
    expect(await list(a.api, 'listLoadBalancerRules', 'loadbalancerrule', { publicipid: ip })).to.deep.equal([]);
  });

  it('keeps egress rules per network, defaulting their source to the network CIDR', async () => {
    const eg = (await ok(a.api, 'createEgressFirewallRule', { networkid: a.networkId, protocol: 'all' }))['firewallrule'] as Json;
    expect(eg).to.include({ protocol: 'all', traffictype: 'Egress', networkid: a.networkId, state: 'Active' });
    await ok(a.api, 'createEgressFirewallRule', { networkid: a.networkId, protocol: 'tcp', startport: 443, cidrlist: '10.0.0.0/8' });
    await fails(537, a.api, 'createEgressFirewallRule', { networkid: a.networkId, protocol: 'tcp', startport: 400, endport: 500, cidrlist: '10.0.0.0/8' });
    expect(await list(a.api, 'listEgressFirewallRules', 'firewallrule', { networkid: a.networkId })).to.have.length(2);
    expect((await list(a.api, 'listFirewallRules', 'firewallrule', { networkid: a.networkId })).filter((r) => r['traffictype'] === 'Egress')).to.deep.equal([]);
    await fails(431, b.api, 'createEgressFirewallRule', { networkid: a.networkId, protocol: 'all' });
    await fails(431, a.api, 'deleteFirewallRule', { id: String(eg['id']) });
    await ok(a.api, 'deleteEgressFirewallRule', { id: String(eg['id']) });
    expect((await elementState(a.networkId)).sets['Firewall/Egress/']!.rules).to.have.length(1);
  });

  async function elementState(networkid: string): Promise<{ sets: Record<string, { rules: { id: string; members?: unknown[]; [k: string]: unknown }[];
    staticnat?: unknown }> }> {
    return (await cl.elementState(networkid)) as never;
  }
});
