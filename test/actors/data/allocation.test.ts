import { expect } from 'chai';
import {
  ConflictError, InsufficientCapacityError, InvalidParameterError, ResourceUnavailableError,
} from '../../../src/errors.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { account, memoryLab, type Lab } from './fixtures.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

describe('data store: allocation', () => {
  let t: Lab;
  let net: string;
  beforeEach(() => {
    t = memoryLab({ publicStartIp: '172.16.0.10', publicEndIp: '172.16.0.13', vlanStart: 10, vlanEnd: 12 });
    net = t.store.networks.create(t.admin, { name: 'n', zoneid: t.lab.zoneid, networkofferingid: t.lab.networkofferingid,
      gateway: '10.3.0.1', netmask: '255.255.255.248' }).id;
  });
  afterEach(() => t.store.close());

  const newVm = (name: string, offering = t.lab.serviceofferings.small): string => t.store.vmOps.create(t.admin, {
    zoneid: t.lab.zoneid, serviceofferingid: offering, templateid: t.lab.templateid, networkids: [net], name }).id;

  describe('host capacity', () => {
    it('reserves up to the host memory and no further; release is exact and idempotent', () => {
      const host = t.lab.hostids[0]!;
      const vms = Array.from({ length: 17 }, (_, i) => newVm(`m-${i}`));
      for (const v of vms.slice(0, 16)) t.store.allocation.reserveHost(v, host);
      expect(() => t.store.allocation.reserveHost(vms[16]!, host)).to.throw(InsufficientCapacityError);
      expect(t.store.hosts.get(host).memoryallocated).to.equal(8 * GIB);
      // Reserving again for a VM that already holds the host changes nothing.
      t.store.allocation.reserveHost(vms[0]!, host);
      expect(t.store.hosts.get(host).memoryallocated).to.equal(8 * GIB);
      expect(t.store.allocation.releaseHost(vms[0]!)).to.equal(1);
      expect(t.store.allocation.releaseHost(vms[0]!)).to.equal(0);
      expect(t.store.hosts.get(host).memoryallocated).to.equal(8 * GIB - 512 * MIB);
      t.store.allocation.reserveHost(vms[16]!, host);
    });

    it('applies the over-provisioning factors', () => {
      t.store.config.set('mem.overprovisioning.factor', '2');
      const host = t.lab.hostids[0]!;
      const vms = Array.from({ length: 33 }, (_, i) => newVm(`o-${i}`));
      for (const v of vms.slice(0, 32)) t.store.allocation.reserveHost(v, host);
      expect(() => t.store.allocation.reserveHost(vms[32]!, host)).to.throw(InsufficientCapacityError);
      expect(t.store.hosts.get(host)).to.include({ memoryallocated: 16 * GIB, memorywithoverprovisioning: String(16 * GIB) });
    });

    it('refuses a host that is not Up and Enabled, and lists only hosts with room', () => {
      const [h1, h2] = [t.lab.hostids[0]!, t.lab.hostids[1]!];
      t.store.hosts.transition(h1, 'PingTimeout');
      expect(() => t.store.allocation.reserveHost(newVm('x'), h1)).to.throw(ResourceUnavailableError);
      const need = { zoneid: t.lab.zoneid, cpu: 500, memory: 512 * MIB };
      expect(t.store.allocation.hostsWithCapacity(need).map((h) => h.hostid)).to.deep.equal([h2]);
      expect(t.store.allocation.hostsWithCapacity({ ...need, avoid: [h2] })).to.deep.equal([]);
      expect(t.store.allocation.hostsWithCapacity({ ...need, memory: 9 * GIB })).to.deep.equal([]);
      t.store.hosts.transition(h1, 'Ping');
      const big = newVm('big', t.lab.serviceofferings.large);
      t.store.allocation.reserveHost(big, h1);
      const least = t.store.allocation.hostsWithCapacity({ ...need, order: 'leastconsumed' });
      expect(least.map((h) => h.hostid)).to.deep.equal([h2, h1]);
      expect(least[1]).to.include({ cpuavailable: 32000 - 4000, memoryavailable: 4 * GIB });
    });
  });

  describe('primary storage', () => {
    it('places volumes on a pool within capacity × factor, idempotently', () => {
      const pool = t.lab.storagepoolid;
      t.store.storage.updatePool(pool, { capacitybytes: 3 * GIB });
      const vols = [newVm('a'), newVm('b'), newVm('c'), newVm('d')]
        .map((v) => t.store.volumes.list(t.admin, { virtualmachineid: v }).items[0]!.id);
      for (const v of vols.slice(0, 3)) t.store.allocation.reservePool(v, pool);
      t.store.allocation.reservePool(vols[0]!, pool);
      expect(t.store.storage.getPool(pool).disksizeallocated).to.equal(6 * GIB);
      expect(() => t.store.allocation.reservePool(vols[3]!, pool)).to.throw(InsufficientCapacityError);
      expect(t.store.volumes.get(t.admin, vols[0]!).storageid).to.equal(pool);
      expect(t.store.allocation.poolsWithCapacity({ zoneid: t.lab.zoneid, clusterid: t.lab.clusterid, size: 1 })).to.deep.equal([]);
      t.store.allocation.releasePool(vols[0]!);
      t.store.allocation.releasePool(vols[0]!);
      expect(t.store.storage.getPool(pool).disksizeallocated).to.equal(4 * GIB);
      expect(t.store.allocation.poolsWithCapacity({ zoneid: t.lab.zoneid, size: GIB })[0]).to.include({ poolid: pool });
    });

    it('checks the pool when a placed volume grows', () => {
      const pool = t.lab.storagepoolid;
      t.store.storage.updatePool(pool, { capacitybytes: 2 * GIB });
      const vol = t.store.volumes.list(t.admin, { virtualmachineid: newVm('r') }).items[0]!.id;
      t.store.allocation.reservePool(vol, pool);
      expect(t.store.volumes.setSize(vol, 4 * GIB).size).to.equal(4 * GIB);
      expect(() => t.store.volumes.setSize(vol, 5 * GIB)).to.throw(InsufficientCapacityError);
      expect(t.store.storage.getPool(pool).disksizeallocated).to.equal(4 * GIB);
      const other = t.store.storage.createPool({ zoneid: t.lab.zoneid, name: 'p2', url: 'nfs://h/p2', capacitybytes: GIB });
      expect(() => t.store.allocation.reservePool(vol, other.id)).to.throw(ConflictError);
    });
  });

  describe('addresses', () => {
    it('allocates public addresses lowest first until the range is empty, and reuses released ones', () => {
      const got = [0, 1, 2, 3].map(() => t.store.addresses.allocatePublicIp(t.admin, { zoneid: t.lab.zoneid, networkid: net }));
      expect(got.map((g) => g.ipaddress)).to.deep.equal(['172.16.0.10', '172.16.0.11', '172.16.0.12', '172.16.0.13']);
      expect(got[0]).to.include({ state: 'Allocated', account: 'admin', associatednetworkid: net, issourcenat: false });
      expect(() => t.store.addresses.allocatePublicIp(t.admin, { zoneid: t.lab.zoneid })).to.throw(InsufficientCapacityError);
      const freed = t.store.addresses.releasePublicIp(t.admin, got[1]!.id);
      expect(freed).to.include({ state: 'Free' }).and.not.have.any.keys('account', 'associatednetworkid');
      expect(t.store.addresses.allocatePublicIp(t.admin, { zoneid: t.lab.zoneid }).ipaddress).to.equal('172.16.0.11');
      expect(t.store.events.list(t.admin, { type: 'NET.IPASSIGN' }).count).to.equal(5);
      expect(t.store.events.list(t.admin, { type: 'NET.IPRELEASE' }).count).to.equal(1);
      expect(t.store.ipAddresses.list(t.admin, {}).count).to.equal(4);
    });

    it('gives a requested address only when free, and keeps a source NAT address for the system', () => {
      const snat = t.store.addresses.allocatePublicIp(SYSTEM, { zoneid: t.lab.zoneid, networkid: net, sourcenat: true,
        ipaddress: '172.16.0.12' });
      expect(snat).to.include({ ipaddress: '172.16.0.12', issourcenat: true });
      expect(() => t.store.addresses.allocatePublicIp(t.admin, { zoneid: t.lab.zoneid, ipaddress: '172.16.0.12' }))
        .to.throw(InvalidParameterError, /not free/);
      expect(() => t.store.addresses.releasePublicIp(t.admin, snat.id)).to.throw(InvalidParameterError, /source NAT/);
      const other = account(t.store, 'eve', t.lab.domainid, 0);
      expect(() => t.store.addresses.releasePublicIp(other, snat.id)).to.throw(/Unable to find/);
      t.store.addresses.releasePublicIp(SYSTEM, snat.id);
    });

    it('reserves guest addresses in the network CIDR, never the gateway, once per NIC', () => {
      // 10.3.0.0/29: hosts .1-.6, .1 is the gateway.
      const nics = [0, 1, 2, 3, 4, 5].map((i) => t.store.vms.get(t.admin, newVm(`g-${i}`)).nic[0]!.id);
      const first = t.store.addresses.reserveNicIp(nics[0]!);
      expect(first).to.include({ ipaddress: '10.3.0.2', gateway: '10.3.0.1', netmask: '255.255.255.248', state: 'Reserved' });
      expect(t.store.addresses.reserveNicIp(nics[0]!).ipaddress).to.equal('10.3.0.2');
      expect(t.store.addresses.reserveNicIp(nics[1]!, '10.3.0.6').ipaddress).to.equal('10.3.0.6');
      expect(() => t.store.addresses.reserveNicIp(nics[2]!, '10.3.0.6')).to.throw(InvalidParameterError, /already used/);
      expect(() => t.store.addresses.reserveNicIp(nics[2]!, '10.3.0.9')).to.throw(InvalidParameterError, /outside/);
      const rest = nics.slice(2, 5).map((n) => t.store.addresses.reserveNicIp(n).ipaddress);
      expect(rest).to.deep.equal(['10.3.0.3', '10.3.0.4', '10.3.0.5']);
      expect(() => t.store.addresses.reserveNicIp(nics[5]!)).to.throw(InsufficientCapacityError);
      t.store.addresses.releaseNicIp(nics[3]!);
      expect(t.store.addresses.reserveNicIp(nics[5]!).ipaddress).to.equal('10.3.0.4');
    });

    it('allocates VNIs once per network and returns them to the pool', () => {
      const nets = [0, 1, 2, 3].map((i) => t.store.networks.create(t.admin, { name: `v${i}`, zoneid: t.lab.zoneid,
        networkofferingid: t.lab.networkofferingid }).id);
      const vnis = nets.slice(0, 3).map((n) => t.store.addresses.allocateVnet(n));
      expect(vnis).to.deep.equal([10, 11, 12]);
      expect(t.store.addresses.allocateVnet(nets[0]!)).to.equal(10);
      expect(() => t.store.addresses.allocateVnet(nets[3]!)).to.throw(InsufficientCapacityError);
      expect(t.store.networks.get(t.admin, nets[1]!)).to.include({ vlan: '11', broadcasturi: 'vlan://11' });
      t.store.addresses.releaseVnet(nets[1]!);
      expect(t.store.networks.get(t.admin, nets[1]!)).to.not.have.any.keys('vlan', 'broadcasturi');
      expect(t.store.addresses.allocateVnet(nets[3]!)).to.equal(11);
      expect(t.store.addresses.addVnetRange(t.lab.zoneid, 12, 14)).to.equal(2);
    });
  });
});
