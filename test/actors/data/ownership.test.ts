import { expect } from 'chai';
import { NotFoundError, PermissionDeniedError } from '../../../src/errors.js';
import { SYSTEM, type Caller } from '../../../actors/data/store/index.js';
import { account, memoryLab, type Lab } from './fixtures.js';

/**
 * The domain tree of the issue: ROOT → D1 → D11 → D111, D1 → D12, ROOT → D2, with a domain admin and
 * users per domain and 11 VMs: two per user account and one for the root admin.
 */
describe('data store: ownership scoping', function () {
  this.timeout(20_000);
  let t: Lab;
  const d: Record<string, string> = {};
  const who: Record<string, Caller> = {};
  const vmsOf: Record<string, string[]> = {};
  let net: string;

  before(() => {
    t = memoryLab();
    d.ROOT = t.lab.domainid;
    d.D1 = t.store.domains.create(t.admin, { name: 'D1' }).id;
    d.D11 = t.store.domains.create(t.admin, { name: 'D11', parentdomainid: d.D1 }).id;
    d.D111 = t.store.domains.create(t.admin, { name: 'D111', parentdomainid: d.D11 }).id;
    d.D12 = t.store.domains.create(t.admin, { name: 'D12', parentdomainid: d.D1 }).id;
    d.D2 = t.store.domains.create(t.admin, { name: 'D2' }).id;
    who.root = t.admin;
    for (const dom of ['D1', 'D11', 'D2']) who[`da${dom}`] = account(t.store, `admin-${dom}`, d[dom]!, 2);
    for (const dom of ['D1', 'D11', 'D111', 'D12', 'D2']) who[`u${dom}`] = account(t.store, `user-${dom}`, d[dom]!, 0);
    net = t.store.networks.create(SYSTEM, { name: 'shared', zoneid: t.lab.zoneid, networkofferingid: t.lab.sharedNetworkOfferingId,
      accountid: t.lab.adminAccountId, gateway: '10.9.0.1', netmask: '255.255.0.0', startip: '10.9.0.10', endip: '10.9.9.250' }).id;
    const deploy = (c: Caller, name: string): string => t.store.vmOps.create(c, { zoneid: t.lab.zoneid, name,
      serviceofferingid: t.lab.serviceofferings.small, templateid: t.lab.templateid, networkids: [net] }).id;
    for (const u of ['uD1', 'uD11', 'uD111', 'uD12', 'uD2']) vmsOf[u] = [deploy(who[u]!, `${u}-a`), deploy(who[u]!, `${u}-b`)];
    vmsOf.root = [deploy(t.admin, 'root-a')];
  });
  after(() => t.store.close());

  const ids = (c: Caller, p: Record<string, string | boolean> = {}): string[] =>
    t.store.vms.list(c, p).items.map((v) => v.id).sort();
  const of = (...owners: string[]): string[] => owners.flatMap((o) => vmsOf[o]!).sort();

  it('has the 11 VMs', () => {
    expect(t.store.vms.list(SYSTEM, {}).count).to.equal(11);
  });

  it('shows each user exactly its own VMs, with or without listall', () => {
    for (const u of ['uD1', 'uD11', 'uD111', 'uD12', 'uD2']) {
      expect(ids(who[u]!)).to.deep.equal(of(u));
      expect(ids(who[u]!, { listall: true })).to.deep.equal(of(u));
      expect(ids(who[u]!, { listall: true, domainid: who[u]!.domainId })).to.deep.equal(of(u));
    }
  });

  it('shows a domain admin its subtree with listall, and only its own account without', () => {
    expect(ids(who.daD1!, { listall: true })).to.deep.equal(of('uD1', 'uD11', 'uD111', 'uD12'));
    expect(ids(who.daD11!, { listall: true })).to.deep.equal(of('uD11', 'uD111'));
    expect(ids(who.daD2!, { listall: true })).to.deep.equal(of('uD2'));
    expect(ids(who.daD1!)).to.deep.equal([]);
  });

  it('narrows by domainid (recursive or not) and by account', () => {
    expect(ids(who.daD1!, { domainid: d.D11! })).to.deep.equal(of('uD11'));
    expect(ids(who.daD1!, { domainid: d.D11!, isrecursive: true })).to.deep.equal(of('uD11', 'uD111'));
    expect(ids(who.daD1!, { domainid: d.D111!, account: 'user-D111' })).to.deep.equal(of('uD111'));
    expect(ids(who.root!, { domainid: d.D1!, isrecursive: true })).to.deep.equal(of('uD1', 'uD11', 'uD111', 'uD12'));
  });

  it('shows the root admin everything with listall, and its own VMs without', () => {
    expect(ids(who.root!, { listall: true })).to.deep.equal(of('uD1', 'uD11', 'uD111', 'uD12', 'uD2', 'root'));
    expect(ids(who.root!)).to.deep.equal(of('root'));
    expect(t.store.vms.list(who.root!, { listall: true, pagesize: 4, page: 3 })).to.include({ count: 11 });
  });

  it('refuses cross-domain requests', () => {
    expect(() => ids(who.daD11!, { domainid: d.D12! })).to.throw(PermissionDeniedError);
    expect(() => ids(who.daD11!, { domainid: d.D1! })).to.throw(PermissionDeniedError);
    expect(() => ids(who.daD2!, { domainid: d.D1!, isrecursive: true })).to.throw(PermissionDeniedError);
    expect(() => ids(who.uD1!, { domainid: d.D11! })).to.throw(PermissionDeniedError);
    expect(() => ids(who.uD11!, { domainid: d.D11!, account: 'user-D111' })).to.throw(PermissionDeniedError);
    expect(() => ids(who.uD1!, { account: 'admin-D1' })).to.throw(PermissionDeniedError);
    // A domain that does not exist looks the same as one out of reach.
    expect(() => ids(who.daD11!, { domainid: '00000000-0000-4000-8000-000000000000' })).to.throw(PermissionDeniedError);
  });

  it('answers "not found" for another account\'s VM, exactly as for a missing one', () => {
    const foreign = vmsOf.uD12![0]!;
    expect(() => t.store.vms.get(who.uD11!, foreign)).to.throw(NotFoundError, foreign);
    expect(() => t.store.vms.get(who.daD11!, foreign)).to.throw(NotFoundError, foreign);
    expect(() => t.store.vmOps.transition(who.uD11!, foreign, 'StartRequested')).to.throw(NotFoundError);
    expect(() => t.store.vms.get(who.uD11!, '00000000-0000-4000-8000-000000000000')).to.throw(NotFoundError);
    expect(ids(who.uD11!, { id: foreign })).to.deep.equal([]);
    expect(t.store.vms.get(who.daD1!, vmsOf.uD111![0]!).account).to.equal('user-D111');
    expect(t.store.vms.get(who.root!, foreign).domain).to.equal('D12');
    expect(ids(who.daD11!, { id: vmsOf.uD111![1]! })).to.deep.equal([vmsOf.uD111![1]!]);
  });

  it('shows an offering restricted to a domain only inside that domain\'s subtree', () => {
    const so = t.store.offerings.createService({ name: 'D1 only', cpunumber: 1, cpuspeed: 100, memory: 128, domainid: d.D1! });
    const names = (c: Caller): string[] => t.store.offerings.listService(c, {}).items.map((o) => o.name);
    expect(names(who.uD111!)).to.include('D1 only');
    expect(names(who.daD1!)).to.include('D1 only');
    expect(names(who.uD2!)).to.not.include('D1 only');
    expect(t.store.offerings.getService(who.uD11!, so.id).domain).to.equal('D1');
    expect(() => t.store.offerings.getService(who.uD2!, so.id)).to.throw(NotFoundError);
    expect(names(who.root!)).to.include('D1 only');
  });

  it('scopes the other owned lists the same way (volumes, events, accounts, domains)', () => {
    expect(t.store.volumes.list(who.uD2!, {}).count).to.equal(2);
    expect(t.store.volumes.list(who.daD1!, { listall: true }).count).to.equal(8);
    expect(t.store.events.list(who.daD11!, { listall: true, type: 'VM.CREATE' }).count).to.equal(4);
    expect(t.store.accounts.list(who.daD11!, { listall: true }).items.map((a) => a.name).sort())
      .to.deep.equal(['admin-D11', 'user-D11', 'user-D111']);
    expect(t.store.accounts.list(who.uD12!, { listall: true }).items.map((a) => a.name)).to.deep.equal(['user-D12']);
    expect(t.store.domains.list(who.daD1!, { listall: true }).items.map((x) => x.path).sort())
      .to.deep.equal(['ROOT/D1', 'ROOT/D1/D11', 'ROOT/D1/D11/D111', 'ROOT/D1/D12']);
    expect(t.store.domains.list(who.uD111!, { listall: true }).items.map((x) => x.name)).to.deep.equal(['D111']);
    expect(() => t.store.domains.get(who.daD11!, d.D12!)).to.throw(NotFoundError);
  });
});
