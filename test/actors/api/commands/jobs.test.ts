/**
 * Async job handles: a job record made by createJobRecord (as an async command does) is found by
 * queryAsyncJobResult at once, pending then finished (numeric jobstatus, jobresult wrapped), and
 * listAsyncJobs is scoped by owner. The API component here runs on a node with the data actor, as in
 * the lab, with the store at hand so the test can finish jobs the way the orchestrator will.
 */
import { expect } from 'chai';
import { SimulatedClock } from '../../../../src/clock.js';
import { silentLogger } from '../../../../src/logger.js';
import { StaticLocator } from '../../../../src/locator.js';
import { Node } from '../../../../src/node.js';
import { startApi, locatedDataApi, type ApiComponent } from '../../../../actors/api/api-actor.js';
import { createJobRecord } from '../../../../actors/api/commands/index.js';
import type { Caller } from '../../../../actors/api/types.js';
import { dataActor } from '../../../../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol } from '../../../../actors/data/protocol.js';
import { DataStore, SYSTEM } from '../../../../actors/data/store/index.js';
import { seedLab, type SeedResult } from '../../../../actors/data/store/seed.js';
import { LabClient } from './lab-client.js';
import { openTestStore } from '../../../helpers/test-store.js';

describe('api/commands: async jobs', function () {
  this.timeout(20_000);
  let store: DataStore;
  let node: Node;
  let api: ApiComponent;
  let seed: SeedResult;
  let admin: LabClient;
  let locator: StaticLocator;

  before(async () => {
    store = openTestStore();
    seed = seedLab(store, { hosts: 1 });
    node = new Node({ nodeId: 'jobs-test', logger: silentLogger, strict: true });
    await node.start();
    node.system.spawn(DATA_PATH, dataActor({ store }));
    locator = new StaticLocator(node.system).bind(DataProtocol.name, { node: node.id, path: DATA_PATH });
    api = await startApi(node.system, { locator, port: 0, server: { logger: silentLogger } });
    admin = new LabClient({ endpoint: api.endpoint, apiKey: seed.apiKey, secretKey: seed.secretKey });
  });

  after(async () => {
    await api.stop();
    await node.stop();
    store.close();
  });

  function adminCaller(): Caller {
    const c = store.users.callerFor(seed.adminUserId);
    return { ...c, accountName: 'admin' };
  }

  it('reports where it listens over its protocol', async () => {
    const status = await api.ref.ask('status', {});
    expect(status).to.include({ port: api.port, endpoint: api.endpoint, host: '127.0.0.1' });
    expect(status.commands).to.be.greaterThan(40);
  });

  it('finds a job record at once, pending, then succeeded with its wrapped result', async () => {
    const data = locatedDataApi(locator, 5_000);
    const reply = await createJobRecord(data, { caller: adminCaller(), params: {}, clock: new SimulatedClock(0), requestId: 'req-1' },
      { cmd: 'org.apache.cloudstack.api.command.user.vm.StartVMCmd', instancetype: 'VirtualMachine', instanceid: seed.hostids[0]! });
    expect(reply.kind).to.equal('async');
    const again = await createJobRecord(data, { caller: adminCaller(), params: {}, clock: new SimulatedClock(0), requestId: 'req-1' },
      { cmd: 'org.apache.cloudstack.api.command.user.vm.StartVMCmd' });
    expect(again.jobid, 'same request, same job').to.equal(reply.jobid);
    const pending = await admin.ok('queryAsyncJobResult', { jobid: reply.jobid });
    expect(pending).to.include({ jobid: reply.jobid, jobstatus: 0, jobprocstatus: 0, jobresultcode: 0, jobinstancetype: 'VirtualMachine',
      cmd: 'org.apache.cloudstack.api.command.user.vm.StartVMCmd', accountid: seed.adminAccountId, userid: seed.adminUserId });
    expect(pending).to.not.have.any.keys('jobresult', 'jobresulttype', 'completed');
    store.jobs.complete(reply.jobid, { status: 1, result: { virtualmachine: { id: 'vm-1', state: 'Running', nic: [] } } });
    const done = await admin.ok('queryAsyncJobResult', { jobid: reply.jobid });
    expect(done).to.include({ jobstatus: 1, jobresultcode: 0, jobresulttype: 'object' });
    expect(done['jobresult']).to.deep.equal({ virtualmachine: { id: 'vm-1', state: 'Running', nic: [] } });
    expect(done['completed']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
  });

  it('reports a failed job with errorcode and errortext, and lists jobs by owner', async () => {
    const job = store.jobs.create(SYSTEM, { cmd: 'org.apache.cloudstack.api.command.user.vm.DeployVMCmd', accountid: seed.adminAccountId });
    store.jobs.complete(job.jobid, { status: 2, resultcode: 533, result: { errorcode: 533, errortext: 'Unable to create a deployment for VM' } });
    const failed = await admin.ok('queryAsyncJobResult', { jobid: job.jobid });
    expect(failed).to.include({ jobstatus: 2, jobresultcode: 533 });
    expect(failed['jobresult']).to.deep.equal({ errorcode: 533, errortext: 'Unable to create a deployment for VM' });
    const listed = await admin.ok('listAsyncJobs', {});
    expect((listed['asyncjobs'] as { jobid: string }[]).map((j) => j.jobid)).to.include(job.jobid);
    expect(listed['count']).to.equal((listed['asyncjobs'] as unknown[]).length);
    await admin.fails(431, 'queryAsyncJobResult', { jobid: '00000000-0000-4000-8000-000000000000' });
    await admin.fails(431, 'queryAsyncJobResult', {});
  });
});
