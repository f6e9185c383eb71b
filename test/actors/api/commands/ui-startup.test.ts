/**
 * The stock web UI's start-up, replayed as a client: the login page's calls before login, a logout
 * racing the login, the calls that load the user's info and menus (listApis), the admin dashboard, and
 * then every list command listApis offers (each one a menu page the UI may show), for an admin and for
 * a plain user, with the parameters the UI's list views send. Each must answer as the UI needs.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { LabClient, testLab, userAccount } from './lab-client.js';
import { SessionClient } from './session-client.js';

/** Required parameters of list commands, as the UI's list views fill them in. */
const REQUIRED: Readonly<Record<string, Record<string, string>>> = {
  listTemplates: { templatefilter: 'self' },
  listIsos: { isofilter: 'self' },
};

/** Lists of one resource's parts (a tab of its detail page, not a menu page): they need that resource's id. */
const DETAIL_TABS: ReadonlySet<string> = new Set(['listLoadBalancerRuleInstances', 'listProjectAccounts', 'listNics',
  'getVirtualMachineUserData', 'listDetailOptions']);

describe('api: the web UI start-up sequence, replayed', function () {
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

  async function startUp(username: string, password: string): Promise<{ ui: SessionClient; apis: Map<string, Record<string, unknown>> }> {
    const ui = new SessionClient(admin.port);
    // The login page, before anyone logs in: a 401 on the first two makes the UI log out and redirect.
    expect((await ui.get('listGuiThemes', { listonlydefaulttheme: 'true' })).status).to.equal(200);
    expect((await ui.get('listOauthProvider')).status).to.equal(200);
    expect((await ui.get('listIdps')).status).to.equal(401);
    expect((await ui.get('forgotPassword')).status).to.equal(401);

    // logout, then login without waiting for it: whichever is answered last, the session must live.
    const [out, login] = await Promise.all([ui.get('logout'), ui.login(username, password)]);
    expect(out.status).to.equal(431);
    expect(out.raw.headers['set-cookie']).to.equal(undefined);
    expect([...ui.cookies.keys()]).to.include.members(['JSESSIONID', 'sessionkey']);
    // The UI stores these and JSON-parses the offset.
    expect(login['timezone']).to.be.a('string');
    expect(JSON.parse(String(login['timezoneoffset']))).to.be.a('number');
    expect(login).to.include.keys('firstname', 'lastname', 'userid', 'domainid', 'account', 'type', 'timeout');

    // GetInfo: zones, the API list (menus), the user, capabilities, LDAP, Cloudian.
    expect(await ui.ok('listZones')).to.have.property('zone');
    const listed = (await ui.ok('listApis'))['api'] as Record<string, unknown>[];
    const apis = new Map(listed.map((a) => [String(a['name']), a]));
    for (const a of listed) {
      for (const p of a['params'] as Record<string, unknown>[]) expect(p).to.include.keys('name', 'type', 'required', 'description');
      expect(a['response']).to.be.an('array');
    }
    const user = ((await ui.ok('listUsers', { username, listall: 'true' }))['user'] as Record<string, unknown>[])[0]!;
    expect(user).to.include({ username });
    expect(user).to.include.keys('firstname', 'lastname');
    expect(await ui.ok('listCapabilities')).to.have.property('capability');
    const ldap = await ui.get('listLdapConfigurations');
    expect(ldap.status).to.equal(200);
    expect(Number(ldap.json['ldapconfigurationresponse']!['count'] ?? 0) > 0).to.equal(false);
    expect((await ui.get('cloudianIsEnabled')).status).to.equal(200);
    return { ui, apis };
  }

  /** Every list command listApis offers, called as the UI's list view calls it, answers 200 with a list. */
  async function openEveryPage(ui: SessionClient, apis: Map<string, Record<string, unknown>>): Promise<string[]> {
    const opened: string[] = [];
    for (const [name, api] of apis) {
      if (!name.startsWith('list') || name === 'listApis') continue;
      const params = api['params'] as { name: string; required: boolean }[];
      const filled = REQUIRED[name] ?? {};
      const missing = params.filter((p) => p.required && filled[p.name] === undefined);
      if (DETAIL_TABS.has(name)) continue;
      expect(missing.map((p) => p.name), `${name} needs parameters the test does not know`).to.deep.equal([]);
      const r = await ui.get(name, { listall: 'true', page: '1', pagesize: '20', ...filled });
      expect(r.status, `${name}: ${r.raw.body}`).to.equal(200);
      const body = Object.values(r.json)[0]!;
      if (Object.keys(body).length > 0 && body['count'] !== undefined) expect(body['count'], name).to.be.a('number');
      opened.push(name);
    }
    return opened;
  }

  it('logs an admin in and opens the dashboard and every page of the menus', async () => {
    const { ui, apis } = await startUp('admin', 'password');
    // The pages that exist only when these are listed.
    expect([...apis.keys()]).to.include.members(['listVirtualMachinesMetrics', 'listZonesMetrics', 'listHostsMetrics', 'listVolumesMetrics',
      'listClustersMetrics', 'listStoragePoolsMetrics', 'listManagementServersMetrics', 'listConfigurations', 'listAlerts']);
    // Features cloudstackd does not have stay out of the menus.
    for (const absent of ['listVPCs', 'listKubernetesClusters', 'listVpnGateways', 'listBackups', 'listSystemVms', 'listRouters',
      'listLdapConfigurations', 'cloudianIsEnabled', 'listGuiThemes', 'listOauthProvider']) expect([...apis.keys()]).to.not.include(absent);

    // The admin dashboard (CapacityDashboard): counts and capacity of the first zone, alerts, events.
    const zoneid = lab.seed.zoneid;
    expect((await ui.ok('listCapacity', { zoneid, fetchlatest: 'false' }))['capacity']).to.be.an('array');
    expect((await ui.ok('listPods', { zoneid }))['count']).to.equal(1);
    expect((await ui.ok('listClusters', { zoneid }))['count']).to.equal(1);
    expect((await ui.ok('listHosts', { zoneid, listall: 'true', details: 'min', type: 'routing', page: '1', pagesize: '1' }))['count']).to.equal(2);
    expect(await ui.ok('listHosts', { zoneid, listall: 'true', details: 'min', type: 'routing', state: 'alert', page: '1', pagesize: '1' }))
      .to.deep.equal({});
    expect((await ui.ok('listStoragePools', { zoneid }))['count']).to.equal(1);
    expect(await ui.ok('listSystemVms', { zoneid })).to.deep.equal({});
    expect(await ui.ok('listRouters', { zoneid, listall: 'true' })).to.deep.equal({});
    expect((await ui.get('listVirtualMachines', { zoneid, listall: 'true', projectid: '-1', details: 'min', page: '1', pagesize: '1' })).status).to.equal(200);
    expect((await ui.get('listAlerts', { page: '1', pagesize: '8', listall: 'true' })).status).to.equal(200);
    expect((await ui.get('listEvents', { page: '1', pagesize: '8', listall: 'true' })).status).to.equal(200);

    const opened = await openEveryPage(ui, apis);
    expect(opened).to.include.members(['listVirtualMachinesMetrics', 'listConfigurations', 'listRoles', 'listHypervisors']);
  });

  it('logs a plain user in and opens every page its menus offer', async () => {
    const u = await userAccount(admin);
    const { ui, apis } = await startUp(u.name, `pw-${u.name}`);
    expect([...apis.keys()]).to.include('listVirtualMachinesMetrics').and.not.include.members(['listHostsMetrics', 'listConfigurations']);
    // Called by the deploy wizard and the network forms whatever listApis says.
    for (const command of ['listVPCs', 'listNetworkServiceProviders']) expect((await ui.get(command, { listall: 'true' })).status).to.equal(200);
    expect((await ui.get('listVirtualMachines', { listall: 'true', projectid: '-1' })).status).to.equal(200);
    const opened = await openEveryPage(ui, apis);
    expect(opened).to.include.members(['listVolumesMetrics', 'listSSHKeyPairs', 'listUserData', 'listNetworks']);
  });
});
