/**
 * Menus the web UI builds only when listApis lists a command, found by running the stock UI against a
 * lab: the whole Infrastructure menu (and its Summary page) needs listInfrastructure, and the Domains
 * page needs listDomainChildren, with which it also expands the domain tree. The account and domain
 * pages' Configure Limits tab calls listResourceLimits.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { LabClient, testLab, userAccount } from './lab-client.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('api/commands: menus the web UI shows only when listApis lists their command', function () {
  this.timeout(30_000);
  let lab: Lab;
  let admin: LabClient;

  before(async () => {
    lab = await testLab({ hosts: 3 });
    admin = new LabClient(lab);
  });

  after(async () => {
    await lab.stop();
  });

  async function apis(client: LabClient): Promise<string[]> {
    return ((await client.ok('listApis'))['api'] as { name: string }[]).map((a) => a.name);
  }

  it('listInfrastructure counts what the lists list, for the root admin only', async () => {
    expect(await apis(admin)).to.include('listInfrastructure');
    const infra = (await admin.ok('listInfrastructure'))['infrastructure'] as Record<string, number>;
    const count = async (command: string, params: Record<string, string> = {}): Promise<number> =>
      Number((await admin.ok(command, params))['count'] ?? 0);
    expect(infra).to.deep.equal({
      zones: await count('listZones'), pods: await count('listPods'), clusters: await count('listClusters'),
      hosts: await count('listHosts', { type: 'Routing' }), storagepools: await count('listStoragePools'),
      imagestores: await count('listImageStores'), systemvms: 0, routers: 0, alerts: 0,
      managementservers: await count('listManagementServers'), cpusockets: infra['cpusockets'],
    });
    expect(infra).to.include({ zones: 1, hosts: 3, managementservers: 1 });
    const sockets = ((await admin.ok('listHosts', { type: 'Routing' }))['host'] as { cpusockets: number }[])
      .reduce((n, h) => n + h.cpusockets, 0);
    expect(infra['cpusockets']).to.equal(sockets).and.to.be.above(0);

    // A host going down raises an alert, which the summary counts.
    lab.handles.store.hosts.transition(lab.seed.hostids[0]!, 'PingTimeout');
    expect(((await admin.ok('listInfrastructure'))['infrastructure'] as Record<string, number>)['alerts']).to.equal(1);

    const u = await userAccount(admin);
    expect(await apis(u.client)).to.not.include('listInfrastructure');
    await u.client.fails(401, 'listInfrastructure');
    const da = await userAccount(admin, { accounttype: '2' });
    await da.client.fails(401, 'listInfrastructure');
  });

  it('listDomainChildren lists the direct or all sub-domains of a domain the caller may see', async () => {
    expect(await apis(admin)).to.include('listDomainChildren');
    const root = ((await admin.ok('listDomains', { name: 'ROOT' }))['domain'] as { id: string }[])[0]!.id;
    const make = async (name: string, parentdomainid: string): Promise<string> =>
      ((await admin.ok('createDomain', { name, parentdomainid }))['domain'] as { id: string }).id;
    const a = await make('uim-a', root);
    const a1 = await make('uim-a1', a);
    const a11 = await make('uim-a11', a1);
    const b = await make('uim-b', root);
    const ids = async (client: LabClient, params: Record<string, string>): Promise<string[]> =>
      (await client.list('listDomainChildren', 'domain', params)).map((d) => String(d['id']));

    // Without an id: the caller's domain (ROOT for the admin); the tree's nodes carry haschild.
    expect(await ids(admin, {})).to.have.members([a, b]);
    const top = await admin.list('listDomainChildren', 'domain', { id: root });
    expect(top.find((d) => d['id'] === a)).to.include({ haschild: true, parentdomainid: root, path: 'ROOT/uim-a' });
    expect(top.find((d) => d['id'] === b)).to.include({ haschild: false });
    expect(await ids(admin, { id: a })).to.deep.equal([a1]);
    expect(await ids(admin, { id: a, isrecursive: 'true' })).to.have.members([a1, a11]);
    expect(await ids(admin, { id: a, isrecursive: 'true', name: 'UIM-A11' })).to.deep.equal([a11]);
    expect(await ids(admin, { id: a11 })).to.deep.equal([]);
    const paged = await admin.ok('listDomainChildren', { isrecursive: 'true', page: '1', pagesize: '1' });
    expect(paged['count']).to.equal(4);
    expect(paged['domain']).to.have.length(1);
    expect(await admin.fails(431, 'listDomainChildren', { id: NO_SUCH })).to.contain(NO_SUCH);

    // A domain admin of uim-a sees the tree below it, and not beside or above it.
    const da = await userAccount(admin, { domainid: a, accounttype: '2' });
    expect(await ids(da.client, {})).to.deep.equal([a1]);
    expect(await ids(da.client, { isrecursive: 'true' })).to.have.members([a1, a11]);
    await da.client.fails(431, 'listDomainChildren', { id: b });
    await da.client.fails(431, 'listDomainChildren', { id: root });
    expect(await apis(da.client)).to.include('listDomainChildren');

    // A plain user has no Domains page.
    const u = await userAccount(admin, { domainid: a });
    expect(await apis(u.client)).to.not.include('listDomainChildren');
    await u.client.fails(401, 'listDomainChildren');
  });

  it('listResourceLimits shows the account limits cloudstackd enforces, and none for domains', async () => {
    const u = await userAccount(admin);
    const domainid = lab.seed.domainid;
    const limits = async (client: LabClient, params: Record<string, string>): Promise<Record<string, unknown>> =>
      Object.fromEntries((await client.list('listResourceLimits', 'resourcelimit', params)).map((l) => [l['resourcetypename'], l['max']]));
    expect(await limits(admin, { account: u.name, domainid })).to.deep.equal({ user_vm: 20, cpu: 40, memory: 40960 });
    expect(await limits(u.client, {})).to.deep.equal({ user_vm: 20, cpu: 40, memory: 40960 });
    // Root admins are not limited, nor are domains.
    expect(await limits(admin, {})).to.deep.equal({ user_vm: -1, cpu: -1, memory: -1 });
    expect(await limits(admin, { domainid })).to.deep.equal({ user_vm: -1, cpu: -1, memory: -1 });
    expect(await limits(admin, { account: u.name, domainid, resourcetype: '8' })).to.deep.equal({ cpu: 40 });

    // The figure is the one deploys are held to.
    await admin.ok('updateConfiguration', { name: 'max.account.user.vms', value: '0' });
    expect(await limits(u.client, { resourcetypename: 'user_vm' })).to.deep.equal({ user_vm: 0 });
    const [zone, offering, template] = [lab.seed.zoneid,
      ((await admin.ok('listServiceOfferings'))['serviceoffering'] as { id: string }[])[0]!.id,
      ((await admin.ok('listTemplates', { templatefilter: 'executable' }))['template'] as { id: string }[])[0]!.id];
    expect(await u.client.fails(532, 'deployVirtualMachine', { zoneid: zone, serviceofferingid: offering, templateid: template }))
      .to.contain("'user_vm'");
    await admin.ok('updateConfiguration', { name: 'max.account.user.vms', value: '20' });

    const other = await userAccount(admin);
    await u.client.fails(431, 'listResourceLimits', { account: other.name, domainid });
  });
});
