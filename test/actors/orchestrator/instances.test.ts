/**
 * Two orchestrator instances sharing one cloud, in one process over the in-process transport and the
 * gossip registry (as separate processes would): submissions are spread over both; jobs of one VM run
 * one at a time in submission order whichever instance holds them; stopping an instance hands its jobs
 * to the other, which finishes them.
 */
import { expect } from 'chai';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { startAssembly, type Assembly } from '../../../bin/assembly.js';
import { startClusterMembership, type ClusterMembership } from '../../../bin/cluster.js';
import { labHosts } from '../../../bin/lab.js';
import type { ApiComponent } from '../../../actors/api/api-actor.js';
import type { DataHandle } from '../../../actors/data/component.js';
import { CsApi } from '../../helpers/cs-api.js';
import { waitFor } from '../../helpers/wait.js';

describe('orchestrator: two instances share the jobs of one cloud', function () {
  this.timeout(60_000);
  const hub = new InprocHub();
  const nodes: { node: Node; cluster: ClusterMembership; assembly: Assembly }[] = [];
  let api: CsApi;
  let handle: DataHandle;

  async function start(name: string, roles: string[], options: Record<string, unknown> = {}): Promise<Assembly> {
    const node = new Node({ nodeId: name, transport: new InprocTransport({ nodeId: name, hub }), logger: silentLogger });
    await node.start();
    const cluster = await startClusterMembership(node, { roles, clusterName: 'orch2', profile: 'test',
      seeds: name === 'core' ? [] : ['node:core'], log: silentLogger });
    const assembly = await startAssembly({ system: node.system, services: cluster.services, transport: node.transport, log: silentLogger,
      profile: 'test' }, roles, (c) => options[c] ?? {});
    nodes.push({ node, cluster, assembly });
    return assembly;
  }

  before(async () => {
    const core = await start('core', ['data', 'network', 'storage', 'compute', 'fabric-monitor', 'fabric-admin', 'api'], {
      data: { seed: { kind: 'lab', hosts: 3 }, settings: { 'mem.overprovisioning.factor': '8', 'cpu.overprovisioning.factor': '8' } },
      compute: { hosts: labHosts(3), selfFence: false }, api: { port: 0 },
    });
    handle = core.handle<DataHandle>('data')!;
    await start('o1', ['orchestrator']);
    await start('o2', ['orchestrator']);
    const a = core.handle<ApiComponent>('api')!;
    api = new CsApi({ endpoint: a.endpoint, apiKey: handle.seed!.apiKey, secretKey: handle.seed!.secretKey, jobTimeoutMs: 30_000 });
    await waitFor(() => nodes[0]!.cluster.services.registry.lookup('orchestrator').length === 2, 10_000, 'both orchestrators registered');
  });

  after(async () => {
    api?.close();
    for (const e of nodes.reverse()) {
      await e.assembly.stop();
      e.cluster.gossip.stop();
      await e.node.stop();
    }
  });

  const owners = (from: number): Record<string, number> => Object.fromEntries((handle.store.db.prepare(
    'SELECT owner_node AS o, count(*) AS n FROM async_job WHERE id > ? GROUP BY owner_node').all(from) as { o: string; n: number }[])
    .map((r) => [r.o, r.n]));
  const lastJobId = (): number => (handle.store.db.prepare('SELECT COALESCE(max(id), 0) AS m FROM async_job').get() as { m: number }).m;

  it('spreads deploys over both instances', async () => {
    const from = lastJobId();
    const seed = handle.seed!;
    const done = await Promise.all(Array.from({ length: 12 }, () => api.job('deployVirtualMachine',
      { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small, templateid: seed.templateid })));
    expect(done.every((r) => r.jobstatus === 1)).to.equal(true);
    expect(Object.keys(owners(from)).sort()).to.deep.equal(['o1', 'o2']);
  });

  it('runs the jobs of one VM one at a time, in submission order, across both instances', async () => {
    const seed = handle.seed!;
    const vm = (await api.job('deployVirtualMachine', { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small,
      templateid: seed.templateid })).id!;
    const from = lastJobId();
    const ops = ['stopVirtualMachine', 'startVirtualMachine', 'rebootVirtualMachine', 'stopVirtualMachine', 'startVirtualMachine', 'rebootVirtualMachine'];
    const jobids: string[] = [];
    for (const op of ops) jobids.push((await api.call<{ jobid: string }>(op, { id: vm })).jobid);
    const results = await Promise.all(jobids.map((j) => api.waitJob(j)));
    expect(results.map((r) => r.jobstatus), JSON.stringify(results.map((r) => r.jobresult))).to.deep.equal(ops.map(() => 1));
    const rows = handle.store.db.prepare('SELECT owner_node AS o, created, completed, last_updated FROM async_job WHERE id > ? ORDER BY id')
      .all(from) as { o: string; completed: number }[];
    // Completed in submission order: each job finished no earlier than the one submitted before it.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.completed).to.be.at.least(rows[i - 1]!.completed);
    expect(new Set(rows.map((r) => r.o)).size, 'the VM\'s jobs went to both instances').to.equal(2);
  });

  it('a stopped instance gives its jobs back and the other finishes them', async () => {
    const seed = handle.seed!;
    const mock = await api.call<{ simulatormock: { id: string } }>('configureSimulator', { name: 'StartCommand', value: 'wait:300', zoneid: seed.zoneid });
    const jobs = await Promise.all(Array.from({ length: 10 }, () => api.call<{ jobid: string }>('deployVirtualMachine',
      { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small, templateid: seed.templateid })));
    const ids = jobs.map((j) => j.jobid);
    const heldByO1 = (handle.store.db.prepare(`SELECT uuid FROM async_job WHERE status = 0 AND owner_node = 'o1' AND uuid IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as { uuid: string }[]).map((r) => r.uuid);
    await nodes[1]!.assembly.stop();
    await api.call('cleanupSimulatorMock', { id: mock.simulatormock.id });
    const results = await Promise.all(jobs.map((j) => api.waitJob(j.jobid)));
    expect(results.map((r) => r.jobstatus), JSON.stringify(results.map((r) => r.jobresult))).to.deep.equal(jobs.map(() => 1));
    expect(heldByO1.length, 'o1 held jobs when it stopped').to.be.greaterThan(0);
    const finishers = handle.store.db.prepare(`SELECT DISTINCT owner_node AS o FROM async_job WHERE uuid IN (${heldByO1.map(() => '?').join(',')})`)
      .all(...heldByO1) as { o: string }[];
    expect(finishers.map((r) => r.o)).to.deep.equal(['o2']);
  });
});
