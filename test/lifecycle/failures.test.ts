/**
 * Failure scenarios injected with CloudStack's simulator API (configureSimulator), through csclient:
 * a start refused once is retried on another host; refused everywhere it fails with 533 and the VM is
 * in Error; a start slower than the step deadline fails the job cleanly; an orchestrator killed in the
 * middle of a deploy is restarted and the job ends resumed (or, configured so, failed as interrupted).
 * After each one the invariants hold and no hypervisor runs a VM the database does not.
 */
import { expect } from 'chai';
import { CsApi, type CsApiError } from '../helpers/cs-api.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { csclient, failure, type Client } from './csclient.js';
import { startTestLab, type TestLab } from './lab-fixture.js';

type Vm = { id: string; state: string; hostid?: string; hostname?: string; nic: { ipaddress?: string }[] };

async function deployParams(t: TestLab, c: Client): Promise<Record<string, string>> {
  const net = await c.sync('createNetwork', { name: 'f', displaytext: 'f', zoneid: t.lab.seed.zoneid, networkofferingid: t.lab.seed.networkofferingid });
  return { zoneid: t.lab.seed.zoneid, serviceofferingid: t.lab.seed.serviceofferings.small, templateid: t.lab.seed.templateid,
    networkids: (net['network'] as { id: string }).id };
}

async function vmNamed(c: Client, name: string): Promise<Vm> {
  return ((await c.sync('listVirtualMachines', { name }))['virtualmachine'] as Vm[])[0]!;
}

describe('lifecycle: failure scenarios with configureSimulator', function () {
  this.timeout(30_000);
  let t: TestLab;
  let c: Client;
  let params: Record<string, string>;

  before(async () => {
    // firstfit: the first attempt always goes to the first host, so the retry is visible.
    t = await startTestLab({ hosts: 3, config: { 'vm.allocation.algorithm': 'firstfit' } });
    c = await csclient(t.lab.endpoint, t.lab);
    params = await deployParams(t, c);
  });

  after(async () => { await t?.stop(); });

  afterEach(async () => {
    expect(await t.violations()).to.deep.equal([]);
  });

  it('retries a start that failed once on another host, and the mock says it fired', async () => {
    const mock = (await c.sync('configureSimulator', { name: 'StartCommand', value: 'result:fail', count: 1 }))['simulatormock'] as { id: string };
    const vm = (await c.job('deployVirtualMachine', { ...params, name: 'retried' })).jobresult['virtualmachine'] as Vm;
    expect(vm.state).to.equal('Running');
    expect(vm.hostname).to.equal('sim-host-2');
    expect(((await c.sync('querySimulatorMock', { id: mock.id }))['simulatormock'] as { count: number }).count).to.equal(0);
    expect(await t.hostsRunning(vm.id)).to.deep.equal(['sim-host-2']);
    await c.sync('cleanupSimulatorMock', { id: mock.id });
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
  });

  it('fails with 533 when the start fails on every host, leaving the VM in Error with nothing held', async () => {
    const mock = (await c.sync('configureSimulator', { name: 'StartCommand', value: 'result:fail' }))['simulatormock'] as { id: string };
    try {
      const err = await failure(c.job('deployVirtualMachine', { ...params, name: 'everywhere' }));
      expect(err.code).to.equal(533);
      const vm = await vmNamed(c, 'everywhere');
      expect(vm.state).to.equal('Error');
      expect(vm.nic[0]!.ipaddress).to.equal(undefined);
      expect(await c.sync('listVolumes', { virtualmachineid: vm.id })).to.deep.equal({});
      expect(await t.hostsRunning(vm.id)).to.deep.equal([]);
      await c.job('destroyVirtualMachine', { id: vm.id });
      expect(await c.sync('listVirtualMachines', { id: vm.id })).to.deep.equal({});
    } finally {
      await c.sync('cleanupSimulatorMock', { id: mock.id });
    }
  });

  it('fails the job cleanly when a start takes longer than the step deadline, and the host does not run the VM', async () => {
    const mock = (await c.sync('configureSimulator', { name: 'StartCommand', value: 'wait:5000', count: 1 }))['simulatormock'] as { id: string };
    const err = await failure(c.job('deployVirtualMachine', { ...params, name: 'slow' }));
    expect(err.code).to.equal(530);
    const vm = await vmNamed(c, 'slow');
    expect(vm.state).to.equal('Error');
    expect(await t.hostsRunning(vm.id)).to.deep.equal([]);
    await c.sync('cleanupSimulatorMock', { id: mock.id });
    await c.job('destroyVirtualMachine', { id: vm.id });
  });

  it('keeps a VM Running when its stop fails on the host (the compensation puts it back)', async () => {
    const vm = (await c.job('deployVirtualMachine', { ...params, name: 'unstoppable' })).jobresult['virtualmachine'] as Vm;
    const mock = (await c.sync('configureSimulator', { name: 'StopCommand', value: 'result:fail', count: 1 }))['simulatormock'] as { id: string };
    const err = await failure(c.job('stopVirtualMachine', { id: vm.id }));
    expect(err.code).to.equal(534);
    expect((await vmNamed(c, 'unstoppable'))).to.include({ state: 'Running', hostid: vm.hostid });
    expect(await t.hostsRunning(vm.id)).to.deep.equal([vm.hostname]);
    await c.sync('cleanupSimulatorMock', { id: mock.id });
    await c.job('destroyVirtualMachine', { id: vm.id, expunge: true });
    expect(await t.hostsRunning(vm.id)).to.deep.equal([]);
  });

  it('resumes a deploy whose orchestrator was killed mid-job: the job ends succeeded and the VM runs once', async () => {
    const mock = (await c.sync('configureSimulator', { name: 'StartCommand', value: 'wait:700', count: 1 }))['simulatormock'] as { id: string };
    const { jobid, id } = await t.api.call<{ jobid: string; id: string }>('deployVirtualMachine', { ...params, name: 'resumed' });
    await waitFor(async () => (await t.api.call<{ virtualmachine?: Vm[] }>('listVirtualMachines', { id })).virtualmachine?.[0]?.state === 'Starting',
      5_000, 'the VM to be Starting');
    await sleep(100); // the start command is now running on the host
    await t.orchestrator.restart();
    const job = await t.api.waitJob(jobid);
    expect(job.jobstatus).to.equal(1);
    const vm = job.jobresult['virtualmachine'] as Vm;
    expect(vm.state).to.equal('Running');
    expect(await t.hostsRunning(id)).to.deep.equal([vm.hostname]);
    const stats = await t.orchestrator.ref.ask('stats', {});
    expect(stats.recovered).to.equal(1);
    await c.sync('cleanupSimulatorMock', { id: mock.id });
    await c.job('destroyVirtualMachine', { id, expunge: true });
  });

  it('refuses a mock value it cannot read, and simulator commands for non-admins', async () => {
    expect((await failure(c.sync('configureSimulator', { name: 'StartCommand', value: 'result:maybe' }))).code).to.equal(431);
    const acct = await t.api.call<{ account: { user: { id: string }[] } }>('createAccount', { username: 'plain', password: 'secret-1',
      email: 'plain@example.com', firstname: 'Plain', lastname: 'User', accounttype: 0 });
    const keys = await t.api.call<{ userkeys: { apikey: string; secretkey: string } }>('registerUserKeys', { id: acct.account.user[0]!.id });
    const user = new CsApi({ endpoint: t.lab.endpoint, apiKey: keys.userkeys.apikey, secretKey: keys.userkeys.secretkey });
    try {
      const refused = await user.call('configureSimulator', { name: 'StartCommand', value: 'result:fail' }).then(() => undefined, (e: CsApiError) => e);
      expect(refused?.code).to.equal(401);
    } finally {
      user.close();
    }
  });
});

describe('lifecycle: an orchestrator restarted with resumeOnRestart=false', function () {
  this.timeout(30_000);
  let t: TestLab;

  before(async () => { t = await startTestLab({ hosts: 2, orchestrator: { resumeOnRestart: false } }); });
  after(async () => { await t?.stop(); });

  it('fails the interrupted deploy with 530 "interrupted", undoes what it did, and leaves the VM in Error', async () => {
    const c = await csclient(t.lab.endpoint, t.lab);
    const params = await deployParams(t, c);
    await c.sync('configureSimulator', { name: 'StartCommand', value: 'wait:700', count: 1 });
    const { jobid, id } = await t.api.call<{ jobid: string; id: string }>('deployVirtualMachine', params);
    await waitFor(async () => (await t.api.call<{ virtualmachine?: Vm[] }>('listVirtualMachines', { id })).virtualmachine?.[0]?.state === 'Starting',
      5_000, 'the VM to be Starting');
    await sleep(100);
    await t.orchestrator.restart();
    const job = await t.api.waitJob(jobid);
    expect(job.jobstatus).to.equal(2);
    expect(job.jobresultcode).to.equal(530);
    expect(String(job.jobresult['errortext'])).to.match(/interrupted/);
    const vm = (await t.api.call<{ virtualmachine: Vm[] }>('listVirtualMachines', { id })).virtualmachine[0]!;
    expect(vm.state).to.equal('Error');
    await sleep(800); // past the mock's wait: the start that was cut short must not have come back
    expect(await t.hostsRunning(id)).to.deep.equal([]);
    expect(await t.violations()).to.deep.equal([]);
  });
});
