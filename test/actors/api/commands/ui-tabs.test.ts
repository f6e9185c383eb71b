/**
 * Detail-page tabs of the web UI that failed against a lab (found by running the stock 4.15 UI): the
 * Settings tab of VMs and templates (listDetailOptions), the dedication section of every zone, pod,
 * cluster and host details tab (listDedicated*), the zone's Physical Network tab, the account's
 * Certificate tab (listSslCerts), and saving the Limits tab of accounts and domains (updateResourceLimit).
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { LabClient, testLab, userAccount } from './lab-client.js';
import { freshPostgresDatabase, testBackend } from '../../../helpers/test-store.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('api/commands: detail tabs of the web UI', function () {
  this.timeout(30_000);
  let lab: Lab;
  let admin: LabClient;

  before(async () => {
    lab = await testLab({ hosts: 2 });
    admin = new LabClient(lab);
  });

  after(async () => {
    await lab.stop();
  });

  async function apis(client: LabClient): Promise<string[]> {
    return ((await client.ok('listApis'))['api'] as { name: string }[]).map((a) => a.name);
  }

  it('listDetailOptions answers the Settings tab with an empty map: cloudstackd applies no hypervisor detail', async () => {
    const u = await userAccount(admin);
    const deployed = await u.client.ok('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid, startvm: 'false' });
    const vmid = String(deployed['id']);
    for (const [client, params] of [[u.client, { resourcetype: 'UserVm', resourceid: vmid }], [admin, { resourcetype: 'uservm' }],
      [admin, { resourcetype: 'Template', resourceid: lab.seed.templateid }]] as const) {
      const r = await client.call('listDetailOptions', params);
      expect(r.status, r.raw.body).to.equal(200);
      // The UI reads listdetailoptionsresponse.detailoptions.details and lists its keys.
      expect(JSON.parse(r.raw.body)).to.deep.equal({ listdetailoptionsresponse: { detailoptions: { details: {} } } });
    }
    expect(await apis(u.client)).to.include('listDetailOptions');
    await admin.fails(431, 'listDetailOptions', { resourcetype: 'UserVm', resourceid: NO_SUCH });
    await admin.fails(431, 'listDetailOptions', { resourcetype: 'Template', resourceid: vmid });
    expect(await admin.fails(431, 'listDetailOptions', { resourcetype: 'Volume' })).to.match(/not supported/);
    await admin.fails(431, 'listDetailOptions', {});
  });

  it('lists nothing dedicated for a zone, pod, cluster or host, and keeps dedication out of listApis', async () => {
    const cases = [['listDedicatedZones', 'zoneid', lab.seed.zoneid], ['listDedicatedPods', 'podid', lab.seed.podid],
      ['listDedicatedClusters', 'clusterid', lab.seed.clusterid], ['listDedicatedHosts', 'hostid', lab.seed.hostids[0]!]] as const;
    const u = await userAccount(admin);
    for (const [command, param, id] of cases) {
      const r = await admin.call(command, { [param]: id });
      expect(r.status, r.raw.body).to.equal(200);
      expect(JSON.parse(r.raw.body)).to.deep.equal({ [`${command.toLowerCase()}response`]: {} });
      expect(await admin.ok(command, {})).to.deep.equal({});
      await admin.fails(431, command, { [param]: NO_SUCH });
      expect(await admin.fails(431, command, { account: 'admin' })).to.match(/domain id of the account/);
      expect(await admin.ok(command, { account: 'admin', domainid: lab.seed.domainid })).to.deep.equal({});
      await u.client.fails(401, command, { [param]: id });
    }
    const names = await apis(admin);
    expect(names).to.not.include.members([...cases.map((c) => c[0]), 'dedicateZone', 'dedicatePod', 'dedicateCluster', 'dedicateHost']);
  });

  it('lists no physical network for a zone (the zone tab), unlisted, and refuses ids that name nothing', async () => {
    const r = await admin.call('listPhysicalNetworks', { zoneid: lab.seed.zoneid });
    expect(r.status, r.raw.body).to.equal(200);
    expect(JSON.parse(r.raw.body)).to.deep.equal({ listphysicalnetworksresponse: {} });
    await admin.fails(431, 'listPhysicalNetworks', { zoneid: NO_SUCH });
    await admin.fails(431, 'listPhysicalNetworks', { id: NO_SUCH });
    expect(await apis(admin)).to.not.include('listPhysicalNetworks');
    const u = await userAccount(admin);
    await u.client.fails(401, 'listPhysicalNetworks', { zoneid: lab.seed.zoneid });
  });

  it("lists no SSL certificate for an account (the Certificate tab), with CloudStack's parameter checks", async () => {
    const u = await userAccount(admin);
    // As the UI asks: listAll, page and pageSize are not parameters of listSslCerts, and are ignored.
    const r = await u.client.call('listSslCerts', { accountid: u.accountId, listAll: 'true', page: '1', pageSize: '20' });
    expect(r.status, r.raw.body).to.equal(200);
    expect(JSON.parse(r.raw.body)).to.deep.equal({ listsslcertsresponse: {} });
    expect(await admin.ok('listSslCerts', { accountid: lab.seed.adminAccountId })).to.deep.equal({});
    expect(await admin.fails(431, 'listSslCerts', {})).to.match(/certificate ID or Account ID or Loadbalancer ID or Project ID required/);
    await admin.fails(431, 'listSslCerts', { certid: NO_SUCH });
    await admin.fails(431, 'listSslCerts', { accountid: NO_SUCH });
    expect(await apis(u.client)).to.not.include.members(['listSslCerts', 'uploadSslCert']);
    // The console proxy certificate of the Infrastructure Summary cannot be installed either: no command offered.
    expect(await apis(admin)).to.not.include('uploadCustomCertificate');
  });

  it('updateResourceLimit saves the Limits tab of an account and of a domain; listResourceLimits and deploys follow', async () => {
    const domain = (await admin.ok('createDomain', { name: 'limits-d' }))['domain'] as { id: string };
    const u = await userAccount(admin, { domainid: domain.id });
    const limits = async (params: Record<string, string>): Promise<Record<string, unknown>> =>
      Object.fromEntries((await admin.list('listResourceLimits', 'resourcelimit', params)).map((l) => [l['resourcetypename'], l['max']]));
    // The tab sends one request per type, with the owner's account and domainid.
    const account = { account: u.name, domainid: domain.id };
    const saved = (await admin.ok('updateResourceLimit', { ...account, resourcetype: '0', max: '1' }))['resourcelimit'];
    expect(saved).to.deep.equal({ resourcetype: '0', resourcetypename: 'user_vm', max: 1, account: u.name, domainid: domain.id,
      domain: 'limits-d', domainpath: 'ROOT/limits-d' });
    await admin.ok('updateResourceLimit', { ...account, resourcetype: '8', max: '6' });
    expect(await limits(account)).to.deep.equal({ user_vm: 1, cpu: 6, memory: 40960 });
    const deploy = { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small, templateid: lab.seed.templateid, startvm: 'false' };
    await u.client.ok('deployVirtualMachine', deploy);
    expect(await u.client.fails(532, 'deployVirtualMachine', deploy)).to.contain("'user_vm'");
    // No max: -1, no limit.
    expect((await admin.ok('updateResourceLimit', { ...account, resourcetype: '0' }))['resourcelimit']).to.include({ max: -1 });
    await u.client.ok('deployVirtualMachine', deploy);

    // A domain's limit holds its accounts; ROOT cannot be limited.
    expect((await admin.ok('updateResourceLimit', { domainid: domain.id, resourcetype: '9', max: '1000' }))['resourcelimit'])
      .to.deep.equal({ resourcetype: '9', resourcetypename: 'memory', max: 1000, domainid: domain.id, domain: 'limits-d', domainpath: 'ROOT/limits-d' });
    expect(await limits({ domainid: domain.id })).to.deep.equal({ user_vm: -1, cpu: -1, memory: 1000 });
    expect(await u.client.fails(532, 'deployVirtualMachine', deploy)).to.match(/'memory' for domain id=/);
    expect(await admin.fails(531, 'updateResourceLimit', { domainid: lab.seed.domainid, resourcetype: '0', max: '5' })).to.match(/ROOT domain/);

    // Types cloudstackd does not limit are refused, not stored to no effect.
    expect(await admin.fails(431, 'updateResourceLimit', { ...account, resourcetype: '2', max: '5' })).to.match(/volume \(2\) is not limited here/);
    expect(await admin.fails(431, 'updateResourceLimit', { ...account, resourcetype: '42', max: '5' })).to.match(/valid resource type/);
    await admin.fails(431, 'updateResourceLimit', { ...account, resourcetype: '0', max: '-2' });
    expect(await admin.fails(431, 'updateResourceLimit', { resourcetype: '0', max: '5' })).to.match(/AccountId or domainId have to be specified/);
    const root = { account: 'admin', domainid: lab.seed.domainid };
    expect(await admin.fails(431, 'updateResourceLimit', { ...root, resourcetype: '0', max: '5' })).to.match(/Only -1 limit is supported for Root Admin/);
    expect((await admin.ok('updateResourceLimit', { ...root, resourcetype: '0', max: '-1' }))['resourcelimit']).to.include({ account: 'admin', max: -1 });
    await u.client.fails(401, 'updateResourceLimit', { resourcetype: '0', max: '100' });
    expect(await apis(admin)).to.include('updateResourceLimit');
    expect(await apis(u.client)).to.not.include('updateResourceLimit');
  });

  it('keeps the limits it saved across a restart of the lab', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'csd-limits-'));
    try {
      // The same database both times (on PostgreSQL the data dir does not hold it).
      const db = testBackend() === 'postgres' ? { databaseUrl: freshPostgresDatabase() } : {};
      const first = await testLab({ hosts: 1, dataDir: dir, ...db });
      const u = await userAccount(new LabClient(first));
      await new LabClient(first).ok('updateResourceLimit', { account: u.name, domainid: first.seed.domainid, resourcetype: '8', max: '3' });
      await first.stop();
      const second = await testLab({ hosts: 1, dataDir: dir, ...db });
      try {
        const [cpu] = await new LabClient(second).list('listResourceLimits', 'resourcelimit',
          { account: u.name, domainid: second.seed.domainid, resourcetype: '8' });
        expect(cpu).to.include({ resourcetypename: 'cpu', max: 3 });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
