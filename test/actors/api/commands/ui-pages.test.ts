/**
 * The commands the UI's pages call that answered 432 before: global settings (only those cloudstackd
 * reads, and an update that takes effect), alerts raised by a host going down, system VMs and routers
 * (none exist), VPCs and network service providers (served, but not in listApis), hypervisors and roles.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { CsApi, type Json } from '../../../helpers/cs-api.js';
import { LabClient, testLab, userAccount } from './lab-client.js';
import { SessionClient } from './session-client.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('api/commands: the pages of the web UI', function () {
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

  it('lists only the settings cloudstackd reads, and an update takes effect', async () => {
    const all = await admin.list('listConfigurations', 'configuration', { pagesize: '-1' });
    const names = all.map((c) => c['name']);
    expect(names).to.include.members(['cpu.overprovisioning.factor', 'vm.allocation.algorithm', 'max.account.user.vms',
      'cluster.memory.allocated.capacity.notificationthreshold']);
    // Not read anywhere (the page size is a start option), and the seed record is internal.
    expect(names).to.not.include.members(['default.page.size', 'ping.interval']);
    expect(names.some((n) => String(n).startsWith('cloudstackd.'))).to.equal(false);
    const cpu = all.find((c) => c['name'] === 'cpu.overprovisioning.factor')!;
    expect(cpu).to.include({ value: '1', defaultvalue: '1', isdynamic: true, type: 'Number', category: 'Advanced' });
    const paged = await admin.ok('listConfigurations', { page: '1', pagesize: '2' });
    expect(paged['count']).to.equal(all.length);
    expect(await admin.list('listConfigurations', 'configuration', { name: 'CPU.overprovisioning.factor' })).to.have.length(1);
    expect(await admin.ok('listConfigurations', { zoneid: lab.seed.zoneid })).to.deep.equal({});

    const before = (await admin.list('listCapacity', 'capacity', { zoneid: lab.seed.zoneid })).find((c) => c['name'] === 'CPU')!;
    const updated = (await admin.ok('updateConfiguration', { name: 'cpu.overprovisioning.factor', value: '2' }))['configuration'];
    expect(updated).to.include({ name: 'cpu.overprovisioning.factor', value: '2', defaultvalue: '1' });
    const after = (await admin.list('listCapacity', 'capacity', { zoneid: lab.seed.zoneid })).find((c) => c['name'] === 'CPU')!;
    expect(after['capacitytotal']).to.equal(2 * Number(before['capacitytotal']));
    await admin.ok('updateConfiguration', { name: 'cpu.overprovisioning.factor', value: '1' });

    expect(await admin.fails(431, 'updateConfiguration', { name: 'no.such.setting', value: '1' })).to.match(/doesn't exist/);
    expect(await admin.fails(431, 'updateConfiguration', { name: 'start.retry', value: 'many' })).to.match(/takes a number/);
    await admin.fails(431, 'updateConfiguration', { name: 'start.retry', value: '3', zoneid: lab.seed.zoneid });
    const u = await userAccount(admin);
    await u.client.fails(401, 'listConfigurations');
    await u.client.fails(401, 'updateConfiguration', { name: 'start.retry', value: '3' });
  });

  it('raises an alert when a host goes down, lists it newest first, and archives and deletes alerts', async () => {
    expect(await admin.ok('listAlerts', { page: '1', pagesize: '8', listall: 'true' })).to.deep.equal({});
    const [h1, h2] = lab.seed.hostids;
    lab.handles.store.hosts.transition(h1!, 'PingTimeout');
    lab.handles.store.hosts.transition(h2!, 'PingTimeout');
    const alerts = await admin.list('listAlerts', 'alert', { page: '1', pagesize: '8', listall: 'true' });
    expect(alerts).to.have.length(2);
    expect(alerts[0]).to.include({ type: 7, name: 'ALERT.HOST' });
    expect(String(alerts[0]!['description'])).to.contain(h2!);
    expect(String(alerts[1]!['description'])).to.contain(h1!);
    expect(alerts[0]!['sent']).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(await admin.list('listAlerts', 'alert', { type: '7' })).to.have.length(2);
    const second = await admin.ok('listAlerts', { page: '2', pagesize: '1' });
    expect(second['count']).to.equal(2);
    expect((second['alert'] as Json[]).map((a) => a['id'])).to.deep.equal([alerts[1]!['id']]);
    expect(await admin.ok('listAlerts', { type: '1' })).to.deep.equal({});
    await admin.fails(431, 'listAlerts', { id: NO_SUCH });
    await admin.fails(431, 'archiveAlerts', {});
    await admin.fails(431, 'deleteAlerts', { ids: NO_SUCH });
    expect(await admin.ok('archiveAlerts', { ids: String(alerts[0]!['id']) })).to.deep.equal({ success: true });
    expect((await admin.list('listAlerts', 'alert')).map((a) => a['id'])).to.deep.equal([alerts[1]!['id']]);
    expect(await admin.ok('deleteAlerts', { type: '7' })).to.deep.equal({ success: true });
    expect(await admin.ok('listAlerts')).to.deep.equal({});
    // Back up (a host answering again raises no alert).
    for (const h of [h1!, h2!]) lab.handles.store.hosts.transition(h, 'Ping');
    expect(await admin.ok('listAlerts')).to.deep.equal({});
    const u = await userAccount(admin);
    await u.client.fails(401, 'listAlerts');
  });

  it('lists no system VMs or routers (there are none) and refuses their ids', async () => {
    expect(await admin.ok('listSystemVms', { zoneid: lab.seed.zoneid })).to.deep.equal({});
    expect(await admin.ok('listRouters', { zoneid: lab.seed.zoneid, listall: 'true' })).to.deep.equal({});
    await admin.fails(431, 'listSystemVms', { id: NO_SUCH });
    await admin.fails(431, 'listRouters', { id: NO_SUCH });
  });

  it('serves listVPCs and listNetworkServiceProviders for the forms that call them, but leaves them out of listApis', async () => {
    const u = await userAccount(admin);
    for (const client of [admin, u.client]) {
      expect(await client.ok('listVPCs', { listall: 'true' })).to.deep.equal({});
      expect(await client.ok('listNetworkServiceProviders', { name: 'VirtualRouter' })).to.deep.equal({});
      const names = (await client.list('listApis', 'api')).map((a) => a['name']);
      expect(names).to.not.include.members(['listVPCs', 'listNetworkServiceProviders']);
    }
    await admin.fails(431, 'listVPCs', { id: NO_SUCH });
    // listApis asked for an unlisted command by name: as for an unknown one.
    expect((await admin.call('listApis', { name: 'listVPCs' })).status).to.equal(530);
  });

  it("lists the hypervisors of the zones' clusters", async () => {
    expect(await admin.list('listHypervisors', 'hypervisor', { zoneid: lab.seed.zoneid })).to.deep.equal([{ name: 'Simulator' }]);
    const u = await userAccount(admin);
    expect(await u.client.list('listHypervisors', 'hypervisor')).to.deep.equal([{ name: 'Simulator' }]);
    await admin.fails(431, 'listHypervisors', { zoneid: NO_SUCH });
  });

  it('lists the roles an account can be given', async () => {
    const roles = await admin.list('listRoles', 'role');
    expect(roles.map((r) => r['type'])).to.include.members(['Admin', 'DomainAdmin', 'User']);
    const user = roles.find((r) => r['type'] === 'User') as Json;
    expect(await admin.list('listRoles', 'role', { id: String(user['id']) })).to.have.length(1);
    expect(await admin.list('listRoles', 'role', { type: 'user' })).to.have.length(1);
    const page = await admin.ok('listRoles', { page: '2', pagesize: '1' });
    expect(page['count']).to.equal(roles.length);
    expect((page['role'] as Json[])[0]!['id']).to.equal(roles[1]!['id']);
    await admin.fails(431, 'listRoles', { id: NO_SUCH });
    const d = (await admin.ok('createDomain', { name: 'roles-d' }))['domain'] as Json;
    const dadmin = await userAccount(admin, { domainid: String(d['id']), accounttype: '2' });
    expect((await dadmin.client.list('listRoles', 'role')).map((r) => r['type'])).to.not.include('Admin');
    const u = await userAccount(admin);
    await u.client.fails(401, 'listRoles');
  });

  it('disables, enables, locks and renames accounts and users, and updates a user', async () => {
    const u = await userAccount(admin);
    const job = async (command: string, params: Record<string, string>): Promise<Json> => {
      const { jobid } = (await admin.ok(command, params)) as { jobid: string };
      const r = await admin.ok('queryAsyncJobResult', { jobid });
      expect(r['jobstatus'], JSON.stringify(r)).to.equal(1);
      return r['jobresult'] as Json;
    };
    expect((await job('disableAccount', { id: u.accountId, lock: 'false' }))['account']).to.include({ id: u.accountId, state: 'disabled' });
    // A disabled account can neither sign requests nor log in.
    await u.client.fails(401, 'listZones');
    const ui = new SessionClient(admin.port);
    expect((await ui.post('login', { username: u.name, password: `pw-${u.name}` })).status).to.equal(531);
    expect((await admin.ok('enableAccount', { id: u.accountId }))['account']).to.include({ state: 'enabled' });
    expect((await u.client.ok('listZones'))['count']).to.equal(1);
    expect((await admin.ok('updateAccount', { account: u.name, domainid: lab.seed.domainid, newname: `${u.name}-renamed` }))['account'])
      .to.include({ id: u.accountId, name: `${u.name}-renamed` });

    expect((await job('disableUser', { id: u.userId }))['user']).to.include({ id: u.userId, state: 'disabled' });
    await u.client.fails(401, 'listZones');
    expect((await admin.ok('lockUser', { id: u.userId }))['user']).to.include({ state: 'locked' });
    expect((await admin.ok('enableUser', { id: u.userId }))['user']).to.include({ state: 'enabled' });
    // A user updates their own name and time zone; login then reports the zone.
    expect((await u.client.ok('updateUser', { id: u.userId, firstname: 'Ada', timezone: 'Asia/Kolkata' }))['user'])
      .to.include({ firstname: 'Ada', timezone: 'Asia/Kolkata' });
    const login = await new SessionClient(admin.port).login(u.name, `pw-${u.name}`);
    expect(login).to.include({ firstname: 'Ada', timezone: 'Asia/Kolkata', timezoneoffset: '5.5' });
    // A plain user may change no one else, nor any state; no one disables their own account.
    const other = await userAccount(admin);
    // Another account's user is one the caller cannot see: the same 431 as for no user at all.
    await u.client.fails(431, 'updateUser', { id: other.userId, firstname: 'x' });
    await u.client.fails(401, 'enableUser', { id: other.userId });
    await admin.fails(431, 'disableAccount', { id: lab.seed.adminAccountId, lock: 'true' });
    await admin.fails(431, 'enableAccount', { id: NO_SUCH });
  });

  it('disables and enables a primary storage pool; a disabled pool takes no new volume', async () => {
    const pool = lab.seed.storagepoolid;
    expect((await admin.ok('updateStoragePool', { id: pool, enabled: 'false' }))['storagepool']).to.include({ id: pool, state: 'Disabled' });
    const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 });
    const deploy = () => api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid });
    const refused = await deploy();
    expect(refused.jobstatus, JSON.stringify(refused.jobresult)).to.equal(2);
    expect(refused.jobresult['errorcode']).to.equal(533);
    expect(String(refused.jobresult['errortext'])).to.match(/storage/i);
    const updated = (await admin.ok('updateStoragePool', { id: pool, enabled: 'true', name: 'primary-renamed', tags: 'ssd,fast' }))['storagepool'];
    expect(updated).to.include({ state: 'Up', name: 'primary-renamed', tags: 'ssd,fast' });
    await admin.fails(431, 'updateStoragePool', { id: NO_SUCH, enabled: 'true' });
    const u = await userAccount(admin);
    await u.client.fails(401, 'updateStoragePool', { id: pool, enabled: 'false' });
    const again = await deploy();
    expect(again.jobstatus, JSON.stringify(again.jobresult)).to.equal(1);
    api.close();
  });

  it('lists the OS categories of the known OS types, and OS types by category', async () => {
    const types = await admin.list('listOsTypes', 'ostype', { pagesize: '-1' });
    const names = [...new Set(types.map((t) => String(t['oscategoryname'])))].sort();
    const cats = await admin.list('listOsCategories', 'oscategory', { pagesize: '-1' });
    expect(cats.map((c) => c['name'])).to.deep.equal(names);
    const first = cats[0]!;
    const inFirst = await admin.list('listOsTypes', 'ostype', { oscategoryid: String(first['id']), pagesize: '-1' });
    expect(inFirst).to.have.length(types.filter((t) => t['oscategoryname'] === first['name']).length);
    for (const t of inFirst) expect(t).to.include({ oscategoryname: first['name'], oscategoryid: first['id'] });
    // Names match regardless of case; the id is the one derived from the name.
    expect((await admin.list('listOsCategories', 'oscategory', { name: String(first['name']).toUpperCase() }))[0]!['id']).to.equal(first['id']);
    const paged = await admin.ok('listOsCategories', { page: '1', pagesize: '1' });
    expect(paged['count']).to.equal(cats.length);
    expect(paged['oscategory']).to.have.length(1);
    await admin.fails(431, 'listOsCategories', { id: NO_SUCH });
    await admin.fails(431, 'listOsTypes', { oscategoryid: NO_SUCH });
  });

  it("archives and deletes events: a user only its own, by id or type", async () => {
    const u = await userAccount(admin);
    for (const name of ['n1', 'n2']) {
      await u.client.ok('createNetwork', { name, displaytext: name, zoneid: lab.seed.zoneid, networkofferingid: lab.seed.networkofferingid });
    }
    const mine = await u.client.list('listEvents', 'event');
    expect(mine.length).to.be.at.least(2);
    const adminEvents = await admin.list('listEvents', 'event', { listall: 'true', account: 'admin', domainid: lab.seed.domainid, pagesize: '-1' });
    expect(adminEvents.length).to.be.greaterThan(0);
    // Another account's event is one the user cannot see: 431, and nothing changes.
    await u.client.fails(431, 'archiveEvents', { ids: String(adminEvents[0]!['id']) });
    await u.client.fails(431, 'deleteEvents', {});
    expect(await u.client.ok('archiveEvents', { ids: String(mine[0]!['id']) })).to.deep.equal({ success: true });
    expect((await u.client.list('listEvents', 'event')).map((e) => e['id'])).to.not.include(mine[0]!['id']);
    const type = 'NETWORK.CREATE';
    expect(await u.client.ok('deleteEvents', { type: type.toLowerCase() })).to.deep.equal({ success: true });
    expect((await u.client.list('listEvents', 'event')).filter((e) => e['type'] === type)).to.deep.equal([]);
    // The admin's events of that type are untouched.
    const stillThere = await admin.list('listEvents', 'event', { listall: 'true', account: 'admin', domainid: lab.seed.domainid, pagesize: '-1' });
    expect(stillThere.length).to.equal(adminEvents.length);
  });

  it('deletes an empty domain, and refuses one that still has accounts or sub-domains', async () => {
    const parent = (await admin.ok('createDomain', { name: 'to-delete' }))['domain'] as Json;
    const child = (await admin.ok('createDomain', { name: 'inner', parentdomainid: String(parent['id']) }))['domain'] as Json;
    const u = await userAccount(admin, { domainid: String(child['id']) });
    const job = async (params: Record<string, string>): Promise<Json> => {
      const { jobid } = (await admin.call('deleteDomain', params)).body as { jobid: string };
      return admin.ok('queryAsyncJobResult', { jobid });
    };
    expect(await admin.fails(536, 'deleteDomain', { id: String(parent['id']) })).to.match(/1 sub-domain\(s\)/);
    expect(await admin.fails(536, 'deleteDomain', { id: String(child['id']) })).to.match(/1 account\(s\)/);
    await u.client.fails(401, 'deleteDomain', { id: String(child['id']) });
    await admin.fails(531, 'deleteDomain', { id: lab.seed.domainid });
    await admin.fails(431, 'deleteDomain', { id: NO_SUCH });
    const empty = (await admin.ok('createDomain', { name: 'empty' }))['domain'] as Json;
    const done = await job({ id: String(empty['id']) });
    expect(done).to.include({ jobstatus: 1 });
    expect((await admin.list('listDomains', 'domain', { listall: 'true' })).map((d) => d['id'])).to.not.include(empty['id']);
  });

  it("lists a role's rules as they are enforced: one allow rule per command the role may call", async () => {
    const roles = await admin.list('listRoles', 'role');
    const roleOf = (type: string): string => String(roles.find((r) => r['type'] === type)!['id']);
    const rules = async (type: string): Promise<string[]> =>
      (await admin.list('listRolePermissions', 'rolepermission', { roleid: roleOf(type) })).map((r) => String(r['rule']));
    const user = await rules('User');
    const adminRules = await rules('Admin');
    expect(user).to.include.members(['listVirtualMachines', 'deployVirtualMachine', 'listApis', 'listVPCs']).and.not.include('createZone');
    expect(adminRules).to.include.members(['createZone', 'listConfigurations', 'listRolePermissions']);
    // What a user's listApis offers is allowed by the User role's rules (and login/logout are not rules).
    const u = await userAccount(admin);
    const offered = (await u.client.list('listApis', 'api')).map((a) => String(a['name'])).filter((n) => n !== 'login' && n !== 'logout');
    expect(user).to.include.members(offered);
    const [rule] = await admin.list('listRolePermissions', 'rolepermission', { roleid: roleOf('User') });
    expect(rule).to.include({ roleid: roleOf('User'), permission: 'allow' });
    await admin.fails(431, 'listRolePermissions', { roleid: NO_SUCH });
    const d = (await admin.ok('createDomain', { name: 'perm-d' }))['domain'] as Json;
    const dadmin = await userAccount(admin, { domainid: String(d['id']), accounttype: '2' });
    await dadmin.client.fails(431, 'listRolePermissions', { roleid: roleOf('Admin') });
    await u.client.fails(401, 'listRolePermissions', {});
  });

  it('renames a domain: its subtree follows, and its users still log in with the new path', async () => {
    const top = (await admin.ok('createDomain', { name: 'dept' }))['domain'] as Json;
    const sub = (await admin.ok('createDomain', { name: 'team', parentdomainid: String(top['id']) }))['domain'] as Json;
    const u = await userAccount(admin, { domainid: String(sub['id']) });
    const renamed = (await admin.ok('updateDomain', { id: String(top['id']), name: 'division', networkdomain: 'div.example' }))['domain'];
    expect(renamed).to.include({ id: top['id'], name: 'division', networkdomain: 'div.example' });
    const [child] = await admin.list('listDomains', 'domain', { id: String(sub['id']) });
    expect(child!['path']).to.equal('ROOT/division/team');
    expect((await new SessionClient(admin.port).login(u.name, `pw-${u.name}`, '/division/team'))['account']).to.equal(u.name);
    expect((await u.client.ok('listZones'))['count']).to.equal(1);
    const other = (await admin.ok('createDomain', { name: 'other-dept' }))['domain'] as Json;
    await admin.fails(431, 'updateDomain', { id: String(other['id']), name: 'division' });
    await admin.fails(431, 'updateDomain', { id: lab.seed.domainid, name: 'TOP' });
    const dadmin = await userAccount(admin, { domainid: String(top['id']), accounttype: '2' });
    await dadmin.client.fails(531, 'updateDomain', { id: String(top['id']), name: 'mine' });
    expect((await dadmin.client.ok('updateDomain', { id: String(sub['id']), name: 'squad' }))['domain']).to.include({ name: 'squad' });
  });

  it('puts a primary storage pool into maintenance once its VMs are stopped, and takes it out again', async () => {
    const pool = lab.seed.storagepoolid;
    const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 });
    const deployed = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid });
    expect(deployed.jobstatus, JSON.stringify(deployed.jobresult)).to.equal(1);
    const vmid = String((deployed.jobresult['virtualmachine'] as Json)['id']);
    expect(await admin.fails(536, 'enableStorageMaintenance', { id: pool })).to.match(/not stopped; stop them first/);
    // Every VM with a volume on the pool (earlier tests deployed some) must be stopped.
    for (const vm of await admin.list('listVirtualMachines', 'virtualmachine', { listall: 'true', state: 'Running' })) {
      expect((await api.job('stopVirtualMachine', { id: String(vm['id']) })).jobstatus).to.equal(1);
    }
    const entered = await api.job('enableStorageMaintenance', { id: pool });
    expect(entered.jobresult['storagepool']).to.include({ id: pool, state: 'Maintenance' });
    const start = await api.job('startVirtualMachine', { id: vmid });
    expect(start.jobstatus).to.equal(2);
    expect(String(start.jobresult['errortext'])).to.match(/Maintenance; the VM cannot start/);
    await admin.fails(431, 'enableStorageMaintenance', { id: pool });
    const left = await api.job('cancelStorageMaintenance', { id: pool });
    expect(left.jobresult['storagepool']).to.include({ state: 'Up' });
    expect((await api.job('startVirtualMachine', { id: vmid })).jobstatus).to.equal(1);
    await admin.fails(431, 'cancelStorageMaintenance', { id: pool });
    const u = await userAccount(admin);
    await u.client.fails(401, 'enableStorageMaintenance', { id: pool });
    api.close();
  });

  it('deletes an image store, but not the last one of a zone that still has templates', async () => {
    const store = lab.seed.imagestoreid;
    expect(await admin.fails(536, 'deleteImageStore', { id: store })).to.match(/last image store of its zone/);
    const added = (await admin.ok('addImageStore', { name: 'second', url: 'nfs://192.168.56.7/export/secondary2', provider: 'NFS',
      zoneid: lab.seed.zoneid }))['imagestore'] as Json;
    expect(await admin.ok('deleteImageStore', { id: store })).to.deep.equal({ success: true });
    expect((await admin.list('listImageStores', 'imagestore')).map((s) => s['id'])).to.deep.equal([added['id']]);
    await admin.fails(431, 'deleteImageStore', { id: store });
    const u = await userAccount(admin);
    await u.client.fails(401, 'deleteImageStore', { id: String(added['id']) });
  });

  it('deletes a user: its keys and sessions stop working; an account keeps its last user', async () => {
    const u = await userAccount(admin);
    const second = (await admin.ok('createUser', { account: u.name, domainid: lab.seed.domainid, username: `${u.name}-2`,
      password: 'pw2', email: 'two@example.com', firstname: 'Two', lastname: 'User' }))['user'] as Json;
    const keys = (await admin.ok('registerUserKeys', { id: String(second['id']) }))['userkeys'] as { apikey: string; secretkey: string };
    const client = admin.as({ apiKey: keys.apikey, secretKey: keys.secretkey });
    const ui = new SessionClient(admin.port);
    await ui.login(`${u.name}-2`, 'pw2');
    expect((await client.ok('listZones'))['count']).to.equal(1);
    expect(await admin.ok('deleteUser', { id: String(second['id']) })).to.deep.equal({ success: true });
    await client.fails(401, 'listZones');
    expect((await ui.get('listZones')).status).to.equal(401);
    expect((await new SessionClient(admin.port).post('login', { username: `${u.name}-2`, password: 'pw2' })).status).to.equal(531);
    expect(await admin.fails(431, 'deleteUser', { id: u.userId })).to.match(/last user of its account/);
    expect(await admin.fails(431, 'deleteUser', { id: lab.seed.adminUserId })).to.match(/own user/);
    await u.client.fails(401, 'deleteUser', { id: u.userId });
    await admin.fails(431, 'deleteUser', { id: NO_SUCH });
  });

  it('deletes an account that owns nothing any more, with its users; one that still owns resources is refused', async () => {
    const u = await userAccount(admin);
    await u.client.ok('createSSHKeyPair', { name: 'left-behind' });
    expect(await admin.fails(536, 'deleteAccount', { id: u.accountId })).to.match(/still owns 1 SSH key pairs; delete them first/);
    await u.client.ok('deleteSSHKeyPair', { name: 'left-behind' });
    await u.client.fails(401, 'deleteAccount', { id: u.accountId });
    const { jobid } = (await admin.ok('deleteAccount', { id: u.accountId })) as { jobid: string };
    expect(await admin.ok('queryAsyncJobResult', { jobid })).to.include({ jobstatus: 1 });
    expect((await admin.list('listAccounts', 'account', { listall: 'true' })).map((a) => a['id'])).to.not.include(u.accountId);
    await u.client.fails(401, 'listZones');
    expect((await new SessionClient(admin.port).post('login', { username: u.name, password: `pw-${u.name}` })).status).to.equal(531);
    expect(await admin.fails(431, 'deleteAccount', { id: lab.seed.adminAccountId })).to.match(/cannot delete itself/);
    await admin.fails(431, 'deleteAccount', { id: NO_SUCH });
  });
});
