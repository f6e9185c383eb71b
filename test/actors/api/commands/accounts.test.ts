/**
 * Domains, accounts, users and keys on a real lab: creation, who sees what (user / domain admin / root
 * admin), keys that work at once and old keys that stop working, and the error codes of the reference.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { formPost, httpCall } from '../fixtures.js';
import { LabClient, testLab, userAccount } from './lab-client.js';

describe('api/commands: accounts, domains, users, keys', function () {
  this.timeout(20_000);
  let lab: Lab;
  let admin: LabClient;

  before(async () => {
    lab = await testLab();
    admin = new LabClient(lab);
  });

  after(async () => {
    await lab.stop();
  });

  it('creates a domain tree and lists it by scope', async () => {
    const d1 = (await admin.ok('createDomain', { name: 'd1' }))['domain'] as Record<string, unknown>;
    expect(d1).to.include({ name: 'd1', level: 1, path: 'ROOT/d1', haschild: false });
    const d11 = (await admin.ok('createDomain', { name: 'd11', parentdomainid: String(d1['id']) }))['domain'] as Record<string, unknown>;
    expect(d11).to.include({ path: 'ROOT/d1/d11', parentdomainid: d1['id'] });
    // Without listall the root admin sees its own domain only; with it the whole tree.
    expect((await admin.list('listDomains', 'domain')).map((d) => d['path'])).to.deep.equal(['ROOT']);
    const all = await admin.list('listDomains', 'domain', { listall: 'true' });
    expect(all.map((d) => d['path'])).to.include.members(['ROOT', 'ROOT/d1', 'ROOT/d1/d11']);
    expect(await admin.fails(431, 'createDomain', { name: 'd1' })).to.match(/already exists/);
  });

  it('creates accounts, refuses one without accounttype or roleid, and pages listAccounts', async () => {
    const missing = await admin.fails(431, 'createAccount', { username: 'x', password: 'p', email: 'e', firstname: 'f' });
    expect(missing).to.equal('Unable to execute API command createaccount due to missing parameter lastname');
    const neither = await admin.fails(431, 'createAccount', { username: 'x', password: 'p', email: 'e', firstname: 'f', lastname: 'l' });
    expect(neither).to.equal('Neither account type and role ID are not provided');
    const a = await userAccount(admin);
    const b = await userAccount(admin);
    const page1 = await admin.ok('listAccounts', { listall: 'true', page: '1', pagesize: '2' });
    const total = page1['count'] as number;
    expect(total).to.be.at.least(3); // admin + a + b (+ system)
    expect(page1['account']).to.have.length(2);
    const names = new Set<string>();
    for (let p = 1; p <= Math.ceil(total / 2); p++) {
      const body = await admin.ok('listAccounts', { listall: 'true', page: String(p), pagesize: '2' });
      expect(body['count']).to.equal(total);
      for (const acc of body['account'] as { name: string }[]) names.add(acc.name);
    }
    expect(names.size).to.equal(total);
    expect([...names]).to.include.members([a.name, b.name, 'admin']);
    const own = await a.client.list('listAccounts', 'account', { listall: 'true' });
    expect(own.map((x) => x['name'])).to.deep.equal([a.name]);
    expect(own[0]!['user']).to.be.an('array').with.length(1);
  });

  it('keeps users to their own account and domain admins to their subtree', async () => {
    const d = (await admin.ok('createDomain', { name: 'tenants' }))['domain'] as { id: string };
    const other = (await admin.ok('createDomain', { name: 'others' }))['domain'] as { id: string };
    const dadmin = await userAccount(admin, { domainid: d.id, accounttype: '2' });
    const inside = await userAccount(admin, { domainid: d.id });
    const outside = await userAccount(admin, { domainid: other.id });
    const seen = (await dadmin.client.list('listAccounts', 'account', { listall: 'true' })).map((x) => x['name']);
    expect(seen).to.include.members([dadmin.name, inside.name]).and.not.include(outside.name);
    // A user asking about another account's user gets the same 431 as for a user that does not exist.
    const t1 = await inside.client.fails(431, 'getUserKeys', { id: outside.userId });
    const t2 = await inside.client.fails(431, 'getUserKeys', { id: '00000000-0000-4000-8000-000000000000' });
    expect(t1.replace(outside.userId, 'X')).to.equal(t2.replace('00000000-0000-4000-8000-000000000000', 'X'));
    // Admin-only commands are refused for users with 401.
    await inside.client.fails(401, 'createDomain', { name: 'nope' });
    await inside.client.fails(401, 'createAccount', { username: 'n', password: 'p', email: 'e', firstname: 'f', lastname: 'l', accounttype: '0' });
    // A domain admin cannot create accounts outside its subtree (531).
    await dadmin.client.fails(531, 'createAccount', { username: 'n', password: 'p', email: 'e', firstname: 'f', lastname: 'l',
      accounttype: '0', domainid: other.id });
  });

  it('creates users in an account named with domainid, and lists them', async () => {
    const a = await userAccount(admin);
    const u = (await admin.ok('createUser', { account: a.name, domainid: lab.seed.domainid, username: `${a.name}-2`, password: 'pw',
      email: 'e@x', firstname: 'F', lastname: 'L' }))['user'] as Record<string, unknown>;
    expect(u).to.include({ username: `${a.name}-2`, account: a.name, accountid: a.accountId });
    const users = await admin.list('listUsers', 'user', { accountid: a.accountId });
    expect(users.map((x) => x['username'])).to.have.members([a.name, `${a.name}-2`]);
    expect(await admin.fails(431, 'createUser', { account: 'no-such-account', username: 'z', password: 'p', email: 'e',
      firstname: 'f', lastname: 'l' })).to.match(/Unable to find account no-such-account/);
  });

  it('registers keys that work at once; the old keys stop working; getUserKeys returns the pair', async () => {
    const a = await userAccount(admin);
    expect((await a.client.list('listZones', 'zone')).length).to.equal(1);
    const fresh = (await a.client.ok('registerUserKeys', { id: a.userId }))['userkeys'] as { apikey: string; secretkey: string };
    expect(fresh.apikey).to.not.equal(a.client.keys.apiKey);
    // The old key was cached by the request above; re-registering drops it at once.
    await a.client.fails(401, 'listZones');
    const renewed = a.client.as({ apiKey: fresh.apikey, secretKey: fresh.secretkey });
    const got = (await renewed.ok('getUserKeys', { id: a.userId }))['userkeys'];
    expect(got).to.deep.equal({ apikey: fresh.apikey, secretkey: fresh.secretkey });
  });

  it('answers getUserKeys for a user without keys with an empty userkeys object', async () => {
    const a = await userAccount(admin);
    const u = (await admin.ok('createUser', { account: a.name, username: `${a.name}-nokeys`, password: 'pw', email: 'e',
      firstname: 'F', lastname: 'L' }))['user'] as { id: string };
    expect(await admin.ok('getUserKeys', { id: u.id })).to.deep.equal({ userkeys: {} });
  });

  it('logs in with the seeded admin password (POST), serves the session, and logs out', async () => {
    const port = admin.port;
    const bad = await formPost(port, '/client/api', 'command=login&response=json&username=admin&password=wrong');
    expect(bad.status).to.equal(531);
    const viaGet = await httpCall(port, { path: '/client/api?command=login&response=json&username=admin&password=password' });
    expect(viaGet.status).to.equal(405);
    const ok = await formPost(port, '/client/api', 'command=login&response=json&username=admin&password=password&domain=%2F');
    expect(ok.status).to.equal(200);
    const login = JSON.parse(ok.body).loginresponse as Record<string, string>;
    expect(login).to.include({ username: 'admin', userid: lab.seed.adminUserId, account: 'admin', type: '1' });
    const cookie = (ok.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const key = encodeURIComponent(login['sessionkey']!);
    const zones = await httpCall(port, { path: `/client/api?command=listZones&response=json&sessionkey=${key}`, headers: { cookie } });
    expect(zones.status).to.equal(200);
    expect(JSON.parse(zones.body).listzonesresponse.count).to.equal(1);
    const out = await httpCall(port, { path: `/client/api?command=logout&response=json&sessionkey=${key}`, headers: { cookie } });
    expect(out.status).to.equal(200);
    const after = await httpCall(port, { path: `/client/api?command=listZones&response=json&sessionkey=${key}`, headers: { cookie } });
    expect(after.status).to.equal(401);
  });
});
