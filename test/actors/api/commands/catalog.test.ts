/**
 * Offerings, templates, ISOs, OS types, SSH keys and events on a real lab.
 */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { LabClient, testLab, userAccount } from './lab-client.js';

/** An OpenSSH ed25519 public key line for registerSSHKeyPair. */
function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} test@lab`;
}

describe('api/commands: offerings, images, ssh keys, events', function () {
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

  it('lists the seeded offerings and creates new ones', async () => {
    const so = await admin.list('listServiceOfferings', 'serviceoffering');
    expect(so.map((o) => o['name'])).to.include.members(['Small Instance', 'Medium Instance', 'Large Instance HA']);
    expect(so.find((o) => o['offerha'] === true)).to.include({ id: lab.seed.haServiceOfferingId });
    for (const o of so) expect(o).to.include.keys('id', 'name', 'cpunumber', 'memory');
    const created = (await admin.ok('createServiceOffering', { name: 'Tiny', cpunumber: '1', cpuspeed: '100', memory: '128',
      storagetype: 'LOCAL' }))['serviceoffering'];
    expect(created).to.include({ name: 'Tiny', displaytext: 'Tiny', cpunumber: 1, memory: 128, storagetype: 'local', iscustomized: false });
    const disk = (await admin.ok('createDiskOffering', { name: 'Huge', disksize: '500' }))['diskoffering'];
    expect(disk).to.include({ name: 'Huge', disksize: 500, iscustomized: false });
    expect((await admin.list('listDiskOfferings', 'diskoffering', { name: 'Huge' }))).to.have.length(1);
    const nets = await admin.list('listNetworkOfferings', 'networkoffering', { guestiptype: 'isolated' });
    expect(nets[0]).to.include({ id: lab.seed.networkofferingid, guestiptype: 'Isolated', forvpc: false });
    expect(nets[0]!['service']).to.be.an('array').that.is.not.empty;
    await admin.fails(431, 'createServiceOffering', { name: 'Bad', cpunumber: '1', memory: '128', storagetype: 'tape' });
    const u = await userAccount(admin);
    await u.client.fails(401, 'createServiceOffering', { name: 'Mine', cpunumber: '1', memory: '128' });
    await u.client.fails(531, 'listServiceOfferings', { issystem: 'true' });
    expect((await u.client.list('listServiceOfferings', 'serviceoffering')).length).to.equal(so.length + 1);
  });

  it('lists the built-in template and OS types, registers templates by zone or across zones, and scopes them', async () => {
    const featured = await admin.list('listTemplates', 'template', { templatefilter: 'featured' });
    expect(featured.map((t) => t['id'])).to.deep.equal([lab.seed.templateid]);
    expect(featured[0]).to.include({ isready: true, templatetype: 'BUILTIN', hypervisor: 'Simulator', zoneid: lab.seed.zoneid });
    expect(featured[0]).to.include.keys('name', 'format', 'ostypename', 'displaytext');
    await admin.fails(431, 'listTemplates', {});
    await admin.fails(431, 'listTemplates', { templatefilter: 'bogus' });
    const os = await admin.list('listOsTypes', 'ostype');
    expect(os.length).to.equal(lab.seed.ostypeids.length);
    const u = await userAccount(admin);
    const reg = await u.client.ok('registerTemplate', { name: 'mine', format: 'qcow2', hypervisor: 'simulator', url: 'http://example.com/t.qcow2',
      zoneid: lab.seed.zoneid, ostypeid: lab.seed.ostypeids[1]!, 'details[0].key': 'value' });
    expect(reg['count']).to.equal(1);
    const t = (reg['template'] as Record<string, unknown>[])[0]!;
    expect(t).to.include({ name: 'mine', displaytext: 'mine', format: 'QCOW2', hypervisor: 'Simulator', isready: false, account: u.name,
      status: 'Download Pending', ispublic: false });
    const all = await u.client.ok('registerTemplate', { name: 'everywhere', format: 'RAW', hypervisor: 'Simulator', url: 'http://e/x.raw', zoneids: '-1' });
    expect(all['count']).to.equal(1);
    expect((all['template'] as Record<string, unknown>[])[0]).to.include({ crossZones: true });
    await u.client.fails(431, 'registerTemplate', { name: 'x', format: 'RAW', hypervisor: 'Simulator', url: 'http://e/x' });
    await u.client.fails(431, 'registerTemplate', { name: 'x', format: 'RAW', hypervisor: 'Simulator', url: 'http://e/x', zoneids: `-1,${lab.seed.zoneid}` });
    await u.client.fails(431, 'registerTemplate', { name: 'x', format: 'EXE', hypervisor: 'Simulator', url: 'http://e/x', zoneid: lab.seed.zoneid });
    await u.client.fails(531, 'registerTemplate', { name: 'x', format: 'RAW', hypervisor: 'Simulator', url: 'http://e/x', zoneid: lab.seed.zoneid, isfeatured: 'true' });
    const self = await u.client.list('listTemplates', 'template', { templatefilter: 'self' });
    expect(self.map((x) => x['name'])).to.have.members(['mine', 'everywhere']);
    // Not ready yet, so not executable; the admin's own (self) list does not show the user's templates.
    expect((await u.client.list('listTemplates', 'template', { templatefilter: 'executable' })).map((x) => x['id'])).to.deep.equal([lab.seed.templateid]);
    expect(await admin.list('listTemplates', 'template', { templatefilter: 'self' })).to.deep.equal([]);
    expect(await admin.list('listIsos', 'iso')).to.deep.equal([]);
  });

  it('creates, registers, lists and deletes SSH key pairs per account', async () => {
    const u = await userAccount(admin);
    const created = (await u.client.ok('createSSHKeyPair', { name: 'k1' }))['keypair'] as Record<string, unknown>;
    expect(created['privatekey']).to.match(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(created['fingerprint']).to.match(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const registered = (await u.client.ok('registerSSHKeyPair', { name: 'k2', publickey: sshPublicKey() }, { post: true }))['keypair'];
    expect(registered).to.include({ name: 'k2', account: u.name }).and.not.have.property('privatekey');
    const listed = await u.client.list('listSSHKeyPairs', 'sshkeypair');
    expect(listed.map((k) => k['name'])).to.have.members(['k1', 'k2']);
    for (const k of listed) expect(k).to.not.have.property('privatekey');
    expect(await u.client.fails(431, 'createSSHKeyPair', { name: 'k1' })).to.match(/already exists/);
    await u.client.fails(431, 'registerSSHKeyPair', { name: 'k3', publickey: 'not a key' });
    // The admin does not see the user's keys without naming the account, and sees them when it does.
    expect(await admin.list('listSSHKeyPairs', 'sshkeypair')).to.deep.equal([]);
    expect(await admin.list('listSSHKeyPairs', 'sshkeypair', { account: u.name, domainid: lab.seed.domainid })).to.have.length(2);
    expect(await u.client.ok('deleteSSHKeyPair', { name: 'k1' })).to.deep.equal({ success: true });
    await u.client.fails(431, 'deleteSSHKeyPair', { name: 'k1' });
    expect((await u.client.list('listSSHKeyPairs', 'sshkeypair')).map((k) => k['name'])).to.deep.equal(['k2']);
  });

  it('lists events by owner, type and page', async () => {
    const all = await admin.ok('listEvents', { listall: 'true', type: 'HOST.ADD' });
    expect(all['count']).to.equal(lab.seed.hostids.length);
    const page = await admin.ok('listEvents', { listall: 'true', type: 'HOST.ADD', page: '2', pagesize: '1' });
    expect(page['count']).to.equal(lab.seed.hostids.length);
    expect(page['event']).to.have.length(1);
    const u = await userAccount(admin);
    expect(await u.client.list('listEvents', 'event', { listall: 'true' })).to.deep.equal([]);
  });

  it('describes the server in listCapabilities', async () => {
    const cap = (await admin.ok('listCapabilities'))['capability'];
    expect(cap).to.include({ cloudstackversion: '4.20.0.0', securitygroupsenabled: false, dynamicrolesenabled: true, defaultuipagesize: 500 });
  });
});
