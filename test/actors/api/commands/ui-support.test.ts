/**
 * What the stock CloudStack web UI needs of the API, each as a contract on a real lab: the commands of
 * its login page, the integrations it asks about after login, the metrics list commands its Instances,
 * Zones and Hosts pages are built from, case-insensitive filters, the domain filters of its deploy
 * wizard, and the 431 of an unknown list id.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { CsApi, type Json } from '../../../helpers/cs-api.js';
import { LabClient, testLab, userAccount } from './lab-client.js';
import { SessionClient } from './session-client.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';
const GIB = 1024 ** 3;

describe('api/commands: what the stock web UI needs', function () {
  this.timeout(30_000);
  let lab: Lab;
  let admin: LabClient;
  let vm: Json;
  let port: number;

  before(async () => {
    // A low memory notification threshold, to see the metrics honour the setting.
    lab = await testLab({ hosts: 2, settings: { 'cluster.memory.allocated.capacity.notificationthreshold': '0.01' } });
    admin = new LabClient(lab);
    port = admin.port;
    const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 });
    const job = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid, name: 'ui-vm' });
    expect(job.jobstatus, JSON.stringify(job.jobresult)).to.equal(1);
    vm = job.jobresult['virtualmachine'] as Json;
  });

  after(async () => {
    await lab.stop();
  });

  it('answers the login page before login as CloudStack does without a session', async () => {
    const ui = new SessionClient(port);
    for (const command of ['listGuiThemes', 'listOauthProvider']) {
      const r = await ui.get(command);
      expect(r.status, r.raw.body).to.equal(200);
      expect(r.json).to.deep.equal({ [`${command.toLowerCase()}response`]: {} });
    }
    expect((await ui.get('listGuiThemes', { listonlydefaulttheme: 'true', commonname: 'localhost' })).status).to.equal(200);
    expect((await ui.get('listOauthProvider', { id: NO_SUCH })).status).to.equal(431);
    // SAML, password reset and Cloudian are off: CloudStack serves these only to a session.
    for (const command of ['listIdps', 'forgotPassword', 'cloudianIsEnabled']) expect((await ui.get(command)).status, command).to.equal(401);
  });

  it('answers listLdapConfigurations and cloudianIsEnabled as CloudStack does with LDAP and Cloudian off', async () => {
    const u = await userAccount(admin);
    for (const [name, password] of [['admin', 'password'], [u.name, `pw-${u.name}`]] as const) {
      const ui = new SessionClient(port);
      await ui.login(name, password);
      const ldap = await ui.get('listLdapConfigurations', { listall: 'true' });
      expect(ldap.status).to.equal(200);
      // The UI reads `ldapconfigurationresponse.count`.
      expect(ldap.json).to.deep.equal({ ldapconfigurationresponse: {} });
      expect(await ui.ok('cloudianIsEnabled')).to.deep.equal({ cloudianisenabled: { enabled: false } });
    }
  });

  it('lists the metrics commands in listApis, by role', async () => {
    const names = (await admin.list('listApis', 'api')).map((a) => a['name']);
    const metrics = ['listVirtualMachinesMetrics', 'listZonesMetrics', 'listHostsMetrics', 'listVolumesMetrics', 'listClustersMetrics',
      'listStoragePoolsMetrics', 'listManagementServersMetrics'];
    expect(names).to.include.members(metrics);
    const u = await userAccount(admin);
    const userNames = (await u.client.list('listApis', 'api')).map((a) => a['name']);
    expect(userNames).to.include.members(['listVirtualMachinesMetrics', 'listVolumesMetrics', 'listZonesMetrics']);
    expect(userNames).to.not.include('listHostsMetrics');
    const described = (await admin.list('listApis', 'api', { name: 'listHostsMetrics' }))[0]!;
    expect((described['response'] as Json[]).map((r) => r['name'])).to.include.members(['instances', 'cputotalghz', 'memoryallocatedgb']);
  });

  it('computes host, cluster and zone metrics from the hosts and what is allocated on them', async () => {
    const hosts = await admin.list('listHostsMetrics', 'host');
    expect(hosts).to.have.length(2);
    for (const h of hosts) {
      const mine = h['id'] === vm['hostid'];
      expect(h['instances']).to.equal(mine ? '1 / 1' : '0 / 0');
      expect(h['cputotalghz']).to.equal(`${(Number(h['cpunumber']) * Number(h['cpuspeed']) / 1000).toFixed(2)} Ghz`);
      expect(h['memorytotalgb']).to.equal(`${(Number(h['memorytotal']) / GIB).toFixed(2)} GB`);
      expect(h['memoryallocatedgb']).to.equal(mine ? '0.50 GB' : '0.00 GB');
      expect(h['cpuallocatedghz']).to.equal(mine ? '0.50 Ghz' : '0.00 Ghz');
      // 0.5 GiB of 8 GiB is above the 1% notification threshold set for this lab, below the 85% disable one.
      expect(h).to.include({ memoryallocatedthreshold: mine, memoryallocateddisablethreshold: false, powerstate: 'Disabled' });
    }
    const paged = await admin.ok('listHostsMetrics', { page: '2', pagesize: '1' });
    expect(paged['count']).to.equal(2);
    expect(paged['host']).to.have.length(1);

    const cpu = hosts.reduce((s, h) => s + Number(h['cpunumber']) * Number(h['cpuspeed']), 0);
    const mem = hosts.reduce((s, h) => s + Number(h['memorytotal']), 0);
    const [cluster] = await admin.list('listClustersMetrics', 'cluster');
    expect(cluster).to.include({ hosts: '2 / 2', state: 'Enabled', cputotal: `${(cpu / 1000).toFixed(2)} Ghz`,
      memorytotal: `${(mem / GIB).toFixed(2)} GB`, cpuallocated: `${(500 * 100 / cpu).toFixed(2)}%`,
      memoryallocated: `${(512 * 1024 * 1024 * 100 / mem).toFixed(2)}%`, memoryallocatedthreshold: true });
    const [zone] = await admin.list('listZonesMetrics', 'zone');
    expect(zone).to.include({ clusters: '1 / 1', state: 'Enabled', cputotal: cluster!['cputotal'], memoryallocated: cluster!['memoryallocated'] });
  });

  it('computes VM, volume and storage pool metrics from their records', async () => {
    const [m] = await admin.list('listVirtualMachinesMetrics', 'virtualmachine', { id: String(vm['id']) });
    const nic = (vm['nic'] as Json[])[0]!;
    expect(m).to.include({ id: vm['id'], ipaddress: nic['ipaddress'], cputotal: '0.5 Ghz', memorytotal: '0.50 GiB', state: 'Running' });
    const [root] = await admin.list('listVolumesMetrics', 'volume', { virtualmachineid: String(vm['id']) });
    expect(root).to.include({ sizegb: `${(Number(root!['size']) / GIB).toFixed(2)} GiB`, storagetype: 'Shared (ROOT)' });
    const [pool] = await admin.list('listStoragePoolsMetrics', 'storagepool');
    const total = Number(pool!['disksizetotal']);
    const allocated = Number(pool!['disksizeallocated']);
    expect(allocated).to.be.greaterThan(0);
    expect(pool).to.include({ disksizetotalgb: `${(total / GIB).toFixed(2)} GB (x2)`, disksizeallocatedgb: `${(allocated / GIB).toFixed(2)} GB`,
      disksizeunallocatedgb: `${((2 * total - allocated) / GIB).toFixed(2)} GB`, storageallocatedthreshold: false });
    const [ms] = await admin.list('listManagementServersMetrics', 'managementserver');
    expect(ms).to.include({ state: 'Up' });
    expect(ms!['collectiontime']).to.be.a('string');
  });

  it('matches string and enum filters regardless of case, as MySQL does', async () => {
    expect(await admin.list('listHosts', 'host', { type: 'routing' })).to.have.length(2);
    expect(await admin.list('listHosts', 'host', { hypervisor: 'SIMULATOR', state: 'up' })).to.have.length(2);
    expect(await admin.list('listZones', 'zone', { name: 'LAB-ZONE' })).to.have.length(1);
    expect((await admin.list('listVirtualMachines', 'virtualmachine', { state: 'running' })).map((v) => v['id'])).to.deep.equal([vm['id']]);
    expect(await admin.list('listVolumes', 'volume', { type: 'root', virtualmachineid: String(vm['id']) })).to.have.length(1);
    expect(await admin.list('listServiceOfferings', 'serviceoffering', { name: 'small instance' })).to.have.length(1);
    expect(await admin.list('listNetworkOfferings', 'networkoffering', { guestiptype: 'isolated', state: 'enabled' })).to.not.be.empty;
    expect(await admin.list('listTemplates', 'template', { templatefilter: 'featured', hypervisor: 'simulator' })).to.have.length(1);
  });

  it("lists public offerings and those of the caller's domain tree under a domain filter, as the deploy wizard asks", async () => {
    const rootId = lab.seed.domainid;
    const child = (await admin.ok('createDomain', { name: 'wizard' }))['domain'] as Json;
    const childId = String(child['id']);
    const so = (await admin.ok('createServiceOffering', { name: 'child-only', displaytext: 'child', cpunumber: '1', cpuspeed: '100',
      memory: '128', domainid: childId }))['serviceoffering'] as Json;
    const disk = (await admin.ok('createDiskOffering', { name: 'child-disk', displaytext: 'child', disksize: '1', domainid: childId }))['diskoffering'] as Json;
    const wizard = { zoneid: lab.seed.zoneid, domainid: rootId, account: 'admin', issystem: 'false', listall: 'true' };
    const atRoot = (await admin.list('listServiceOfferings', 'serviceoffering', wizard)).map((o) => o['id']);
    expect(atRoot).to.include.members(Object.values(lab.seed.serviceofferings)).and.not.include(so['id']);
    const inChild = (await admin.list('listServiceOfferings', 'serviceoffering', { ...wizard, domainid: childId })).map((o) => o['id']);
    expect(inChild).to.include.members([...Object.values(lab.seed.serviceofferings), so['id']]);
    const disksAtRoot = (await admin.list('listDiskOfferings', 'diskoffering', { ...wizard })).map((o) => o['id']);
    expect(disksAtRoot).to.include.members(lab.seed.diskofferings).and.not.include(disk['id']);
    const disksInChild = (await admin.list('listDiskOfferings', 'diskoffering', { ...wizard, domainid: childId })).map((o) => o['id']);
    expect(disksInChild).to.include.members([...lab.seed.diskofferings, disk['id']]);
    // A user of the child domain sees the public offerings and its domain's; a ROOT user not the child's.
    const childUser = await userAccount(admin, { domainid: childId });
    const seen = (await childUser.client.list('listServiceOfferings', 'serviceoffering', { domainid: childId, listall: 'true' })).map((o) => o['id']);
    expect(seen).to.include.members([lab.seed.serviceofferings.small, so['id']]);
    const rootUser = await userAccount(admin);
    expect((await rootUser.client.list('listServiceOfferings', 'serviceoffering')).map((o) => o['id'])).to.not.include(so['id']);
    // Templates, network offerings and networks under the wizard's filters.
    expect((await admin.list('listTemplates', 'template', { templatefilter: 'featured', ...wizard })).map((t) => t['id'])).to.include(lab.seed.templateid);
    expect((await admin.list('listNetworkOfferings', 'networkoffering', { zoneid: lab.seed.zoneid, domainid: rootId, state: 'Enabled',
      guestiptype: 'Isolated' })).map((o) => o['id'])).to.include(lab.seed.networkofferingid);
    const nets = await admin.list('listNetworks', 'network', { zoneid: lab.seed.zoneid, domainid: rootId, account: 'admin', listall: 'true' });
    expect(nets.map((n) => n['id'])).to.include((vm['nic'] as Json[])[0]!['networkid']);
  });

  it('answers 431 for a list id that names nothing, and an empty list for one the caller may not see', async () => {
    for (const [command, extra] of [['listZones', {}], ['listVirtualMachines', {}], ['listVolumes', {}], ['listNetworks', {}],
      ['listTemplates', { templatefilter: 'all' }], ['listServiceOfferings', {}], ['listAccounts', {}], ['listHostsMetrics', {}],
      ['listVirtualMachinesMetrics', {}], ['listManagementServers', {}]] as const) {
      const text = await admin.fails(431, command, { id: NO_SUCH, ...extra });
      expect(text, command).to.equal(`Unable to execute API command ${command.toLowerCase()} due to invalid value. Invalid parameter id ` +
        `value=${NO_SUCH} due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class.`);
    }
    const u = await userAccount(admin);
    expect(await u.client.ok('listVirtualMachines', { id: String(vm['id']) })).to.deep.equal({});
    expect(await admin.list('listVirtualMachines', 'virtualmachine', { id: String(vm['id']) })).to.have.length(1);
  });
});
