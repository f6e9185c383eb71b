/**
 * Distributed roles (issue 8 section 6), with real `cloudstackd` processes on this machine:
 * - deploy throughput and job latency p50/p99 through the API with 1 management + 3 compute processes
 *   over ws and over redis, beside the same load on the all-in-one lab (every component in one process);
 * - time from SIGKILL of a compute process to its host Down, and to its HA VMs Running elsewhere;
 * - a scale run: SCALE_PROCS processes of SCALE_AGENTS simulated hosts each on ws (default 4 x 50 =
 *   200 hosts): time for all hosts to be Up, the management node's CPU and memory under their
 *   heartbeats, and memory per compute agent.
 * Heartbeat and failure-detection timings are the `test` profile (250 ms heartbeats) throughout, so
 * the heartbeat load is 40x the default profile's. Runnable alone: `node dist/bench/distributed.js`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLab } from '../bin/lab.js';
import { fabricTestConfig } from '../actors/fabric-monitor/config.js';
import { CsApi } from '../test/helpers/cs-api.js';
import { projectRoot } from '../test/helpers/paths.js';
import { ProcCluster } from '../test/system/distributed-cluster.js';
import { envInt, line, percentiles, progress, type Emit } from './lib.js';
import { cpuTicks, rssKiB, waitUntil } from './proc-stats.js';

// Other multi-process benches import these from here.
export { cpuTicks, rssKiB, waitUntil };

const VMS = envInt('DIST_BENCH_VMS', 300);
const CONCURRENCY = envInt('DIST_BENCH_CLIENTS', 20);
const HA_VMS = envInt('DIST_BENCH_HA_VMS', 8);
const SCALE_PROCS = envInt('DIST_BENCH_SCALE_PROCS', 4);
const SCALE_AGENTS = envInt('DIST_BENCH_SCALE_AGENTS', 50);
const POLL_MS = 10;

interface Ids { zoneid: string; small: string; ha: string; templateid: string }

export async function idsOf(api: CsApi): Promise<Ids> {
  const offerings = await api.listAll<{ id: string; name: string }>('listServiceOfferings', 'serviceoffering');
  return {
    zoneid: (await api.listAll<{ id: string }>('listZones', 'zone'))[0]!.id,
    small: offerings.find((x) => x.name.startsWith('Small'))!.id,
    ha: offerings.find((x) => x.name.includes('HA'))!.id,
    templateid: (await api.listAll<{ id: string }>('listTemplates', 'template', { templatefilter: 'featured' }))[0]!.id,
  };
}

/** VMS deploys by CONCURRENCY clients; VMs/s over the run and job latency (submit → finished job seen by a poll). */
export async function deployLoad(api: CsApi): Promise<{ rate: number; p50: number; p99: number; failed: number }> {
  const ids = await idsOf(api);
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < VMS) {
      next++;
      const start = performance.now();
      const r = await api.job('deployVirtualMachine', { zoneid: ids.zoneid, serviceofferingid: ids.small, templateid: ids.templateid });
      if (r.jobstatus === 1) latencies.push(performance.now() - start); else failed++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { rate: latencies.length / seconds, ...percentiles(latencies), failed };
}

const upCount = async (api: CsApi): Promise<number> => (await api.listAll<{ state: string }>('listHosts', 'host', { type: 'Routing' }))
  .filter((h) => h.state === 'Up').length;

/**
 * The all-in-one lab (3 hosts, over-provisioned so the load fits, as the distributed cloud's 3 hosts),
 * with its database in a file as the management node's (`inFile`) or in memory.
 */
export async function allInOne(inFile: boolean): Promise<{ rate: number; p50: number; p99: number }> {
  // The same fabric as the distributed cloud (the test profile: heartbeats every 250 ms, power-state sync): only the process split differs.
  const dir = inFile ? mkdtempSync(join(tmpdir(), 'cloudstackd-dist-bench-')) : undefined;
  const lab = await startLab({ hosts: 3, logLevel: 'error', profile: 'test',
    settings: { 'mem.overprovisioning.factor': '32', 'cpu.overprovisioning.factor': '32' },
    ...(dir === undefined ? {} : { dataDir: dir }) });
  const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, maxSockets: CONCURRENCY, pollMs: POLL_MS, jobTimeoutMs: 120_000 });
  try {
    return await deployLoad(api);
  } finally {
    api.close();
    await lab.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** Deploy load, then SIGKILL of a compute process running HA VMs: time to Down and to the VMs running elsewhere. */
async function distributed(emit: Emit, transport: 'ws' | 'redis', redisUrl: string | undefined, base: { rate: number; p50: number; p99: number }): Promise<number> {
  const c = new ProcCluster({ transport, logLevel: 'error', ...(redisUrl === undefined ? {} : { redisUrl }) });
  try {
    await c.startManagement();
    await Promise.all(['c1', 'c2', 'c3'].map((n) => c.startCompute(n)));
    const api = new CsApi({ endpoint: c.endpoint, ...c.keys, maxSockets: CONCURRENCY, pollMs: POLL_MS, jobTimeoutMs: 120_000 });
    await waitUntil(async () => (await upCount(api)) === 3, 30_000, 'three hosts Up');
    progress(`distributed ${transport}: ${VMS} deploys by ${CONCURRENCY} clients`);
    const d = await deployLoad(api);
    const tag = `1 management + 3 compute processes over ${transport}`;
    emit(line(`distributed.${transport}.deploy.vms-per-s`, d.rate, 'VMs/s', `all-in-one lab, file db, same load (${VMS} VMs, ${CONCURRENCY} clients)`, base.rate));
    emit(line(`distributed.${transport}.deploy.job-latency.p50`, d.p50, 'ms', 'all-in-one lab, file db, same load', base.p50));
    emit(line(`distributed.${transport}.deploy.job-latency.p99`, d.p99, 'ms', 'all-in-one lab, file db, same load', base.p99));
    emit(line(`distributed.${transport}.deploy.failed`, d.failed, 'jobs', 'every deploy fits: none may fail', 0));
    const ids = await idsOf(api);
    const victim = (await api.listAll<{ id: string; name: string }>('listHosts', 'host')).find((h) => h.name === 'c1')!;
    const ha = await Promise.all(Array.from({ length: HA_VMS }, () => api.job('deployVirtualMachine', { zoneid: ids.zoneid,
      serviceofferingid: ids.ha, templateid: ids.templateid, hostid: victim.id })));
    const computeRss = rssKiB(c.procs.get('c2')!.child.pid!);
    const t0 = performance.now();
    await c.signal('c1', 'SIGKILL');
    await waitUntil(async () => (await api.listAll<{ name: string; state: string }>('listHosts', 'host')).find((h) => h.name === 'c1')!.state === 'Down',
      60_000, 'c1 Down');
    const down = performance.now() - t0;
    // Only the HA VMs that fit on c1 count (a full host answers 533).
    const moved = new Set(ha.filter((j) => j.jobstatus === 1).map((j) => j.id!));
    await waitUntil(async () => (await api.listAll<{ id: string; state: string; hostid?: string }>('listVirtualMachines', 'virtualmachine', { listall: true }))
      .filter((v) => moved.has(v.id) && v.state === 'Running' && v.hostid !== victim.id).length === moved.size, 60_000, 'HA VMs running elsewhere');
    const restarted = performance.now() - t0;
    const cfg = fabricTestConfig();
    emit(line(`distributed.${transport}.sigkill-to-host-down`, down, 'ms', `test profile: gossip failure detection + investigation (heartbeat timeout ${cfg.heartbeatTimeoutMs} ms is the fallback)`, cfg.heartbeatTimeoutMs));
    emit(line(`distributed.${transport}.sigkill-to-ha-vms-running`, restarted, 'ms', `Down + fenceWaitMs (${cfg.fenceWaitMs} ms, a dead node's agent cannot fence) + ${HA_VMS} restarts`, down + cfg.fenceWaitMs));
    api.close();
    return computeRss;
  } finally {
    await c.dispose();
  }
}

/** SCALE_PROCS x SCALE_AGENTS simulated hosts on ws: time to all Up, management load under their heartbeats, memory per agent. */
async function scale(emit: Emit, oneAgentRssKiB: number): Promise<void> {
  const c = new ProcCluster({ transport: 'ws', logLevel: 'error' });
  const script = join(projectRoot(), 'dist/bench/distributed-agents.js');
  try {
    const mgmt = await c.startManagement();
    const api = new CsApi({ endpoint: c.endpoint, ...c.keys, maxSockets: 4, pollMs: POLL_MS });
    const total = SCALE_PROCS * SCALE_AGENTS;
    const t0 = performance.now();
    const procs = await Promise.all(Array.from({ length: SCALE_PROCS }, (_v, i) => c.startCompute(`s${i}`, { script, extra: ['--agents', String(SCALE_AGENTS)] })));
    await waitUntil(async () => (await upCount(api)) === total, 180_000, `${total} hosts Up`, 250);
    const allUp = performance.now() - t0;
    progress(`distributed scale: ${total} hosts Up in ${allUp.toFixed(0)} ms; measuring the steady state`);
    const pid = mgmt.child.pid!;
    const c0 = cpuTicks(pid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 5_000));
    const cpuPercent = ((cpuTicks(pid) - c0) / 100) / ((performance.now() - w0) / 1000) * 100;
    const heartbeatsPerS = total * (1000 / fabricTestConfig().heartbeatIntervalMs);
    const agentRss = procs.map((p) => rssKiB(p.child.pid!));
    const perAgent = (agentRss.reduce((a, b) => a + b, 0) / agentRss.length - oneAgentRssKiB) / (SCALE_AGENTS - 1);
    const tag = `${total} hosts in ${SCALE_PROCS} processes over ws`;
    emit(line('distributed.scale.all-hosts-up', allUp, 'ms', `${tag}: from spawning the compute processes (no published baseline)`, NaN));
    emit(line('distributed.scale.heartbeats-per-s', heartbeatsPerS, 'heartbeats/s', `${tag}, 250 ms heartbeats (default profile: 1/40 of it)`, NaN));
    emit(line('distributed.scale.management-cpu', cpuPercent, '% of one core', `${tag}: management node at steady state (heartbeats, gossip, power-state sync)`, NaN));
    emit(line('distributed.scale.management-rss', rssKiB(pid) / 1024, 'MiB', `${tag}: management node`, NaN));
    emit(line('distributed.scale.memory-per-agent', perAgent, 'KiB', `(RSS of a ${SCALE_AGENTS}-agent process - a 1-agent compute process) / ${SCALE_AGENTS - 1}`, NaN));
    api.close();
  } finally {
    await c.dispose();
  }
}

/**
 * A private redis-server on a free loopback port (the test helpers' launcher is not used: it installs
 * mocha's global hooks), or undefined when none is installed.
 */
async function startRedisServer(): Promise<{ url: string; stop(): void } | undefined> {
  const bin = process.env['REDIS_SERVER'] ?? spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) return undefined;
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => { const a = srv.address() as { port: number }; srv.close(() => resolve(a.port)); });
  });
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const pong = (): Promise<boolean> => new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean): void => { sock.destroy(); resolve(ok); };
    sock.setTimeout(300, () => done(false)).once('error', () => done(false)).once('data', (d) => done(d.toString().startsWith('+PONG')));
    sock.connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
  });
  await waitUntil(pong, 10_000, 'redis-server to answer PING', 50);
  return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGKILL'); } };
}

export async function runDistributedBench(emit: Emit): Promise<void> {
  progress(`distributed: all-in-one lab, ${VMS} deploys by ${CONCURRENCY} clients, database in memory and in a file`);
  const memory = await allInOne(false);
  const base = await allInOne(true);
  emit(line('distributed.all-in-one.memory-db.deploy.vms-per-s', memory.rate, 'VMs/s', 'the same lab with its database in a file (the management node\'s setup)', base.rate));
  emit(line('distributed.all-in-one.file-db.deploy.vms-per-s', base.rate, 'VMs/s', 'the baseline of the distributed figures below (no published figure)', NaN));
  emit(line('distributed.all-in-one.file-db.deploy.job-latency.p50', base.p50, 'ms', 'the baseline of the distributed figures below', NaN));
  const oneAgent = await distributed(emit, 'ws', undefined, base);
  const redis = await startRedisServer();
  if (redis !== undefined) {
    try {
      await distributed(emit, 'redis', redis.url, base);
    } finally {
      redis.stop();
    }
  } else {
    progress('distributed: redis-server not found (run .ci/install-redis.sh); the redis figures are skipped');
  }
  await scale(emit, oneAgent);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runDistributedBench((l) => console.log(JSON.stringify(l)));
}
