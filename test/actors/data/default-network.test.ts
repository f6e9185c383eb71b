/**
 * The store's choice of network for a VM created without networkids in the zone kinds the lab does not
 * seed: a Basic zone (its one shared guest network) and an Advanced zone with security groups (a network
 * with the SecurityGroup service). The Advanced zone path is exercised end to end in
 * test/lifecycle/default-network.test.ts.
 */
import { expect } from 'chai';
import { InvalidParameterError } from '../../../src/errors.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { memoryLab, type Lab } from './fixtures.js';

describe('data store: the default network of a deploy without networkids', () => {
  let t: Lab;
  beforeEach(() => { t = memoryLab(); });
  afterEach(() => t.store.close());

  /** An enabled zone of this kind where the lab's offerings apply and a template is ready. */
  function zone(networktype: 'Basic' | 'Advanced', securitygroupenabled: boolean): { zoneid: string; templateid: string } {
    const z = t.store.zones.create({ name: `${networktype}-${String(securitygroupenabled)}`, networktype, securitygroupenabled,
      dns1: '8.8.8.8', internaldns1: '10.0.0.2', allocationstate: 'Enabled' });
    const system = t.store.accounts.findByName(t.store.domains.root().id, 'system')!;
    const tpl = t.store.templates.register(SYSTEM, { name: `tpl-${z.name}`, displaytext: 'tpl', format: 'VHD', hypervisor: 'Simulator',
      ostypeid: t.lab.ostypeids[0]!, url: 'http://example.com/t.vhd', accountid: system.id, ispublic: true, size: 1024 ** 3,
      isready: true, zoneids: [z.id] })[0]!;
    return { zoneid: z.id, templateid: tpl.id };
  }

  function shared(zoneid: string, name: string, offeringid = t.lab.sharedNetworkOfferingId): string {
    return t.store.networks.create(t.admin, { name, zoneid, networkofferingid: offeringid, gateway: '192.168.7.1',
      netmask: '255.255.255.0', startip: '192.168.7.10', endip: '192.168.7.20', vlan: '700', acltype: 'Domain' }).id;
  }

  const create = (z: { zoneid: string; templateid: string }, name: string) => t.store.vmOps.create(t.admin, { name, zoneid: z.zoneid,
    templateid: z.templateid, serviceofferingid: t.lab.serviceofferings.small });

  it("Basic zone: the zone's one shared guest network; none or several are refused with CloudStack's texts", () => {
    const z = zone('Basic', false);
    expect(() => create(z, 'b0')).to.throw(InvalidParameterError,
      `Unable to find network with trafficType Guest and guestType Shared in zone ${z.zoneid}`);
    const net = shared(z.zoneid, 'basic-guest');
    expect(create(z, 'b1').nic.map((n) => n.networkid)).to.deep.equal([net]);
    shared(z.zoneid, 'second-guest');
    expect(() => create(z, 'b2')).to.throw(InvalidParameterError,
      `Found more than 1 network with trafficType Guest and guestType Shared in zone ${z.zoneid}`);
    expect(t.store.networks.list(t.admin, { zoneid: z.zoneid }).items.map((n) => n.name).sort()).to.deep.equal(['basic-guest', 'second-guest']);
  });

  it('Advanced zone with security groups: a network with the SecurityGroup service, never a new isolated one', () => {
    const z = zone('Advanced', true);
    shared(z.zoneid, 'no-sg');
    expect(() => create(z, 's0')).to.throw(InvalidParameterError, `No network with security enabled is found in zone id=${z.zoneid}`);
    const sgOffering = t.store.offerings.createNetwork({ name: 'SharedWithSG', guestiptype: 'Shared', specifyvlan: true, specifyipranges: true,
      service: ['Dhcp', 'Dns', 'UserData', 'SecurityGroup'].map((name) => ({ name, provider: [{ name: 'VirtualRouter' }] })) });
    const sg = shared(z.zoneid, 'with-sg', sgOffering.id);
    expect(create(z, 's1').nic.map((n) => n.networkid)).to.deep.equal([sg]);
    expect(t.store.networks.list(t.admin, { zoneid: z.zoneid, type: 'Isolated' }).count).to.equal(0);
  });

  it('creates no default network for a deploy refused for another reason, and one named after the account otherwise', () => {
    const bob = t.store.accounts.create(SYSTEM, { username: 'bob', password: 'pw', accounttype: 0, domainid: t.lab.domainid });
    const caller = t.store.users.callerFor(bob.user[0]!.id);
    expect(() => t.store.vmOps.create(caller, { zoneid: t.lab.zoneid, templateid: t.lab.templateid,
      serviceofferingid: t.lab.serviceofferings.small, keypair: 'missing' })).to.throw(InvalidParameterError, /key pair/);
    expect(t.store.networks.list(caller, {}).count).to.equal(0);
    const vm = t.store.vmOps.create(caller, { zoneid: t.lab.zoneid, templateid: t.lab.templateid, serviceofferingid: t.lab.serviceofferings.small });
    expect(vm.nic.map((n) => n.networkname)).to.deep.equal(['bob-network']);
    expect(t.store.events.list(SYSTEM, { type: 'NETWORK.CREATE' }).items.map((e) => e.description)).to.include('created network bob-network');
  });
});
