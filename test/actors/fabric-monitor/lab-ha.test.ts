/**
 * The fabric components in one process (the all-in-one lab with heartbeating agents, the monitor and
 * the admin): CloudStack's simulator HA scenario (a PingCommand mock makes a host Down), power-state
 * reconciliation behind the database's back, maintenance, deleteHost, and pod/cluster/host
 * administration — all through the HTTP API, with the store invariants checked after each.
 */
import { expect } from 'chai';
import { startLab, type Lab } from '../../../bin/lab.js';
import type { ActorRef } from '../../../src/actor-types.js';
import { silentLogger } from '../../../src/logger.js';
import { orchestratorTestConfig } from '../../../actors/orchestrator/config.js';
import { createSeededRandom } from '../../../src/random.js';
import type { ComputeAgents } from '../../../actors/compute/start-agents.js';
import type { DataStore } from '../../../actors/data/store/index.js';
import type { FabricMonitorProtocolType } from '../../../actors/fabric-monitor/protocol.js';
import { CsApi, CsApiError, type Json } from '../../helpers/cs-api.js';
import { pendingJobs, storeInvariantViolations } from '../../helpers/invariants.js';
import { waitFor } from '../../helpers/wait.js';

interface Vm { id: string; name: string; state: string; hostid?: string; hostname?: string; haenable: boolean;
  nic: { networkname: string; ipaddress?: string }[] }
interface Host { id: string; name: string; state: string; resourcestate: string; hosttags?: string }

describe('fabric monitor and admin in the all-in-one lab', function () {
  this.timeout(60_000);
  let lab: Lab;
  let api: CsApi;
  let store: DataStore;
  let agents: ComputeAgents;
  let monitor: ActorRef<FabricMonitorProtocolType>;
  let sampler: NodeJS.Timeout | undefined;
  const doubles: string[] = [];

  const hosts = async (): Promise<Host[]> => api.listAll<Host>('listHosts', 'host', { type: 'Routing' });
  const vm = async (id: string): Promise<Vm> => (await api.call<{ virtualmachine: Vm[] }>('listVirtualMachines', { id, listall: true })).virtualmachine[0]!;
  const hostNamed = async (name: string): Promise<Host> => (await hosts()).find((h) => h.name === name)!;
  /** Host names whose simulated hypervisor runs the VM, asked of the agents' drivers. */
  const runningOn = async (id: string): Promise<string[]> => {
    const out: string[] = [];
    for (const h of agents.hostNames()) if ((await agents.driver(h)!.queryPowerStates([id]))[id] === 'PowerOn') out.push(h);
    return out;
  };
  const deploy = async (offering: string, hostid?: string): Promise<Vm> => {
    const seed = lab.seed;
    const r = await api.job('deployVirtualMachine', { zoneid: seed.zoneid, serviceofferingid: offering, templateid: seed.templateid,
      ...(hostid === undefined ? {} : { hostid }) });
    expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
    return vm(r.id!);
  };
  const violations = (): string[] => [...pendingJobs(store.sql).map((j) => `job ${j} pending`), ...storeInvariantViolations(store.sql)];

  before(async () => {
    // The seeded simulator hosts are small (4 x 8 GHz, 8 GiB): over-provision so pinned deploys fit.
    lab = await startLab({ hosts: 4, logger: silentLogger, profile: 'test', random: createSeededRandom(3), orchestrator: orchestratorTestConfig(),
      settings: { 'mem.overprovisioning.factor': '4', 'cpu.overprovisioning.factor': '4' } });
    store = lab.handles.store;
    agents = lab.handles.agents;
    monitor = lab.handles.fabricMonitor.ref()!;
    api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, jobTimeoutMs: 20_000 });
    // Sample the hypervisors throughout: no VM may ever run on two hosts at once.
    sampler = setInterval(() => {
      const seen = new Map<string, string>();
      for (const h of agents.hostNames()) {
        void agents.driver(h)?.reportPowerStates().then((s) => {
          for (const v of Object.keys(s)) {
            const other = seen.get(v);
            if (other !== undefined && other !== h) doubles.push(`${v} on ${other} and ${h}`);
            seen.set(v, h);
          }
        });
      }
    }, 20);
  });

  after(async () => {
    if (sampler !== undefined) clearInterval(sampler);
    api?.close();
    await lab?.stop();
  });

  afterEach(async () => {
    await waitFor(() => pendingJobs(store.sql).length === 0, 20_000, 'every job finished');
    expect(violations()).to.deep.equal([]);
    expect(doubles).to.deep.equal([]);
    expect((await monitor.ask('stats', {})).duplicates).to.equal(0);
  });

  it('heartbeats keep the seeded hosts Up', async () => {
    await waitFor(async () => (await monitor.ask('hosts', {})).hosts.every((h) => h.lastHeartbeat !== undefined), 5_000, 'a heartbeat from every host');
    expect((await hosts()).map((h) => h.state)).to.deep.equal(['Up', 'Up', 'Up', 'Up']);
  });

  it('a host whose hypervisor stops answering its ping is Down, fenced, and HA restarts its HA VMs elsewhere', async () => {
    const target = (await hosts())[0]!;
    const ha = [await deploy(lab.seed.haServiceOfferingId, target.id), await deploy(lab.seed.haServiceOfferingId, target.id)];
    const plain = [await deploy(lab.seed.serviceofferings.small, target.id), await deploy(lab.seed.serviceofferings.small, target.id)];
    const mock = await api.call<{ simulatormock: Json }>('configureSimulator', { name: 'PingCommand', value: 'result:fail', hostid: target.id });
    await waitFor(async () => (await hostNamed(target.name)).state === 'Down', 10_000, 'the host Down');
    for (const v of ha) {
      await waitFor(async () => { const x = await vm(v.id); return x.state === 'Running' && x.hostid !== target.id; }, 10_000, `HA VM ${v.name} running elsewhere`);
      expect(await runningOn(v.id)).to.have.length(1);
      // Deployed without networkids: restarted on the account's default network, its address kept.
      const nics = (await vm(v.id)).nic;
      expect(nics.map((n) => [n.networkname, n.ipaddress])).to.deep.equal(v.nic.map((n) => ['admin-network', n.ipaddress]));
      expect(nics[0]!.ipaddress).to.match(/^10\.1\.1\.\d+$/);
    }
    for (const v of plain) {
      await waitFor(async () => (await vm(v.id)).state === 'Stopped', 10_000, `VM ${v.name} stopped`);
      expect(await runningOn(v.id)).to.deep.equal([]);
    }
    const events = await api.listAll<{ type: string; description: string }>('listEvents', 'event', { listall: true });
    expect(events.some((e) => e.type === 'HA.FENCE' && /fenced by its agent/.test(e.description))).to.equal(true);
    await api.call('cleanupSimulatorMock', { id: String(mock.simulatormock['id']) });
    await waitFor(async () => (await hostNamed(target.name)).state === 'Up', 10_000, 'the host Up again once it answers');
  });

  it('reconciles power states: a VM gone from its host is Stopped (or restarted with HA), a copy the database does not place is stopped', async () => {
    const [h1, h2] = await hosts();
    const plain = await deploy(lab.seed.serviceofferings.small, h1!.id);
    const ha = await deploy(lab.seed.haServiceOfferingId, h1!.id);
    await agents.ref(h1!.name).ask('stopVm', { key: 'behind-the-db-1', vmUuid: plain.id, forced: true });
    await agents.ref(h1!.name).ask('stopVm', { key: 'behind-the-db-2', vmUuid: ha.id, forced: true });
    await waitFor(async () => (await vm(plain.id)).state === 'Stopped', 10_000, 'the vanished VM Stopped');
    await waitFor(async () => { const x = await vm(ha.id); return x.state === 'Running' && (await runningOn(ha.id)).length === 1; }, 10_000,
      'the vanished HA VM running again');
    // A copy of a Stopped VM started on a host behind the database's back is stopped there.
    await agents.ref(h2!.name).ask('startVm', { key: 'stray-1', vm: { uuid: plain.id, name: plain.name, cpuCores: 1, cpuSpeedMhz: 500,
      memoryMiB: 512, nics: [], volumes: [] } });
    expect(await runningOn(plain.id)).to.deep.equal([h2!.name]);
    await waitFor(async () => (await runningOn(plain.id)).length === 0, 10_000, 'the stray copy stopped');
    expect((await vm(plain.id)).state).to.equal('Stopped');
    expect((await monitor.ask('stats', {})).strayStops).to.be.greaterThan(0);
  });

  it('maintenance mode moves the running VMs away, and cancelling it enables the host again', async () => {
    const target = (await hosts())[2]!;
    const vms = [await deploy(lab.seed.serviceofferings.small, target.id), await deploy(lab.seed.haServiceOfferingId, target.id)];
    const r = await api.job('prepareHostForMaintenance', { id: target.id });
    expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
    expect((r.jobresult['host'] as Host).resourcestate).to.equal('Maintenance');
    for (const v of vms) {
      const x = await vm(v.id);
      expect(x.state).to.equal('Running');
      expect(x.hostid).to.not.equal(target.id);
      expect(await runningOn(v.id)).to.have.length(1);
    }
    const c = await api.job('cancelHostMaintenance', { id: target.id });
    expect((c.jobresult['host'] as Host).resourcestate).to.equal('Enabled');
  });

  it('administers hosts, pods and clusters: tags, allocation state, deleteHost (refused while in use, forced evacuates)', async () => {
    const [h0, , , h3] = await hosts();
    const tagged = await api.call<{ host: Host }>('updateHost', { id: h3!.id, hosttags: 'gpu,fast' });
    expect(tagged.host.hosttags).to.equal('gpu,fast');
    const disabled = await api.call<{ host: Host }>('updateHost', { id: h3!.id, allocationstate: 'Disable' });
    expect(disabled.host.resourcestate).to.equal('Disabled');
    await api.call('updateHost', { id: h3!.id, allocationstate: 'Enable' });
    const cluster = await api.call<{ cluster: { allocationstate: string } }>('updateCluster', { id: lab.seed.clusterid, allocationstate: 'Disabled' });
    expect(cluster.cluster.allocationstate).to.equal('Disabled');
    const failed = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid });
    expect(failed.jobresultcode).to.equal(533);
    await api.call('updateCluster', { id: lab.seed.clusterid, allocationstate: 'Enabled' });
    const pod = await api.call<{ pod: { allocationstate: string } }>('updatePod', { id: lab.seed.podid, allocationstate: 'Enabled' });
    expect(pod.pod.allocationstate).to.equal('Enabled');

    const ha = await deploy(lab.seed.haServiceOfferingId, h0!.id);
    const err = await api.call('deleteHost', { id: h0!.id }).then(() => undefined, (e: CsApiError) => e);
    expect(err?.code).to.equal(536);
    const ok = await api.call<{ success: boolean }>('deleteHost', { id: h0!.id, forced: true });
    expect(ok.success).to.equal(true);
    expect((await hosts()).map((h) => h.name)).to.not.include(h0!.name);
    await waitFor(async () => { const x = await vm(ha.id); return x.state === 'Running' && x.hostid !== h0!.id; }, 10_000, 'the HA VM restarted elsewhere');
    expect(await runningOn(ha.id)).to.have.length(1);
  });
});
