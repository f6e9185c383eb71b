/**
 * Issue 18: a host with more VMs than one page (600) through the fabric components of the all-in-one
 * lab, driven through the HTTP API: power-state sync notices a VM beyond the 500th, and maintenance
 * moves every one of the 600 away (it used to see only the first 500).
 */
import { expect } from 'chai';
import { startLab, type Lab } from '../../../bin/lab.js';
import { silentLogger } from '../../../src/logger.js';
import { createSeededRandom } from '../../../src/random.js';
import type { ComputeAgents } from '../../../actors/compute/start-agents.js';
import type { DataStore } from '../../../actors/data/store/index.js';
import { orchestratorTestConfig } from '../../../actors/orchestrator/config.js';
import { CsApi } from '../../helpers/cs-api.js';
import { pendingJobs, storeInvariantViolations } from '../../helpers/invariants.js';
import { waitFor } from '../../helpers/wait.js';

interface Vm { id: string; name: string; state: string; hostid?: string }
interface Host { id: string; name: string; state: string; resourcestate: string }

const VMS = 600;
/** Concurrent deploys (bounded so the 600 take seconds, not minutes, on a shared 2-core machine). */
const CLIENTS = 24;

describe('fabric: a host with 600 VMs (more than one page)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let api: CsApi;
  let store: DataStore;
  let agents: ComputeAgents;
  let host: Host;
  const ids: string[] = [];

  const vmsOn = async (hostid: string): Promise<Vm[]> => (await api.call<{ virtualmachine?: Vm[] }>('listVirtualMachines',
    { listall: true, hostid, pagesize: -1 })).virtualmachine ?? [];

  before(async function () {
    // The seeded simulator hosts are small: over-provision so that 600 VMs fit on one of them. One agent
    // takes every deploy and migration: steps queue there, so they get more than the test profile's 1.5 s.
    lab = await startLab({ hosts: 3, logger: silentLogger, profile: 'test', random: createSeededRandom(18),
      orchestrator: { ...orchestratorTestConfig(), stepTimeoutMs: 20_000 },
      settings: { 'mem.overprovisioning.factor': '100', 'cpu.overprovisioning.factor': '100', 'storage.overprovisioning.factor': '100' } });
    store = lab.handles.store;
    agents = lab.handles.agents;
    api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, jobTimeoutMs: 150_000, maxSockets: CLIENTS, pollMs: 50 });
    host = (await api.listAll<Host>('listHosts', 'host', { type: 'Routing' }))[0]!;
    // A /22 guest network: the zone's default /24 holds fewer addresses than 600 VMs need.
    const net = (await api.call<{ network: { id: string } }>('createNetwork', { name: 'wide', zoneid: lab.seed.zoneid,
      networkofferingid: lab.seed.networkofferingid, gateway: '10.20.0.1', netmask: '255.255.252.0' })).network.id;
    let next = 0;
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < VMS) {
        next++;
        const r = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
          templateid: lab.seed.templateid, networkids: net, hostid: host.id });
        expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
      }
    }));
    ids.push(...(await vmsOn(host.id)).map((v) => v.id));
    expect(ids).to.have.length(VMS);
  });

  after(async () => {
    api?.close();
    await lab?.stop();
  });

  it('power-state sync notices a VM beyond the 500th that vanished from its host', async () => {
    const victim = ids[550]!;
    await agents.ref(host.name).ask('stopVm', { key: 'behind-the-db-550', vmUuid: victim, forced: true });
    await waitFor(async () => (await vmsOn(host.id)).every((v) => v.id !== victim), 15_000, 'the 551st VM Stopped by power-state sync');
    const after = await api.call<{ virtualmachine: Vm[] }>('listVirtualMachines', { listall: true, id: victim });
    expect(after.virtualmachine[0]!.state).to.equal('Stopped');
    expect((await vmsOn(host.id)).filter((v) => v.state === 'Running')).to.have.length(VMS - 1);
  });

  it('maintenance migrates every one of the host\'s running VMs, not just the first 500', async () => {
    const r = await api.job('prepareHostForMaintenance', { id: host.id });
    expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
    expect((r.jobresult['host'] as Host).resourcestate).to.equal('Maintenance');
    expect(await vmsOn(host.id)).to.deep.equal([]);
    const running = (await api.call<{ virtualmachine: Vm[] }>('listVirtualMachines', { listall: true, pagesize: -1 })).virtualmachine
      .filter((v) => v.state === 'Running');
    expect(running).to.have.length(VMS - 1);
    expect(running.every((v) => v.hostid !== host.id)).to.equal(true);
    expect((await agents.driver(host.name)!.reportPowerStates())).to.deep.equal({});
    await waitFor(() => pendingJobs(store.sql).length === 0, 30_000, 'every job finished');
    expect(storeInvariantViolations(store.sql)).to.deep.equal([]);
  });
});
