/**
 * Action forms of the web UI that read their fields from listApis, found by running the stock UI against
 * a lab: the admin's Start Instance form renders podid, clusterid and hostid from startVirtualMachine's
 * declared parameters (it fails to render when one is missing), and sends the chosen ones.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { CsApi, type Json } from '../../../helpers/cs-api.js';
import { LabClient, testLab, userAccount } from './lab-client.js';

describe('api/commands: action forms of the web UI', function () {
  this.timeout(30_000);
  let lab: Lab;
  let admin: LabClient;
  let api: CsApi;

  before(async () => {
    lab = await testLab({ hosts: 2 });
    admin = new LabClient(lab);
    api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 });
  });

  after(async () => {
    await lab.stop();
  });

  it('startVirtualMachine takes an admin\'s pod, cluster or host, and starts the VM only there', async () => {
    const start = ((await admin.ok('listApis', { name: 'startVirtualMachine' }))['api'] as Json[])[0]!;
    expect((start['params'] as Json[]).map((p) => p['name'])).to.include.members(['id', 'podid', 'clusterid', 'hostid']);

    const deploy = async (): Promise<string> => {
      const r = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
        templateid: lab.seed.templateid, startvm: 'false' });
      expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
      return String((r.jobresult['virtualmachine'] as Json)['id']);
    };
    // A cluster of its own without hosts: a VM held to it has nowhere to run.
    const empty = ((await admin.ok('addCluster', { zoneid: lab.seed.zoneid, podid: lab.seed.podid, clustername: 'empty',
      hypervisor: 'simulator', clustertype: 'CloudManaged' }))['cluster'] as Json[])[0]!;
    const vm = await deploy();
    const refused = await api.job('startVirtualMachine', { id: vm, clusterid: String(empty['id']) });
    expect(refused.jobstatus).to.equal(2);
    expect(String(refused.jobresult['errortext'])).to.match(/insufficient capacity/);

    const started = await api.job('startVirtualMachine', { id: vm, podid: lab.seed.podid, clusterid: lab.seed.clusterid });
    expect(started.jobstatus, JSON.stringify(started.jobresult)).to.equal(1);
    const running = started.jobresult['virtualmachine'] as Json;
    expect(running).to.include({ state: 'Running', podid: lab.seed.podid });
    const host = (await admin.list('listHosts', 'host', { id: String(running['hostid']) }))[0]!;
    expect(host['clusterid']).to.equal(lab.seed.clusterid);

    // Once its volumes are on the first cluster's storage, another cluster cannot reach them.
    expect((await api.job('stopVirtualMachine', { id: vm })).jobstatus).to.equal(1);
    const elsewhere = await api.job('startVirtualMachine', { id: vm, clusterid: String(empty['id']) });
    expect(elsewhere.jobstatus).to.equal(2);
    expect(String(elsewhere.jobresult['errortext'])).to.match(/cannot start in cluster/);
    expect((await admin.list('listVirtualMachines', 'virtualmachine', { id: vm }))[0]).to.include({ state: 'Stopped' });

    const u = await userAccount(admin);
    expect(await u.client.fails(431, 'startVirtualMachine', { id: vm, podid: lab.seed.podid })).to.match(/Root Admin/);
    expect(await u.client.fails(431, 'startVirtualMachine', { id: vm, clusterid: lab.seed.clusterid })).to.match(/Root Admin/);
  });
});
