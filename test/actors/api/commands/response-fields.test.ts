/**
 * listApis reports each list command's response fields (CloudMonkey's `sync` and the UI's API docs
 * read them): every field the command's objects really carry must be among them.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { CsApi, type Json } from '../../../helpers/cs-api.js';
import { LabClient, testLab } from './lab-client.js';

describe('api: listApis response fields', function () {
  this.timeout(30_000);
  let lab: Lab;
  let admin: LabClient;

  before(async () => {
    lab = await testLab({ hosts: 2 });
    admin = new LabClient(lab);
    const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 });
    const job = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid, name: 'fields-vm' });
    expect(job.jobstatus, JSON.stringify(job.jobresult)).to.equal(1);
    const vol = (await api.call('listVolumes', {}))['volume'] as Json[];
    expect((await api.job('createSnapshot', { volumeid: String(vol[0]!['id']) })).jobstatus).to.equal(1);
    await api.call('createSSHKeyPair', { name: 'k' });
    expect((await api.job('createProject', { name: 'p', displaytext: 'p' })).jobstatus).to.equal(1);
    expect((await api.job('createAffinityGroup', { name: 'ag', type: 'host anti-affinity' })).jobstatus).to.equal(1);
    await api.call('createInstanceGroup', { name: 'ig' });
    api.close();
  });

  after(async () => {
    await lab.stop();
  });

  it('lists every field the objects of the list commands carry', async () => {
    const vm = (await admin.list('listVirtualMachines', 'virtualmachine'))[0]!;
    const cases: [string, Record<string, string>][] = [
      ['listVirtualMachines', {}], ['listVirtualMachinesMetrics', {}], ['listVolumes', {}], ['listSnapshots', {}], ['listNetworks', {}],
      ['listPublicIpAddresses', {}], ['listZones', {}], ['listZonesMetrics', {}], ['listPods', {}], ['listClusters', {}], ['listHosts', {}],
      ['listHostsMetrics', {}], ['listStoragePools', {}], ['listImageStores', {}], ['listServiceOfferings', {}], ['listDiskOfferings', {}],
      ['listNetworkOfferings', {}], ['listTemplates', { templatefilter: 'all' }], ['listAccounts', {}], ['listUsers', {}], ['listDomains', {}],
      ['listEvents', {}], ['listAsyncJobs', {}], ['listOsTypes', {}], ['listCapacity', {}], ['listSSHKeyPairs', {}], ['listProjects', {}],
      ['listAffinityGroups', {}], ['listInstanceGroups', {}], ['listNics', { virtualmachineid: String(vm['id']) }], ['listCapabilities', {}],
    ];
    for (const [command, params] of cases) {
      const described = (await admin.list('listApis', 'api', { name: command }))[0]!;
      const declared = new Set((described['response'] as Json[]).map((r) => String(r['name'])));
      const body = await admin.ok(command, { listall: 'true', ...params });
      const objects = Object.entries(body).filter(([k]) => k !== 'count').flatMap(([, v]) => (Array.isArray(v) ? v : [v])) as Json[];
      expect(objects, `${command} answered nothing to check`).to.not.be.empty;
      for (const o of objects) {
        const undeclared = Object.keys(o).filter((k) => !declared.has(k));
        expect(undeclared, `${command}: fields missing from listApis`).to.deep.equal([]);
      }
    }
  });
});
