/**
 * Issue 16: a deploy without networkids in an Advanced zone puts the VM on the owner's default network,
 * as CloudStack's VmCreationNetworkSelectionServiceImpl.getDefaultNetwork does — the owner's one
 * isolated network, or a new `<account>-network` from the offering with availability Required — and
 * refuses (431) when the owner has several or no such offering exists. Driven by the npm `csclient`
 * client on a real lab; the invariants (no Running VM without a NIC and its address among them) hold
 * after every scenario.
 */
import { expect } from 'chai';
import { sleep, waitFor } from '../helpers/wait.js';
import { csclient, failure, type Client, type Response } from './csclient.js';
import { startTestLab, type TestLab } from './lab-fixture.js';

type Nic = { networkid: string; networkname: string; ipaddress?: string; isdefault: boolean };
type Vm = { id: string; name: string; state: string; account: string; nic: Nic[] };
type Network = { id: string; name: string; displaytext: string; account: string; type: string; state: string; acltype: string;
  networkofferingid: string; networkofferingavailability: string; vlan?: string };

const REQUIRED_MISSING = 'Unable to find network offering with availability=Required to automatically create the network as a ' +
  'part of vm creation';

describe('lifecycle: deploy without networkids (the default network)', function () {
  this.timeout(30_000);
  let t: TestLab;
  let admin: Client;

  before(async () => {
    t = await startTestLab({ hosts: 3 });
    admin = await csclient(t.lab.endpoint, t.lab);
  });

  after(async () => { await t?.stop(); });

  afterEach(async () => {
    expect(await t.violations()).to.deep.equal([]);
  });

  /** A fresh plain-user account with its own API keys, through the API as an admin would make it. */
  async function newUser(username: string): Promise<Client> {
    const acct = (await admin.sync('createAccount', { username, password: 'secret-16', email: `${username}@example.com`,
      firstname: username, lastname: 'User', accounttype: 0 }))['account'] as { user: { id: string }[] };
    const keys = (await admin.sync('registerUserKeys', { id: acct.user[0]!.id }))['userkeys'] as { apikey: string; secretkey: string };
    return csclient(t.lab.endpoint, { apiKey: keys.apikey, secretKey: keys.secretkey });
  }

  const base = (): Record<string, string> => ({ zoneid: t.lab.seed.zoneid, serviceofferingid: t.lab.seed.serviceofferings.small,
    templateid: t.lab.seed.templateid });
  const vmOf = (job: { jobresult: Response }): Vm => job.jobresult['virtualmachine'] as Vm;
  const networksOf = async (c: Client, params: Record<string, unknown> = {}): Promise<Network[]> =>
    ((await c.sync('listNetworks', params))['network'] ?? []) as Network[];
  const vmsOf = async (c: Client, params: Record<string, unknown> = {}): Promise<Vm[]> =>
    ((await c.sync('listVirtualMachines', params))['virtualmachine'] ?? []) as Vm[];

  it('lists the seeded isolated offering with source NAT and availability Required', async () => {
    const user = await newUser('reader');
    const found = (await user.sync('listNetworkOfferings', { availability: 'Required' }))['networkoffering'] as
      { id: string; name: string; guestiptype: string; availability: string; state: string; service: { name: string }[] }[];
    expect(found).to.have.length(1);
    expect(found[0]).to.include({ id: t.lab.seed.networkofferingid, name: 'DefaultIsolatedNetworkOfferingWithSourceNatService',
      guestiptype: 'Isolated', availability: 'Required', state: 'Enabled' });
    // CloudStack's DefaultIsolatedNetworkOfferingWithSourceNatService, service for service.
    expect(found[0]!.service.map((s) => s.name).sort()).to.deep.equal(['Dhcp', 'Dns', 'Firewall', 'Gateway', 'Lb', 'PortForwarding',
      'SourceNat', 'StaticNat', 'UserData', 'Vpn']);
  });

  it("creates a fresh account's network named after it, implements it, and deploys a second VM onto the same one", async () => {
    const carol = await newUser('carol');
    expect(await networksOf(carol)).to.deep.equal([]);
    const first = vmOf(await carol.job('deployVirtualMachine', { ...base(), name: 'carol-1' }));
    expect(first).to.include({ state: 'Running', account: 'carol' });
    expect(first.nic).to.have.length(1);
    expect(first.nic[0]!).to.include({ networkname: 'carol-network', isdefault: true });
    expect(first.nic[0]!.ipaddress).to.match(/^10\.1\.1\.\d+$/);
    const nets = await networksOf(carol);
    expect(nets).to.have.length(1);
    expect(nets[0]!).to.include({ id: first.nic[0]!.networkid, name: 'carol-network', displaytext: 'carol-network', account: 'carol',
      type: 'Isolated', acltype: 'Account', state: 'Implemented', networkofferingid: t.lab.seed.networkofferingid,
      networkofferingavailability: 'Required' });
    expect(nets[0]!.vlan).to.match(/^\d+$/);
    const snat = (await carol.sync('listPublicIpAddresses', { associatednetworkid: nets[0]!.id, issourcenat: true }))['publicipaddress'] as unknown[];
    expect(snat).to.have.length(1);

    const second = vmOf(await carol.job('deployVirtualMachine', { ...base(), name: 'carol-2' }));
    expect(second.state).to.equal('Running');
    expect(second.nic.map((n) => n.networkid)).to.deep.equal([nets[0]!.id]);
    expect(second.nic[0]!.ipaddress).to.match(/^10\.1\.1\.\d+$/);
    expect(second.nic[0]!.ipaddress).to.not.equal(first.nic[0]!.ipaddress);
    expect(await networksOf(carol)).to.have.length(1);
  });

  it("keeps a plain user's default network its own: invisible to and unusable by another account", async () => {
    const dave = await newUser('dave');
    const erin = await newUser('erin');
    const vm = vmOf(await dave.job('deployVirtualMachine', { ...base(), name: 'dave-1' }));
    const daveNet = vm.nic[0]!.networkid;
    expect((await networksOf(dave)).map((n) => [n.id, n.account])).to.deep.equal([[daveNet, 'dave']]);
    expect(await networksOf(erin)).to.deep.equal([]);
    expect(await networksOf(erin, { id: daveNet })).to.deep.equal([]);
    const refused = await failure(erin.job('deployVirtualMachine', { ...base(), networkids: daveNet }));
    expect(refused.code).to.equal(431);
    // erin's own first deploy gets erin's own network, not dave's.
    const own = vmOf(await erin.job('deployVirtualMachine', { ...base(), name: 'erin-1' }));
    expect(own.nic[0]!.networkname).to.equal('erin-network');
    expect(own.nic[0]!.networkid).to.not.equal(daveNet);
    // The root admin sees both with listall, each under its owner.
    const all = await networksOf(admin, { listall: true });
    expect(all.filter((n) => n.name === 'dave-network').map((n) => n.account)).to.deep.equal(['dave']);
    expect(all.filter((n) => n.name === 'erin-network').map((n) => n.account)).to.deep.equal(['erin']);
  });

  it('refuses (431) when the owner has several isolated networks, and creates nothing', async () => {
    const frank = await newUser('frank');
    await frank.sync('createNetwork', { name: 'a', displaytext: 'a', zoneid: t.lab.seed.zoneid, networkofferingid: t.lab.seed.networkofferingid });
    const b = (await frank.sync('createNetwork', { name: 'b', displaytext: 'b', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.networkofferingid }))['network'] as Network;
    const err = await failure(frank.job('deployVirtualMachine', { ...base(), name: 'frank-1' }));
    expect(err.code).to.equal(431);
    expect(err.message).to.match(/^More than 1 default Isolated networks are found for Account Account \[\{"accountName":"frank",.*\}\]; please specify networkIds$/);
    expect(await vmsOf(frank)).to.deep.equal([]);
    expect((await networksOf(frank)).map((n) => n.name).sort()).to.deep.equal(['a', 'b']);
    // Naming one works.
    const vm = vmOf(await frank.job('deployVirtualMachine', { ...base(), name: 'frank-2', networkids: b.id }));
    expect(vm.nic.map((n) => n.networkid)).to.deep.equal([b.id]);
  });

  it('makes one network for concurrent first deploys of an account', async () => {
    const gina = await newUser('gina');
    const jobs = await Promise.all(Array.from({ length: 5 }, (_v, i) => gina.job('deployVirtualMachine', { ...base(), name: `gina-${i}` })));
    const vms = jobs.map(vmOf);
    expect(vms.map((v) => v.state)).to.deep.equal(Array(5).fill('Running'));
    const nets = await networksOf(gina);
    expect(nets.map((n) => n.name)).to.deep.equal(['gina-network']);
    expect(new Set(vms.map((v) => v.nic[0]!.networkid))).to.deep.equal(new Set([nets[0]!.id]));
    expect(new Set(vms.map((v) => v.nic[0]!.ipaddress)).size).to.equal(5);
  });

  it('gives a VM deployed with startvm=false its NIC at once and its address when it starts', async () => {
    const hank = await newUser('hank');
    const stopped = vmOf(await hank.job('deployVirtualMachine', { ...base(), name: 'hank-1', startvm: false }));
    expect(stopped.state).to.equal('Stopped');
    expect(stopped.nic.map((n) => n.networkname)).to.deep.equal(['hank-network']);
    expect((await networksOf(hank))[0]!.state).to.equal('Allocated');
    const started = vmOf(await hank.job('startVirtualMachine', { id: stopped.id }));
    expect(started.nic[0]!.ipaddress).to.match(/^10\.1\.1\.\d+$/);
    expect((await networksOf(hank))[0]!.state).to.equal('Implemented');
  });

  it('resumes a deploy without networkids interrupted by an orchestrator restart: the VM runs with its NIC and address', async () => {
    const ivan = await newUser('ivan');
    const mock = (await admin.sync('configureSimulator', { name: 'StartCommand', value: 'wait:700', count: 1 }))['simulatormock'] as { id: string };
    try {
      const { jobid, id } = await t.api.call<{ jobid: string; id: string }>('deployVirtualMachine', { ...base(), name: 'ivan-1',
        account: 'ivan', domainid: t.lab.seed.domainid });
      await waitFor(async () => (await t.api.call<{ virtualmachine?: Vm[] }>('listVirtualMachines', { id, listall: true }))
        .virtualmachine?.[0]?.state === 'Starting', 5_000, 'the VM to be Starting');
      await sleep(100); // the start command is now running on the host
      await t.orchestrator.restart();
      const job = await t.api.waitJob(jobid);
      expect(job.jobstatus, JSON.stringify(job.jobresult)).to.equal(1);
      const vm = (await vmsOf(ivan, { id }))[0]!;
      expect(vm.state).to.equal('Running');
      expect(vm.nic.map((n) => n.networkname)).to.deep.equal(['ivan-network']);
      expect(vm.nic[0]!.ipaddress).to.match(/^10\.1\.1\.\d+$/);
      expect(await t.hostsRunning(id)).to.have.length(1);
    } finally {
      await admin.sync('cleanupSimulatorMock', { id: mock.id });
    }
  });
});

describe('lifecycle: deploy without networkids when no offering is Required', function () {
  this.timeout(30_000);
  let t: TestLab;
  let admin: Client;

  before(async () => {
    t = await startTestLab({ hosts: 2 });
    admin = await csclient(t.lab.endpoint, t.lab);
  });

  after(async () => { await t?.stop(); });

  afterEach(async () => {
    expect(await t.violations()).to.deep.equal([]);
  });

  const base = (): Record<string, string> => ({ zoneid: t.lab.seed.zoneid, serviceofferingid: t.lab.seed.serviceofferings.small,
    templateid: t.lab.seed.templateid });
  const offering = (params: Record<string, string>): Promise<Response> =>
    admin.sync('updateNetworkOffering', { id: t.lab.seed.networkofferingid, ...params });

  it('refuses (431) with no Required offering, and with a disabled one, creating no network; works again once restored', async () => {
    expect((await offering({ availability: 'optional' }))['networkoffering']).to.include({ availability: 'Optional' });
    try {
      expect(await admin.sync('listNetworkOfferings', { availability: 'Required' })).to.deep.equal({});
      const err = await failure(admin.job('deployVirtualMachine', base()));
      expect(err.code).to.equal(431);
      expect(err.message).to.equal(REQUIRED_MISSING);
      expect(await admin.sync('listNetworks', {})).to.deep.equal({});
      expect(await admin.sync('listVirtualMachines', {})).to.deep.equal({});

      await offering({ availability: 'Required', state: 'Disabled' });
      const disabled = await failure(admin.job('deployVirtualMachine', base()));
      expect(disabled.code).to.equal(431);
      expect(disabled.message).to.equal(`Required network offering id=${t.lab.seed.networkofferingid} is not in Enabled`);
      expect(await admin.sync('listNetworks', {})).to.deep.equal({});
    } finally {
      await offering({ availability: 'Required', state: 'Enabled' });
    }
    const vm = (await admin.job('deployVirtualMachine', base())).jobresult['virtualmachine'] as Vm;
    expect(vm.nic.map((n) => n.networkname)).to.deep.equal(['admin-network']);
  });

  it('refuses in the same way when the owner already has its one network, as CloudStack checks the offering first', async () => {
    await offering({ availability: 'Optional' });
    try {
      const err = await failure(admin.job('deployVirtualMachine', base()));
      expect(err.code).to.equal(431);
      expect(err.message).to.equal(REQUIRED_MISSING);
    } finally {
      await offering({ availability: 'Required' });
    }
  });

  it('updateNetworkOffering keeps Required to one isolated offering with SourceNat, and checks its values', async () => {
    const bad = async (params: Record<string, string>, id = t.lab.seed.networkofferingid): Promise<string> => {
      const err = await failure(admin.sync('updateNetworkOffering', { id, ...params }));
      expect(err.code).to.equal(431);
      return err.message;
    };
    expect(await bad({ availability: 'Required' }, t.lab.seed.sharedNetworkOfferingId))
      .to.equal('Availability can be Required only for networkOfferings of type Isolated and with SourceNat enabled');
    expect(await bad({ availability: 'Sometimes' })).to.equal('Invalid value for Availability. Supported types: Required, Optional');
    expect(await bad({ state: 'Paused' })).to.equal('Incorrect state value: Paused');
    const other = t.store.offerings.createNetwork({ name: 'SecondIsolated', guestiptype: 'Isolated',
      service: [{ name: 'SourceNat', provider: [{ name: 'VirtualRouter' }] }] });
    expect(await bad({ availability: 'Required' }, other.id))
      .to.equal(`System already has network offering id=${t.lab.seed.networkofferingid} with availability Required`);
    const user = (await admin.sync('createAccount', { username: 'olga', password: 'secret-16', email: 'o@example.com', firstname: 'O',
      lastname: 'U', accounttype: 0 }))['account'] as { user: { id: string }[] };
    const keys = (await admin.sync('registerUserKeys', { id: user.user[0]!.id }))['userkeys'] as { apikey: string; secretkey: string };
    const olga = await csclient(t.lab.endpoint, { apiKey: keys.apikey, secretKey: keys.secretkey });
    expect((await failure(olga.sync('updateNetworkOffering', { id: t.lab.seed.networkofferingid, availability: 'Optional' }))).code)
      .to.equal(401);
    expect(((await admin.sync('listNetworkOfferings', { id: t.lab.seed.networkofferingid }))['networkoffering'] as
      { availability: string }[])[0]!.availability).to.equal('Required');
  });
});
