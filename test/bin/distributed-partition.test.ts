/**
 * The management and compute roles (bin/assembly.ts, as `cloudstackd --role=...` starts them) on four nodes in one process, with
 * gossip, over an in-process transport that can black-hole traffic between chosen nodes:
 * - a compute node cut off from the management node only (the others still reach it) is Alert, never
 *   Down: no HA, its VMs keep running;
 * - a management node cut off from every host declares none Down and stops no VM, and the compute
 *   nodes (which still see each other) do not fence themselves;
 * - a compute node cut off from everyone is Down; it fences itself (isolation response) and its HA VMs
 *   are restarted elsewhere — sampled every 20 ms, no VM ever runs on two hosts; healed, it is Up again.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '../../src/envelope.js';
import { silentLogger } from '../../src/logger.js';
import { Node } from '../../src/node.js';
import type { TransportHandlers } from '../../src/transport.js';
import { InprocHub } from '../../transports/inproc/hub.js';
import { InprocTransport } from '../../transports/inproc/inproc-transport.js';
import { ComputeProtocol, computeAgentPath } from '../../actors/compute/protocol.js';
import { startAssembly, type Assembly } from '../../bin/assembly.js';
import type { CliConfig } from '../../bin/cli-options.js';
import { startClusterMembership, type ClusterMembership } from '../../bin/cluster.js';
import { ROLE_SETS } from '../../bin/components.js';
import { writeCredentials } from '../../bin/lab.js';
import { optionsFromCli } from '../../bin/node-options.js';
import type { DataHandle } from '../../actors/data/component.js';
import type { ApiComponent } from '../../actors/api/api-actor.js';
import { CsApi } from '../helpers/cs-api.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** Black holes between node pairs (both directions), applied where envelopes arrive. */
class Partitions {
  private readonly cut = new Set<string>();
  isolate(a: string, others: readonly string[]): void { for (const b of others) { this.cut.add(`${a}|${b}`); this.cut.add(`${b}|${a}`); } }
  heal(): void { this.cut.clear(); }
  blocked(from: string, to: string): boolean { return this.cut.has(`${from}|${to}`); }
}

class PartitionedTransport extends InprocTransport {
  constructor(nodeId: string, hub: InprocHub, private readonly parts: Partitions) {
    super({ nodeId, hub });
  }

  override start(h: TransportHandlers): Promise<void> {
    return super.start({ ...h, onEnvelope: (env: Envelope) => { if (!this.parts.blocked(env.fromNode, this.nodeId)) h.onEnvelope(env); } });
  }
}

interface Vm { id: string; name: string; state: string; hostid?: string; hostname?: string; haenable: boolean }
interface Host { id: string; name: string; state: string }

const COMPUTES = ['c1', 'c2', 'c3'];

function cliConfig(name: string, dataDir: string): CliConfig {
  return {
    roles: [...(name === 'mgmt' ? ROLE_SETS.management! : ROLE_SETS.compute!)], transport: 'inproc', listen: { host: '127.0.0.1', port: 0 }, join: [], redisUrl: undefined, clusterName: 'partition',
    clusterSecretFile: undefined, nodeName: name, bind: '127.0.0.1', port: 0, dataDir, databaseUrl: undefined, databaseUnavailableRetryMs: undefined, hosts: 0, logLevel: 'silent', strict: false,
    hypervisor: 'simulator', cpuCores: 32, cpuSpeed: 2400, memory: 131_072, zone: undefined, pod: undefined, cluster: undefined, labels: [], launcherCapacity: 32, metricsPort: undefined, metricsHost: '127.0.0.1', logFormat: 'text', restartMaxFailures: undefined, restartWindowMs: undefined,
    joinTimeoutMs: 1000, heartbeatProfile: 'test',
  };
}

describe('distributed roles under network partitions (four nodes in one process)', function () {
  this.timeout(90_000);
  const parts = new Partitions();
  const hub = new InprocHub();
  const nodes = new Map<string, { node: Node; cluster: ClusterMembership; started: Assembly }>();
  const doubles: string[] = [];
  let dir: string;
  let api: CsApi;
  let sampler: NodeJS.Timeout | undefined;

  const hosts = (): Promise<Host[]> => api.listAll<Host>('listHosts', 'host');
  const state = async (name: string): Promise<string> => (await hosts()).find((h) => h.name === name)!.state;
  const vms = (): Promise<Vm[]> => api.listAll<Vm>('listVirtualMachines', 'virtualmachine', { listall: true });
  /** What the hypervisor of `host` runs, asked on its own node (the partition does not apply inside a node). */
  const running = async (host: string): Promise<string[]> => {
    const n = nodes.get(host)!.node;
    return Object.keys((await n.system.ref(computeAgentPath(host), ComputeProtocol).ask('queryPowerStates', {})).states);
  };

  async function start(name: string): Promise<void> {
    const node = new Node({ nodeId: name, transport: new PartitionedTransport(name, hub, parts), logger: silentLogger });
    await node.start();
    const config = cliConfig(name, join(dir, 'mgmt'));
    const cluster = await startClusterMembership(node, { roles: config.roles, clusterName: 'partition', profile: 'test', seeds: [], log: silentLogger });
    // The same assembly and the same options as `cloudstackd --role=management|compute` gives these roles.
    const started = await startAssembly({ system: node.system, services: cluster.services, transport: node.transport, log: silentLogger,
      profile: 'test' }, config.roles, optionsFromCli(config));
    if (name === 'mgmt') {
      const seed = started.handle<DataHandle>('data')!.seed!;
      writeCredentials(config.dataDir, { endpoint: started.handle<ApiComponent>('api')!.endpoint, apiKey: seed.apiKey, secretKey: seed.secretKey });
    }
    nodes.set(name, { node, cluster, started });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-partition-'));
    await start('mgmt');
    for (const c of COMPUTES) await start(c);
    const cred = JSON.parse(readFileSync(join(dir, 'mgmt', 'credentials.json'), 'utf8')) as { endpoint: string; apiKey: string; secretKey: string };
    api = new CsApi({ ...cred, jobTimeoutMs: 30_000 });
    await waitFor(async () => (await hosts()).filter((h) => h.state === 'Up').length === 3, 20_000, 'three hosts Up', 100);
    const offerings = await api.listAll<{ id: string; name: string }>('listServiceOfferings', 'serviceoffering');
    const zoneid = (await api.listAll<{ id: string }>('listZones', 'zone'))[0]!.id;
    const templateid = (await api.listAll<{ id: string }>('listTemplates', 'template', { templatefilter: 'featured' }))[0]!.id;
    for (const h of await hosts()) {
      for (const so of [offerings.find((x) => x.name.includes('HA'))!.id, offerings.find((x) => x.name.startsWith('Small'))!.id]) {
        const r = await api.job('deployVirtualMachine', { zoneid, templateid, serviceofferingid: so, hostid: h.id });
        expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
      }
    }
    sampler = setInterval(() => {
      void Promise.all(COMPUTES.map(async (c) => [c, await running(c)] as const)).then((all) => {
        const seen = new Map<string, string>();
        for (const [c, list] of all) for (const v of list) { if (seen.has(v)) doubles.push(`${v} on ${seen.get(v)} and ${c}`); seen.set(v, c); }
      }, () => undefined);
    }, 20);
  });

  after(async () => {
    if (sampler !== undefined) clearInterval(sampler);
    api?.close();
    for (const [, n] of [...nodes].reverse()) {
      await n.started.stop().catch(() => undefined);
      n.cluster.gossip.stop();
      await n.node.stop().catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    parts.heal();
    await waitFor(async () => (await hosts()).every((h) => h.state === 'Up'), 20_000, 'every host Up after healing', 100);
    expect(doubles).to.deep.equal([]);
  });

  it('a compute node cut off from the management node only is Alert, not Down, and keeps its VMs', async () => {
    const before = (await vms()).filter((v) => v.hostname === 'c1' && v.state === 'Running').map((v) => v.id).sort();
    parts.isolate('mgmt', ['c1']);
    await waitFor(async () => (await state('c1')) === 'Alert', 20_000, 'c1 Alert', 100);
    await sleep(4_000); // longer than fenceWaitMs: a wrong Down would have run HA by now
    expect(await state('c1')).to.equal('Alert');
    expect((await vms()).filter((v) => v.hostname === 'c1' && v.state === 'Running').map((v) => v.id).sort()).to.deep.equal(before);
    expect((await running('c1')).sort()).to.deep.equal(before);
  });

  it('a management node cut off from every host declares none Down, and the hosts keep running', async () => {
    const before = (await vms()).filter((v) => v.state === 'Running').map((v) => v.id).sort();
    parts.isolate('mgmt', COMPUTES);
    await waitFor(async () => (await hosts()).every((h) => h.state === 'Alert'), 20_000, 'every host Alert', 100);
    await sleep(4_000);
    expect((await hosts()).map((h) => h.state)).to.deep.equal(['Alert', 'Alert', 'Alert']);
    expect((await vms()).filter((v) => v.state === 'Running').map((v) => v.id).sort()).to.deep.equal(before);
    const onHosts = (await Promise.all(COMPUTES.map(running))).flat().sort();
    expect(onHosts).to.deep.equal(before);
  });

  it('a compute node cut off from everyone is Down, fences itself, and its HA VMs run elsewhere, never twice', async () => {
    const all = await vms();
    const lost = all.filter((v) => v.hostname === 'c2' && v.state === 'Running');
    parts.isolate('c2', ['mgmt', 'c1', 'c3']);
    await waitFor(async () => (await state('c2')) === 'Down', 20_000, 'c2 Down', 100);
    await waitFor(async () => (await running('c2')).length === 0, 20_000, 'c2 fenced by its isolation response', 50);
    await waitFor(async () => {
      const now = new Map((await vms()).map((v) => [v.id, v]));
      return lost.every((v) => (v.haenable ? now.get(v.id)!.state === 'Running' && now.get(v.id)!.hostname !== 'c2' : now.get(v.id)!.state === 'Stopped'));
    }, 20_000, 'HA VMs running elsewhere, the others Stopped', 100);
  });
});
