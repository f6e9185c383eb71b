/**
 * Every component its own process (issue 11 section 5), with real `cloudstackd` processes over ws at
 * default timings, beside the all-in-one lab in the same run:
 * - deploy throughput and job latency with 1 and 2 orchestrators and 1 and 2 API instances (the same
 *   file database, cleaned between phases), and the split cluster against the all-in-one lab;
 * - the cost of fencing: the all-in-one lab (file database) with and without fenced job writes;
 * - takeover: SIGKILL of an orchestrator with jobs in flight until every one of its jobs is held by the
 *   other, beside the lease time.
 * Runnable alone: `node dist/bench/split.js`.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startLab } from '../bin/lab.js';
import { LEASE_DEFAULTS } from '../src/lease.js';
import { CsApi } from '../test/helpers/cs-api.js';
import { ProcCluster } from '../test/system/distributed-cluster.js';
import { allInOne, deployLoad, idsOf, waitUntil } from './distributed.js';
import { envInt, line, progress, type Emit } from './lib.js';

const CLIENTS = envInt('SPLIT_BENCH_CLIENTS', 20);
const POLL_MS = 10;
/** Compute hosts big enough that every phase's VMs fit without over-provisioning. */
const COMPUTE_ARGS = ['--cpu-cores', '4096', '--memory', String(4 << 20)];

type Load = Awaited<ReturnType<typeof deployLoad>>;

/** Expunges every VM, so each phase starts from the same database size. */
async function clean(api: CsApi): Promise<void> {
  const vms = await api.listAll<{ id: string }>('listVirtualMachines', 'virtualmachine', { listall: true });
  for (let i = 0; i < vms.length; i += CLIENTS) {
    await Promise.all(vms.slice(i, i + CLIENTS).map(async (v) => {
      const d = await api.call<{ jobid: string }>('destroyVirtualMachine', { id: v.id, expunge: true });
      await api.waitJob(d.jobid);
    }));
  }
}

/** Spreads the load over several API instances: the clients take turns. */
function spread(apis: CsApi[]): CsApi {
  let i = 0;
  const pick = (): CsApi => apis[i++ % apis.length]!;
  return new Proxy(apis[0]!, {
    get: (_t, prop) => {
      if (prop === 'job' || prop === 'call' || prop === 'listAll' || prop === 'waitJob') {
        return (...args: unknown[]) => (pick() as unknown as Record<string, (...a: unknown[]) => unknown>)[prop as string]!(...args);
      }
      return (apis[0] as unknown as Record<string | symbol, unknown>)[prop];
    },
  });
}

async function startSplit(c: ProcCluster): Promise<void> {
  const profile = ['--heartbeat-profile', 'default'];
  await c.startRoles('d1', 'data', { args: profile });
  const via = { via: 'd1', args: profile };
  await Promise.all([c.startRoles('api1', 'api', via), c.startRoles('api2', 'api', via), c.startRoles('orch1', 'orchestrator', via),
    c.startRoles('orch2', 'orchestrator', via), c.startRoles('ns1', 'network,storage', via), c.startRoles('fm1', 'fabric-monitor,fabric-admin', via)]);
  await Promise.all(['c1', 'c2', 'c3'].map((n) => c.startRoles(n, 'compute', { via: 'd1', args: [...profile, ...COMPUTE_ARGS] })));
}

async function takeover(c: ProcCluster, api: CsApi, emit: Emit): Promise<void> {
  const ids = await idsOf(api);
  const db = new Database(join(c.dir, 'd1-data', 'cloudstackd.db'), { readonly: true });
  try {
    const mock = await api.call<{ simulatormock: { id: string } }>('configureSimulator', { name: 'StartCommand', value: 'wait:3000', zoneid: ids.zoneid });
    const jobs = await Promise.all(Array.from({ length: 20 }, () => api.call<{ jobid: string }>('deployVirtualMachine',
      { zoneid: ids.zoneid, serviceofferingid: ids.small, templateid: ids.templateid })));
    const held = (owner: string): string[] => (db.prepare("SELECT name FROM lease WHERE name LIKE 'job:%' AND owner LIKE ? AND expires > ?")
      .all(`${owner}/%`, Date.now()) as { name: string }[]).map((r) => r.name);
    await waitUntil(async () => held('orch1').length >= 5, 20_000, 'orch1 holding jobs');
    const victims = held('orch1');
    const t0 = performance.now();
    await c.signal('orch1', 'SIGKILL');
    await waitUntil(async () => victims.every((n) => (db.prepare('SELECT owner FROM lease WHERE name = ?').get(n) as { owner?: string } | undefined)
      ?.owner?.startsWith('orch2/') ?? true), 60_000, 'every job of orch1 held by orch2', 20);
    const ms = performance.now() - t0;
    await api.call('cleanupSimulatorMock', { id: mock.simulatormock.id });
    for (const j of jobs) await api.waitJob(j.jobid);
    emit(line('split.orchestrator-takeover', ms, 'ms', `SIGKILL of an orchestrator with ${victims.length} jobs in flight until the other holds them all; ` +
      `baseline: the job lease time (default profile)`, LEASE_DEFAULTS.ttlMs));
  } finally {
    db.close();
  }
}

/** The all-in-one lab (file database) with and without fenced job writes, same load. */
async function fencingCost(emit: Emit): Promise<void> {
  const run = async (fenceWrites: boolean): Promise<Load> => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-fence-bench-'));
    const lab = await startLab({ hosts: 3, logLevel: 'error', profile: 'test', dataDir: dir, orchestrator: { fenceWrites },
      settings: { 'mem.overprovisioning.factor': '32', 'cpu.overprovisioning.factor': '32' } });
    const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, maxSockets: CLIENTS, pollMs: POLL_MS, jobTimeoutMs: 120_000 });
    try {
      return await deployLoad(api);
    } finally {
      api.close();
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const without = await run(false);
  const fenced = await run(true);
  emit(line('split.fencing.lab.deploy.vms-per-s', fenced.rate, 'VMs/s', 'the same lab (file database) without fenced job writes (target: cost under 10 %)',
    without.rate, { ratio: 0.9, higherIsBetter: true }));
}

export async function runSplitBench(emit: Emit): Promise<void> {
  progress('split: the all-in-one lab (file database) as the baseline');
  const lab = await allInOne(true);
  await fencingCost(emit);
  const c = new ProcCluster({ transport: 'ws', logLevel: 'error', profile: 'default' });
  try {
    progress('split: 1 data, 2 api, 2 orchestrator, network+storage, fabric, 3 compute processes over ws');
    await startSplit(c);
    const keys = c.keysOf('d1');
    const api1 = new CsApi({ endpoint: c.endpointOf('api1'), ...keys, maxSockets: CLIENTS, pollMs: POLL_MS, jobTimeoutMs: 120_000 });
    const api2 = new CsApi({ endpoint: c.endpointOf('api2'), ...keys, maxSockets: CLIENTS, pollMs: POLL_MS, jobTimeoutMs: 120_000 });
    await waitUntil(async () => (await api1.listAll<{ state: string }>('listHosts', 'host')).filter((h) => h.state === 'Up').length === 3, 60_000, '3 hosts Up');
    const phase = async (name: string, api: CsApi): Promise<Load> => {
      progress(`split: ${name}`);
      const r = await deployLoad(api);
      await clean(api1);
      return r;
    };
    const both = await phase('2 api, 2 orchestrators', spread([api1, api2]));
    const oneApi = await phase('1 api, 2 orchestrators', api1);
    await c.signal('orch2', 'SIGTERM');
    const oneOrch = await phase('2 api, 1 orchestrator', spread([api1, api2]));
    const oneOne = await phase('1 api, 1 orchestrator', api1);
    await c.startRoles('orch2', 'orchestrator', { via: 'd1', args: ['--heartbeat-profile', 'default'] });
    emit(line('split.deploy.2api-2orch.vms-per-s', both.rate, 'VMs/s', 'the all-in-one lab, same load and file database (target ≥ 0.8)', lab.rate,
      { ratio: 0.8, higherIsBetter: true }));
    emit(line('split.deploy.1api-1orch.vms-per-s', oneOne.rate, 'VMs/s', 'the all-in-one lab, same load and file database', lab.rate));
    emit(line('split.deploy.2orch-vs-1orch', both.rate, 'VMs/s', '2 api + 1 orchestrator', oneOrch.rate));
    emit(line('split.deploy.2api-vs-1api', both.rate, 'VMs/s', '1 api + 2 orchestrators', oneApi.rate));
    emit(line('split.deploy.2api-2orch.job-latency.p50', both.p50, 'ms', '1 api + 1 orchestrator', oneOne.p50));
    emit(line('split.deploy.2api-2orch.job-latency.p99', both.p99, 'ms', '1 api + 1 orchestrator', oneOne.p99));
    await takeover(c, api1, emit);
    api1.close();
    api2.close();
  } finally {
    await c.dispose();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runSplitBench((l) => console.log(JSON.stringify(l)));
}
