/**
 * The whole VM, volume, snapshot, network and public IP lifecycle on a real lab, driven by the npm
 * `csclient` client; the invariants hold after every scenario.
 */
import { expect } from 'chai';
import { csclient, failure, type Client, type Response } from './csclient.js';
import { startTestLab, type TestLab } from './lab-fixture.js';

type Vm = { id: string; state: string; account?: string; hostid?: string; templateid: string; serviceofferingid: string; nic: { ipaddress?: string }[] };

describe('lifecycle: VMs, volumes, snapshots, networks and public IPs through csclient', function () {
  this.timeout(30_000);
  let t: TestLab;
  let c: Client;
  let networkid: string;

  before(async () => {
    t = await startTestLab({ hosts: 3 });
    c = await csclient(t.lab.endpoint, t.lab);
    const net = await c.sync('createNetwork', { name: 'web', displaytext: 'web tier', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.networkofferingid });
    networkid = (net['network'] as { id: string }).id;
  });

  after(async () => { await t?.stop(); });

  afterEach(async () => {
    expect(await t.violations()).to.deep.equal([]);
  });

  const deploy = (extra: Record<string, unknown> = {}) => c.job('deployVirtualMachine', { zoneid: t.lab.seed.zoneid,
    serviceofferingid: t.lab.seed.serviceofferings.small, templateid: t.lab.seed.templateid, networkids: networkid, ...extra });
  const vmOf = (job: { jobresult: Response }): Vm => job.jobresult['virtualmachine'] as Vm;
  const getVm = async (id: string): Promise<Vm> => ((await c.sync('listVirtualMachines', { id }))['virtualmachine'] as Vm[])[0]!;

  it('lists every command with the right isasync', async () => {
    const apis = (await c.sync('listApis'))['api'] as { name: string; isasync: boolean }[];
    const isAsync = new Map(apis.map((a) => [a.name, a.isasync]));
    for (const name of ['deployVirtualMachine', 'startVirtualMachine', 'stopVirtualMachine', 'rebootVirtualMachine', 'destroyVirtualMachine',
      'expungeVirtualMachine', 'scaleVirtualMachine', 'restoreVirtualMachine', 'migrateVirtualMachine', 'resetPasswordForVirtualMachine',
      'createVolume', 'attachVolume', 'detachVolume', 'resizeVolume', 'createSnapshot', 'deleteSnapshot', 'deleteNetwork',
      'associateIpAddress', 'disassociateIpAddress']) expect(isAsync.get(name), name).to.equal(true);
    for (const name of ['listVirtualMachines', 'recoverVirtualMachine', 'listVolumes', 'deleteVolume', 'listSnapshots', 'createNetwork',
      'listNetworks', 'listPublicIpAddresses', 'listPortForwardingRules', 'listIpForwardingRules', 'configureSimulator',
      'querySimulatorMock', 'cleanupSimulatorMock']) expect(isAsync.get(name), name).to.equal(false);
  });

  it('deploys a started VM with an address on its implemented network, then stops, starts and reboots it', async () => {
    const vm = vmOf(await deploy());
    expect(vm.state).to.equal('Running');
    expect(vm.hostid).to.be.a('string');
    expect(vm.nic[0]!.ipaddress).to.match(/^10\.1\.1\.\d+$/);
    const net = ((await c.sync('listNetworks', { id: networkid }))['network'] as { state: string; vlan: string }[])[0]!;
    expect(net.state).to.equal('Implemented');
    expect(net.vlan).to.match(/^\d+$/);
    const snat = (await c.sync('listPublicIpAddresses', { associatednetworkid: networkid, issourcenat: true }))['publicipaddress'] as unknown[];
    expect(snat).to.have.length(1);
    expect(vmOf(await c.job('stopVirtualMachine', { id: vm.id })).state).to.equal('Stopped');
    expect((await getVm(vm.id)).hostid).to.equal(undefined);
    expect(vmOf(await c.job('startVirtualMachine', { id: vm.id })).state).to.equal('Running');
    expect(vmOf(await c.job('rebootVirtualMachine', { id: vm.id })).state).to.equal('Running');
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('deploys with startvm=false (Stopped, volumes Allocated) and starts it later', async () => {
    const job = await deploy({ startvm: false });
    const vm = vmOf(job);
    expect(vm.state).to.equal('Stopped');
    const vols = (await c.sync('listVolumes', { virtualmachineid: vm.id }))['volume'] as { type: string; state: string }[];
    expect(vols.map((v) => [v.type, v.state])).to.deep.equal([['ROOT', 'Allocated']]);
    expect(vmOf(await c.job('startVirtualMachine', { id: vm.id })).state).to.equal('Running');
    const ready = (await c.sync('listVolumes', { virtualmachineid: vm.id }))['volume'] as { state: string; storageid?: string }[];
    expect(ready[0]).to.include({ state: 'Ready', storageid: t.lab.seed.storagepoolid });
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('deploys with a data disk from a disk offering: ROOT and DATADISK both created on primary storage', async () => {
    const vm = vmOf(await deploy({ diskofferingid: t.lab.seed.diskofferings[1] }));
    const vols = (await c.sync('listVolumes', { virtualmachineid: vm.id }))['volume'] as { type: string; state: string; deviceid: number; size: number }[];
    expect(vols.map((v) => [v.type, v.state, v.deviceid])).to.deep.equal([['ROOT', 'Ready', 0], ['DATADISK', 'Ready', 1]]);
    expect(vols[1]!.size).to.equal(20 * 1024 ** 3);
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
    // Expunge detaches data disks and keeps them (only the ROOT disk goes with the VM).
    const left = (await c.sync('listVolumes', { type: 'DATADISK' }))['volume'] as { id: string; virtualmachineid?: string }[];
    expect(left).to.have.length(1);
    expect(left[0]!.virtualmachineid).to.equal(undefined);
    await c.sync('deleteVolume', { id: left[0]!.id });
  });

  it('scales a stopped VM, refuses to scale a running one, and restores the ROOT disk from a template', async () => {
    const vm = vmOf(await deploy());
    const refused = await failure(c.job('scaleVirtualMachine', { id: vm.id, serviceofferingid: t.lab.seed.serviceofferings.medium }));
    expect(refused.code).to.equal(431);
    await c.job('stopVirtualMachine', { id: vm.id });
    const scaled = vmOf(await c.job('scaleVirtualMachine', { id: vm.id, serviceofferingid: t.lab.seed.serviceofferings.medium }));
    expect(scaled).to.include({ serviceofferingid: t.lab.seed.serviceofferings.medium, state: 'Stopped' });
    expect(vmOf(await c.job('startVirtualMachine', { id: vm.id })).state).to.equal('Running');
    const root = ((await c.sync('listVolumes', { virtualmachineid: vm.id, type: 'ROOT' }))['volume'] as { id: string }[])[0]!;
    const restored = await c.job('restoreVirtualMachine', { virtualmachineid: vm.id });
    expect(vmOf(restored).state).to.equal('Running');
    const after = ((await c.sync('listVolumes', { virtualmachineid: vm.id, type: 'ROOT' }))['volume'] as { id: string; state: string }[])[0]!;
    expect(after).to.include({ id: root.id, state: 'Ready' });
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('destroys, recovers, and destroys with expunge; expunge of a destroyed VM removes it', async () => {
    const vm = vmOf(await deploy());
    expect(vmOf(await c.job('destroyVirtualMachine', { id: vm.id })).state).to.equal('Destroyed');
    expect((await getVm(vm.id)).state).to.equal('Destroyed');
    expect(((await c.sync('recoverVirtualMachine', { id: vm.id }))['virtualmachine'] as Vm).state).to.equal('Stopped');
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
    expect(await c.sync('listVirtualMachines', { id: vm.id })).to.deep.equal({});
    const other = vmOf(await deploy());
    await c.job('destroyVirtualMachine', { id: other.id });
    await c.job('expungeVirtualMachine', { id: other.id });
    expect(await c.sync('listVirtualMachines', { id: other.id })).to.deep.equal({});
    expect((await c.sync('listVolumes', { virtualmachineid: other.id }))['volume']).to.equal(undefined);
  });

  it('migrates a running VM to another host', async () => {
    const vm = vmOf(await deploy());
    const moved = vmOf(await c.job('migrateVirtualMachine', { virtualmachineid: vm.id }));
    expect(moved.state).to.equal('Running');
    expect(moved.hostid).to.not.equal(vm.hostid);
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('refuses resetPasswordForVirtualMachine when the template is not password-enabled', async () => {
    const vm = vmOf(await deploy({ startvm: false }));
    const err = await failure(c.job('resetPasswordForVirtualMachine', { id: vm.id }));
    expect(err.code).to.equal(431);
    expect(err.message).to.match(/not password enabled/);
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('shows a password-enabled template\'s password after deploy and after resetPasswordForVirtualMachine', async () => {
    const reg = await c.sync('registerTemplate', { name: 'pw', displaytext: 'pw', format: 'VHD', hypervisor: 'Simulator',
      url: 'http://example.com/pw.vhd', zoneid: t.lab.seed.zoneid, ostypeid: t.lab.seed.ostypeids[0], passwordenabled: true });
    const templateid = (reg['template'] as { id: string }[])[0]!.id;
    // No component downloads registered templates to secondary storage yet: mark this one downloaded.
    t.store.templates.setZoneStatus(templateid, t.lab.seed.zoneid, { isready: true, size: 2 * 1024 ** 3 });
    const vm = vmOf(await deploy({ templateid })) as Vm & { password?: string };
    expect(vm.password).to.match(/^[A-Za-z0-9]{12}$/);
    expect((await getVm(vm.id)) as Vm & { password?: string }).to.not.have.property('password');
    expect((await failure(c.job('resetPasswordForVirtualMachine', { id: vm.id }))).code).to.equal(431);
    await c.job('stopVirtualMachine', { id: vm.id });
    const reset = vmOf(await c.job('resetPasswordForVirtualMachine', { id: vm.id })) as Vm & { password?: string };
    expect(reset.password).to.match(/^[A-Za-z0-9]{12}$/);
    expect(reset.password).to.not.equal(vm.password);
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('creates a volume (Allocated), attaches it (Ready), resizes, detaches and deletes it; an attached one is in use (536)', async () => {
    const vm = vmOf(await deploy());
    const created = await c.job('createVolume', { name: 'data1', zoneid: t.lab.seed.zoneid, diskofferingid: t.lab.seed.diskofferings[0] });
    const vol = created.jobresult['volume'] as { id: string; state: string };
    expect(vol.state).to.equal('Allocated');
    const attached = (await c.job('attachVolume', { id: vol.id, virtualmachineid: vm.id })).jobresult['volume'] as Record<string, unknown>;
    expect(attached).to.include({ state: 'Ready', virtualmachineid: vm.id, deviceid: 1 });
    expect((await failure(c.sync('deleteVolume', { id: vol.id }))).code).to.equal(536);
    const resized = (await c.job('resizeVolume', { id: vol.id, size: 10 })).jobresult['volume'] as { size: number; state: string };
    expect(resized).to.include({ size: 10 * 1024 ** 3, state: 'Ready' });
    const detached = (await c.job('detachVolume', { id: vol.id })).jobresult['volume'] as Record<string, unknown>;
    expect(detached['virtualmachineid']).to.equal(undefined);
    expect(await c.sync('deleteVolume', { id: vol.id })).to.deep.include({ success: true });
    expect(await c.sync('listVolumes', { id: vol.id })).to.deep.equal({});
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('takes, lists and deletes a snapshot of a ROOT volume', async () => {
    const vm = vmOf(await deploy());
    const root = ((await c.sync('listVolumes', { virtualmachineid: vm.id, type: 'ROOT' }))['volume'] as { id: string }[])[0]!;
    const snap = (await c.job('createSnapshot', { volumeid: root.id })).jobresult['snapshot'] as { id: string; state: string };
    expect(snap.state).to.equal('BackedUp');
    expect(((await c.sync('listSnapshots', { volumeid: root.id }))['snapshot'] as unknown[])).to.have.length(1);
    expect(((await c.sync('listVolumes', { id: root.id }))['volume'] as { state: string }[])[0]!.state).to.equal('Ready');
    await c.job('deleteSnapshot', { id: snap.id });
    expect(await c.sync('listSnapshots', { volumeid: root.id })).to.deep.equal({});
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('associates and disassociates a public IP; no port forwarding or static NAT rules exist', async () => {
    const assoc = await c.job('associateIpAddress', { networkid });
    const ip = assoc.jobresult['ipaddress'] as { id: string; state: string; associatednetworkid: string; issourcenat: boolean };
    expect(ip).to.include({ state: 'Allocated', associatednetworkid: networkid, issourcenat: false });
    expect(((await c.sync('listPublicIpAddresses', { id: ip.id }))['publicipaddress'] as unknown[])).to.have.length(1);
    expect(await c.sync('listPortForwardingRules', { ipaddressid: ip.id })).to.deep.equal({});
    expect(await c.sync('listIpForwardingRules', {})).to.deep.equal({});
    await c.job('disassociateIpAddress', { id: ip.id });
    expect(await c.sync('listPublicIpAddresses', { id: ip.id })).to.deep.equal({});
  });

  it('deploys onto a shared network with an IP range (no VLAN taken from the pool, addresses from the range)', async () => {
    const shared = (await c.sync('createNetwork', { name: 'shared', displaytext: 'shared', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.sharedNetworkOfferingId, gateway: '192.168.100.1', netmask: '255.255.255.0',
      startip: '192.168.100.50', endip: '192.168.100.60', vlan: '500', acltype: 'Domain' }))['network'] as { id: string; state: string };
    expect(shared.state).to.equal('Setup');
    const vm = vmOf(await deploy({ networkids: shared.id }));
    expect(vm.nic[0]!.ipaddress).to.equal('192.168.100.50');
    expect(((await c.sync('listNetworks', { id: shared.id }))['network'] as { vlan: string }[])[0]!.vlan).to.equal('500');
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
    await c.job('deleteNetwork', { id: shared.id });
  });

  it('lets a plain user run the lifecycle in its own account, and keeps admin-only commands from it', async () => {
    const acct = await t.api.call<{ account: { user: { id: string }[] } }>('createAccount', { username: 'alice', password: 'secret-2',
      email: 'alice@example.com', firstname: 'Alice', lastname: 'User', accounttype: 0 });
    const keys = (await t.api.call<{ userkeys: { apikey: string; secretkey: string } }>('registerUserKeys', { id: acct.account.user[0]!.id })).userkeys;
    const u = await csclient(t.lab.endpoint, { apiKey: keys.apikey, secretKey: keys.secretkey });
    const net = (await u.sync('createNetwork', { name: 'mine', displaytext: 'mine', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.networkofferingid }))['network'] as { id: string; account: string };
    expect(net.account).to.equal('alice');
    const vm = vmOf(await u.job('deployVirtualMachine', { zoneid: t.lab.seed.zoneid, serviceofferingid: t.lab.seed.serviceofferings.small,
      templateid: t.lab.seed.templateid, networkids: net.id }));
    expect(vm).to.include({ state: 'Running', account: 'alice' });
    expect((await failure(u.job('expungeVirtualMachine', { id: vm.id }))).code).to.equal(401);
    expect((await failure(u.job('migrateVirtualMachine', { virtualmachineid: vm.id }))).code).to.equal(401);
    // Without listall the admin lists only its own account's VMs (as CloudStack); with it, alice's too.
    const name = (vm as Vm & { name: string }).name;
    expect(await c.sync('listVirtualMachines', { name })).to.deep.equal({});
    expect((await c.sync('listVirtualMachines', { name, listall: true }))['count']).to.equal(1);
    await u.job('destroyVirtualMachine', { id: vm.id, expunge: true });
    await u.job('deleteNetwork', { id: net.id });
  });

  it('refuses to delete a network with VMs (536), then deletes it and gives its VLAN and source NAT back', async () => {
    const net = (await c.sync('createNetwork', { name: 'tmp', displaytext: 'tmp', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.networkofferingid }))['network'] as { id: string };
    const vm = vmOf(await deploy({ networkids: net.id }));
    expect((await failure(c.job('deleteNetwork', { id: net.id }))).code).to.equal(536);
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
    await c.job('deleteNetwork', { id: net.id });
    expect(await c.sync('listNetworks', { id: net.id })).to.deep.equal({});
    expect(await c.sync('listPublicIpAddresses', { associatednetworkid: net.id })).to.deep.equal({});
  });
});
