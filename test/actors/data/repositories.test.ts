import { expect } from 'chai';
import { InvalidParameterError, NotFoundError, PermissionDeniedError, ResourceInUseError } from '../../../src/errors.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { seedLab, seedManagement } from '../../../actors/data/store/seed.js';
import { DataStore } from '../../../actors/data/store/index.js';
import { account, assertNoInternalIds, memoryLab, type Lab } from './fixtures.js';
import { openTestStore } from '../../helpers/test-store.js';

describe('data store: repositories', () => {
  let t: Lab;
  beforeEach(() => { t = memoryLab(); });
  afterEach(() => t.store.close());

  function network(name = 'net'): string {
    return t.store.networks.create(t.admin, { name, zoneid: t.lab.zoneid, networkofferingid: t.lab.networkofferingid }).id;
  }

  function vm(name: string, net: string, extra: { diskofferingid?: string } = {}): string {
    return t.store.vmOps.create(t.admin, { zoneid: t.lab.zoneid, serviceofferingid: t.lab.serviceofferings.small,
      templateid: t.lab.templateid, networkids: [net], name, ...extra }).id;
  }

  describe('the seeded lab', () => {
    it('has the zone, hosts, storage, offerings, template and ranges of the lab', () => {
      const zone = t.store.zones.get(t.admin, t.lab.zoneid);
      expect(zone).to.include({ networktype: 'Advanced', allocationstate: 'Enabled' });
      expect(t.store.hosts.list({ zoneid: zone.id }).count).to.equal(2);
      expect(t.store.hosts.get(t.lab.hostids[0]!)).to.include({ state: 'Up', resourcestate: 'Enabled', cpunumber: 4,
        cpuspeed: 8000, memorytotal: 8 * 1024 ** 3, hypervisor: 'Simulator', type: 'Routing' });
      expect(t.store.storage.listPools({ zoneid: zone.id }).items[0]).to.include({ state: 'Up', scope: 'CLUSTER' });
      expect(t.store.storage.listImageStores({}).count).to.equal(1);
      const offerings = t.store.offerings.listService(t.admin, {}).items;
      expect(offerings.map((o) => o.name)).to.deep.equal(['Small Instance', 'Medium Instance', 'Large Instance HA']);
      expect(offerings.filter((o) => o.offerha)).to.have.length(1);
      expect(t.store.offerings.listDisk(t.admin, {}).count).to.equal(4);
      expect(t.store.offerings.getNetwork(t.lab.networkofferingid)).to.include({ guestiptype: 'Isolated', isdefault: true });
      expect(t.store.templates.list(t.admin, { templatefilter: 'executable' }).items[0]).to.include({
        id: t.lab.templateid, isready: true, templatetype: 'BUILTIN', zoneid: zone.id });
      expect(t.store.templates.listOsTypes({}).count).to.be.greaterThan(3);
      expect(t.store.addresses.vnetUsage(zone.id)).to.deep.equal({ total: 900, allocated: 0 });
      expect(t.store.ipAddresses.list(SYSTEM, { allocatedonly: false }).count).to.equal(241);
      const me = t.store.users.authenticateApiKey(t.lab.apiKey);
      expect(me?.secretkey).to.equal(t.lab.secretKey);
      expect(me?.caller).to.include({ role: 'admin', accountId: t.lab.adminAccountId, domainPath: 'ROOT' });
    });

    it('is idempotent: seeding again changes nothing and returns the same ids and keys', () => {
      const again = seedLab(t.store, { hosts: 5 });
      expect(again.created).to.equal(false);
      expect(again).to.deep.equal({ ...t.lab, created: false });
      expect(t.store.hosts.list({}).count).to.equal(2);
      expect(t.store.accounts.list(SYSTEM, {}).count).to.equal(2);
    });

    it('seeds a management node without hosts', () => {
      const store = openTestStore();
      const m = seedManagement(store);
      expect(m.kind).to.equal('management');
      expect(m.hostids).to.deep.equal([]);
      expect(store.hosts.list({}).count).to.equal(0);
      expect(store.zones.listClusters({}).count).to.equal(1);
      store.close();
    });
  });

  describe('virtual machines', () => {
    it('creates the VM Stopped with its NIC, ROOT and DATA volumes and VM.CREATE, in CloudStack field names', () => {
      const net = network();
      const id = vm('web-1', net, { diskofferingid: t.lab.diskofferings[0]! });
      const v = t.store.vms.get(t.admin, id);
      expect(v).to.include({ name: 'web-1', displayname: 'web-1', state: 'Stopped', account: 'admin', domain: 'ROOT',
        zoneid: t.lab.zoneid, templateid: t.lab.templateid, serviceofferingid: t.lab.serviceofferings.small,
        serviceofferingname: 'Small Instance', cpunumber: 1, cpuspeed: 500, memory: 512, haenable: false });
      expect(v).to.not.have.any.keys('hostid', 'hostname', 'password', 'isoid');
      expect(v.securitygroup).to.deep.equal([]);
      expect(v.tags).to.deep.equal([]);
      expect(v.nic).to.have.length(1);
      expect(v.nic[0]).to.include({ networkid: net, isdefault: true, deviceid: '0', traffictype: 'Guest', type: 'Isolated' });
      expect(v.nic[0]!.macaddress).to.match(/^02:00(:[0-9a-f]{2}){4}$/);
      const vols = t.store.volumes.list(t.admin, { virtualmachineid: id }).items;
      expect(vols.map((x) => [x.type, x.state, x.deviceid])).to.deep.equal([['ROOT', 'Allocated', 0], ['DATADISK', 'Allocated', 1]]);
      expect(vols[0]!.size).to.equal(2 * 1024 ** 3);
      expect(t.store.events.list(t.admin, { type: 'VM.CREATE' }).items[0]).to.include({ resourceid: id, level: 'INFO' });
      assertNoInternalIds(v);
      assertNoInternalIds(vols);
    });

    it('validates references and names before writing anything', () => {
      const net = network();
      const base = { zoneid: t.lab.zoneid, serviceofferingid: t.lab.serviceofferings.small, templateid: t.lab.templateid,
        networkids: [net] };
      expect(() => t.store.vmOps.create(t.admin, { ...base, name: '1bad' })).to.throw(InvalidParameterError, /Invalid name/);
      expect(() => t.store.vmOps.create(t.admin, { ...base, templateid: t.lab.zoneid })).to.throw(InvalidParameterError, /template/);
      expect(() => t.store.vmOps.create(t.admin, { ...base, keypair: 'nope' })).to.throw(InvalidParameterError, /key pair/);
      expect(t.store.vms.list(t.admin, {}).count).to.equal(0);
    });

    it('pages with count across pages, keyword and the common filters', () => {
      const net = network();
      const ids = ['web-1', 'web-2', 'db-1', 'web-3', 'db-2', 'cache-1', 'web-4'].map((n) => vm(n, net));
      const page3 = t.store.vms.list(t.admin, { page: 3, pagesize: 3 });
      expect(page3.count).to.equal(7);
      expect(page3.items.map((x) => x.id)).to.deep.equal([ids[6]]);
      expect(t.store.vms.list(t.admin, { page: 4, pagesize: 3 })).to.deep.equal({ count: 7, items: [] });
      expect(t.store.vms.list(t.admin, { keyword: 'web' }).count).to.equal(4);
      expect(t.store.vms.list(t.admin, { keyword: '%' }).count).to.equal(0);
      expect(t.store.vms.list(t.admin, { name: 'db-2' }).items.map((x) => x.id)).to.deep.equal([ids[4]]);
      expect(t.store.vms.list(t.admin, { ids: [ids[0]!, ids[2]!] }).count).to.equal(2);
      expect(t.store.vms.list(t.admin, { zoneid: t.lab.zoneid, state: 'Stopped', networkid: net }).count).to.equal(7);
      expect(t.store.vms.list(t.admin, { hostid: t.lab.hostids[0]! }).count).to.equal(0);
      expect(t.store.vms.list(t.admin, { zoneid: '00000000-0000-4000-8000-000000000000' }).count).to.equal(0);
      expect(() => t.store.vms.list(t.admin, { pagesize: 501 })).to.throw(InvalidParameterError, /500/);
      expect(() => t.store.vms.list(t.admin, { page: 0, pagesize: 10 })).to.throw(InvalidParameterError);
      expect(() => t.store.vms.list(t.admin, { pagesize: -1 })).to.throw(InvalidParameterError, /scan/);
    });

    it('matches keywords as substrings of name or display name, through the index and without it', () => {
      const net = network();
      const a = vm('alpha-web', net);
      const b = t.store.vmOps.create(t.admin, { zoneid: t.lab.zoneid, serviceofferingid: t.lab.serviceofferings.small,
        templateid: t.lab.templateid, networkids: [net], name: 'beta', displayname: 'Shop_Frontend' }).id;
      vm('gamma', net);
      const kw = (k: string): string[] => t.store.vms.list(t.admin, { keyword: k }).items.map((x) => x.id);
      expect(kw('web')).to.deep.equal([a]);
      expect(kw('FRONT')).to.deep.equal([b]);
      expect(kw('a')).to.have.length(3);
      expect(kw('p_F')).to.deep.equal([b]);
      expect(kw('p%F')).to.deep.equal([]);
      t.store.vmOps.update(t.admin, a, { displayname: 'renamed-box' });
      expect(kw('box')).to.deep.equal([a]);
      expect(kw('alpha')).to.deep.equal([a]);
      t.store.vmOps.update(t.admin, a, { name: 'delta' });
      expect(kw('alpha')).to.deep.equal([]);
      expect(t.store.volumes.list(t.admin, { keyword: 'ROOT-beta' }).count).to.equal(1);
    });

    it('builds a page with a fixed number of statements, whatever its length (no N+1)', () => {
      const net = network();
      const tag = (n: number): number => {
        let calls = 0;
        const conn = t.store.ctx.sql;
        const [one, all, rows] = [conn.one.bind(conn), conn.all.bind(conn), conn.rows.bind(conn)];
        conn.one = (sql, params) => { calls++; return one(sql, params); };
        conn.all = (sql, params) => { calls++; return all(sql, params); };
        conn.rows = (sql, params) => { calls++; return rows(sql, params); };
        try {
          expect(t.store.vms.list(t.admin, { pagesize: n }).items).to.have.length(n);
        } finally {
          Object.assign(conn, { one, all, rows });
        }
        return calls;
      };
      for (let i = 0; i < 40; i++) vm(`vm-${i}`, net);
      expect(tag(40)).to.equal(tag(2));
      expect(tag(40)).to.be.lessThan(12);
    });

    it('scales with a capacity check on the host it runs on', () => {
      const id = vm('s1', network());
      t.store.allocation.reserveHost(id, t.lab.hostids[0]!);
      t.store.vmOps.transition(t.admin, id, 'StartRequested');
      t.store.vmOps.transition(t.admin, id, 'OperationSucceeded');
      const scaled = t.store.vmOps.scale(t.admin, id, { serviceofferingid: t.lab.serviceofferings.large });
      expect(scaled).to.include({ cpunumber: 2, cpuspeed: 2000, memory: 4096, haenable: true });
      expect(t.store.hosts.get(t.lab.hostids[0]!).cpuallocatedvalue).to.equal(4000);
      expect(t.store.events.list(t.admin, { type: 'VM.UPGRADE' }).count).to.equal(1);
    });

    it('expunges a VM with its NICs and ROOT volume, detaching data disks', () => {
      const net = network();
      const id = vm('gone', net, { diskofferingid: t.lab.diskofferings[0]! });
      const nic = t.store.vms.get(t.admin, id).nic[0]!;
      t.store.addresses.reserveNicIp(nic.id);
      t.store.vmOps.transition(t.admin, id, 'DestroyRequested');
      t.store.vmOps.transition(t.admin, id, 'ExpungeOperation');
      t.store.vmOps.markExpunged(t.admin, id);
      expect(() => t.store.vms.get(t.admin, id)).to.throw(NotFoundError);
      const vols = t.store.volumes.list(t.admin, {}).items;
      expect(vols.map((v) => [v.type, v.virtualmachineid])).to.deep.equal([['DATADISK', undefined]]);
      expect(t.store.nics.list(SYSTEM, { networkid: net }).count).to.equal(0);
      expect(t.store.events.list(t.admin, {}).items.map((e) => e.type)).to.include.members(['VM.DESTROY', 'VM.EXPUNGE']);
    });
  });

  describe('volumes, snapshots, tags, keys', () => {
    it('attaches and detaches data volumes; an attached volume cannot be deleted', () => {
      const id = vm('v1', network());
      const vol = t.store.volumes.create(t.admin, { name: 'data', zoneid: t.lab.zoneid, diskofferingid: t.lab.diskofferings[1]! });
      expect(vol).to.include({ type: 'DATADISK', state: 'Allocated', size: 20 * 1024 ** 3 });
      expect(vol).to.not.have.any.keys('virtualmachineid', 'deviceid');
      const attached = t.store.volumes.attach(t.admin, vol.id, id);
      expect(attached).to.include({ virtualmachineid: id, deviceid: 1, vmname: 'v1' });
      expect(() => t.store.volumes.delete(t.admin, vol.id)).to.throw(ResourceInUseError);
      expect(() => t.store.volumes.attach(t.admin, vol.id, id)).to.throw(InvalidParameterError, /already attached/);
      t.store.volumes.detach(t.admin, vol.id);
      t.store.volumes.delete(t.admin, vol.id);
      expect(() => t.store.volumes.get(t.admin, vol.id)).to.throw(NotFoundError);
      const root = t.store.volumes.list(t.admin, { type: 'ROOT' }).items[0]!;
      expect(() => t.store.volumes.detach(t.admin, root.id)).to.throw(InvalidParameterError, /ROOT/);
    });

    it('snapshots a Ready volume through its states', () => {
      vm('v1', network());
      const root = t.store.volumes.list(t.admin, { type: 'ROOT' }).items[0]!;
      expect(() => t.store.snapshots.create(t.admin, { volumeid: root.id })).to.throw(InvalidParameterError, /not Ready/);
      t.store.volumes.transition(SYSTEM, root.id, 'CreateRequested');
      t.store.volumes.transition(SYSTEM, root.id, 'OperationSucceeded', { path: '/pool/root.qcow2' });
      const snap = t.store.snapshots.create(t.admin, { volumeid: root.id, name: 'before' });
      expect(snap).to.include({ state: 'Allocated', volumeid: root.id, volumetype: 'ROOT', snapshottype: 'MANUAL' });
      t.store.snapshots.transition(SYSTEM, snap.id, 'CreateRequested');
      t.store.snapshots.transition(SYSTEM, snap.id, 'OperationSucceeded');
      t.store.snapshots.transition(SYSTEM, snap.id, 'BackupToSecondary');
      expect(t.store.snapshots.transition(SYSTEM, snap.id, 'OperationSucceeded').state).to.equal('BackedUp');
      expect(t.store.snapshots.list(t.admin, { volumeid: root.id }).count).to.equal(1);
    });

    it('tags resources and shows the tags in lists', () => {
      const id = vm('tagged', network());
      t.store.tags.create(t.admin, 'UserVm', [id], [{ key: 'env', value: 'prod' }, { key: 'team', value: 'a' }]);
      t.store.tags.create(t.admin, 'UserVm', [id], [{ key: 'env', value: 'dev' }]);
      const v = t.store.vms.list(t.admin, {}).items[0]!;
      expect(v.tags.map((x) => [x.key, x.value])).to.deep.equal([['env', 'dev'], ['team', 'a']]);
      t.store.tags.delete(t.admin, 'UserVm', [id], ['team']);
      expect(t.store.tags.list(t.admin, { resourceid: id }).count).to.equal(1);
      expect(() => t.store.tags.create(t.admin, 'Nothing', [id], [])).to.throw(InvalidParameterError);
    });

    it('registers, generates, lists and deletes SSH key pairs per account', () => {
      const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxQ0rHqCv3n6U8uVFlW4M6xqMZ1Yr3HR4m1nP3gkVJq user@host';
      const reg = t.store.sshKeys.register(t.admin, 'mine', pub);
      expect(reg.fingerprint).to.match(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
      const gen = t.store.sshKeys.create(t.admin, 'made');
      expect(gen.privatekey).to.match(/BEGIN RSA PRIVATE KEY/);
      expect(t.store.sshKeys.list(t.admin, {}).items.map((k) => k.name)).to.deep.equal(['mine', 'made']);
      expect(t.store.sshKeys.list(t.admin, {}).items[1]).to.not.have.key('privatekey');
      expect(() => t.store.sshKeys.register(t.admin, 'mine', pub)).to.throw(InvalidParameterError, /already exists/);
      expect(() => t.store.sshKeys.register(t.admin, 'bad', 'not a key')).to.throw(InvalidParameterError);
      t.store.sshKeys.delete(t.admin, 'mine');
      expect(() => t.store.sshKeys.get(t.admin, 'mine')).to.throw(NotFoundError);
    });
  });

  describe('identity', () => {
    it('creates accounts with users, authenticates keys and passwords, refuses disabled accounts', () => {
      const d1 = t.store.domains.create(t.admin, { name: 'D1' });
      expect(d1).to.include({ path: 'ROOT/D1', level: 1, parentdomainname: 'ROOT', haschild: false });
      const alice = t.store.accounts.create(t.admin, { username: 'alice', password: 's3cret', domainid: d1.id });
      expect(alice).to.include({ name: 'alice', accounttype: 0, roletype: 'User', domain: 'D1', state: 'enabled' });
      expect(alice.user[0]).to.include({ username: 'alice', account: 'alice' }).and.not.have.key('apikey');
      const keys = t.store.users.registerKeys(t.admin, alice.user[0]!.id);
      expect(t.store.users.authenticateApiKey(keys.apikey)?.caller).to.include({ role: 'user', domainPath: 'ROOT/D1' });
      expect(t.store.users.login('alice', 's3cret', { domain: '/D1/' })?.user.id).to.equal(alice.user[0]!.id);
      expect(t.store.users.login('alice', 'wrong', { domain: '/D1/' })).to.equal(undefined);
      expect(t.store.users.login('alice', 's3cret')).to.equal(undefined);
      t.store.accounts.setState(t.admin, alice.id, 'disabled');
      expect(t.store.users.authenticateApiKey(keys.apikey)).to.equal(undefined);
      expect(t.store.users.authenticateApiKey('no-such-key')).to.equal(undefined);
      expect(() => t.store.domains.create(t.admin, { name: 'D1' })).to.throw(InvalidParameterError, /already exists/);
    });

    it('does not let a user create accounts or domains', () => {
      const u = account(t.store, 'bob', t.lab.domainid, 0);
      expect(() => t.store.accounts.create(u, { username: 'x', password: 'y' })).to.throw(PermissionDeniedError);
      expect(() => t.store.domains.create(u, { name: 'X' })).to.throw(PermissionDeniedError);
    });
  });

  describe('templates, mocks, capacity, config', () => {
    it('applies template filters and per-zone readiness', () => {
      const u = account(t.store, 'carol', t.lab.domainid, 0);
      const mine = t.store.templates.register(u, { name: 'my-image', format: 'QCOW2', hypervisor: 'Simulator' });
      expect(mine).to.have.length(1);
      expect(mine[0]).to.include({ isready: false, status: 'Download Pending', account: 'carol', ispublic: false });
      expect(t.store.templates.list(u, { templatefilter: 'self' }).count).to.equal(1);
      expect(t.store.templates.list(u, { templatefilter: 'executable' }).items.map((x) => x.name))
        .to.deep.equal(['CentOS 5.5(64-bit) no GUI (Simulator)']);
      t.store.templates.setZoneStatus(mine[0]!.id, t.lab.zoneid, { isready: true, physicalsize: 1000 });
      expect(t.store.templates.list(u, { templatefilter: 'executable' }).count).to.equal(2);
      expect(t.store.templates.list(t.admin, { templatefilter: 'self' }).count).to.equal(0);
      expect(() => t.store.templates.get(account(t.store, 'dave', t.lab.domainid, 0), mine[0]!.id)).to.throw(NotFoundError);
      expect(() => t.store.templates.list(u, { templatefilter: 'bogus' })).to.throw(InvalidParameterError);
    });

    it('fires the most specific simulator mock and counts it down', () => {
      const [h1, h2] = [t.lab.hostids[0]!, t.lab.hostids[1]!];
      const zoneWide = t.store.mocks.create({ name: 'StartCommand', value: 'result:fail', zoneid: t.lab.zoneid });
      const onHost = t.store.mocks.create({ name: 'StartCommand', value: 'result:fault;wait:10', count: 1, hostid: h1 });
      expect(t.store.mocks.fire('StartCommand', { hostid: h1 })).to.deep.include({ options: { result: 'fault', wait: '10' } });
      expect(t.store.mocks.get(onHost.id).count).to.equal(0);
      expect(t.store.mocks.fire('StartCommand', { hostid: h1 })?.mock.id).to.equal(zoneWide.id);
      expect(t.store.mocks.fire('StartCommand', { hostid: h2 })?.mock.id).to.equal(zoneWide.id);
      expect(t.store.mocks.fire('StopCommand', { hostid: h2 })).to.equal(undefined);
      t.store.mocks.remove(zoneWide.id);
      expect(t.store.mocks.fire('StartCommand', { hostid: h2 })).to.equal(undefined);
      expect(t.store.mocks.get(zoneWide.id).removed).to.equal(true);
    });

    it('reports capacity from the allocations, with the over-provisioning factors', () => {
      t.store.config.set('cpu.overprovisioning.factor', '2');
      const cpu = t.store.capacity.list({ zoneid: t.lab.zoneid, type: 1 });
      expect(cpu).to.have.length(1);
      expect(cpu[0]).to.include({ capacitytotal: 2 * 2 * 4 * 8000, capacityused: 0, percentused: '0.00' });
      const id = vm('c1', network());
      t.store.allocation.reserveHost(id, t.lab.hostids[0]!);
      expect(t.store.capacity.list({ type: 1 })[0]!.capacityused).to.equal(500);
      expect(t.store.capacity.list({ clusterid: t.lab.clusterid, type: 0 })[0]).to.include({ clusterid: t.lab.clusterid });
      expect(() => t.store.config.set('mem.overprovisioning.factor', '-1')).to.throw(InvalidParameterError);
    });
  });
});
