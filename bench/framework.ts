/**
 * The service framework with real processes (issue 14 section 6), each figure beside a baseline of the
 * same run:
 * - `cloudstackd up` (2 api, 2 orchestrators, 3 compute) to the first API answer, beside the in-process
 *   lab's start to its first answer;
 * - SIGKILL of an api instance to that instance serving again, and load to a new (auto-scaled) api
 *   instance serving, beside one api process started by hand to its first answer (the floor: a restart
 *   can be no faster than a process start);
 * - the acting framework's CPU and memory over a steady window, beside an api process's;
 * - the overhead of metrics on the in-process ask bench: metrics on against off, interleaved rounds.
 * Runnable alone: `node dist/bench/framework.js`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startLab } from '../bin/lab.js';
import { CsApi } from '../test/helpers/cs-api.js';
import { startCli } from '../test/helpers/cli-process.js';
import { pidsOfCluster, startUp, type UpCloud } from '../test/system/up-process.js';
import { envInt, line, progress, type Emit } from './lib.js';
import { cpuTicks, rssKiB, waitUntil } from './proc-stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROUNDS = envInt('FRAMEWORK_BENCH_ROUNDS', 3);
const STEADY_MS = envInt('FRAMEWORK_BENCH_STEADY_MS', 10_000);

interface Instance { name: string; pid: number; state: string; endpoint?: string }

function median(xs: number[]): number {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  return a.length === 0 ? NaN : a[Math.floor(a.length / 2)]!;
}

async function answers(endpoint: string, keys: { apiKey: string; secretKey: string }): Promise<boolean> {
  const api = new CsApi({ endpoint, ...keys, keepAlive: false });
  try { return (await api.listAll('listZones', 'zone')).length > 0; } catch { return false; } finally { api.close(); }
}

async function labFirstAnswer(): Promise<number> {
  const t0 = performance.now();
  const lab = await startLab({ port: 0, logLevel: 'silent' });
  try {
    await waitUntil(() => answers(lab.endpoint, lab), 30_000, 'the lab answering');
    return performance.now() - t0;
  } finally { await lab.stop(); }
}

const SPEC = (api: Record<string, unknown>) => ({
  profile: 'test', framework: { instances: 2 },
  components: { api, orchestrator: { count: 2 }, network: { count: 1 }, storage: { count: 1 }, 'fabric-monitor': { count: 1 },
    'fabric-admin': { count: 1 }, compute: { count: 3 } },
});

async function stop(cloud: UpCloud): Promise<void> {
  cloud.child.kill('SIGINT');
  await cloud.exited;
  for (const pid of pidsOfCluster(cloud.cluster)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  cloud.dispose();
}

/** One api process started by hand against the cloud, to its first answer (ms); also its pid for CPU/RSS. */
async function coldApi(cloud: UpCloud): Promise<{ ms: number; stop: () => Promise<void>; pid: number }> {
  const file = JSON.parse(readFileSync(cloud.clusterFile, 'utf8')) as { join: string; clusterSecretFile: string };
  const t0 = performance.now();
  const p = await startCli('cold-api', ['--role=api', '--transport', 'ws', '--listen', '127.0.0.1:0', '--join', file.join, '--cluster-secret-file',
    file.clusterSecretFile, '--cluster-name', cloud.cluster, '--heartbeat-profile', 'test', '--log-level', 'warn', '--node-name', 'cold-api',
    '--port', '0'], /^endpoint: (\S+)/m, 60_000);
  await waitUntil(() => answers(p.ready, cloud.keys), 30_000, 'the cold api answering');
  return { ms: performance.now() - t0, stop: () => p.kill('SIGTERM'), pid: p.child.pid! };
}

async function upRound(results: Record<string, number[]>): Promise<void> {
  const t0 = performance.now();
  const cloud = await startUp(SPEC({ min: 1, max: 3, policy: { metric: 'cpu', target: 40, stabilizationMs: 10_000, cooldownMs: 2_000 } }), 180_000);
  try {
    if (cloud.endpoint === '') throw new Error(`up did not come up: ${cloud.output()}`);
    await waitUntil(() => answers(cloud.endpoint, cloud.keys), 60_000, 'the first API answer');
    results.up!.push(performance.now() - t0);
    const api = new CsApi({ endpoint: cloud.endpoint, ...cloud.keys, keepAlive: false });
    const list = () => api.listAll<Instance>('listComponentServiceInstances', 'componentserviceinstance', { component: 'api' });
    try {
      progress('framework: a cold api process');
    const cold = await coldApi(cloud);
      results.cold!.push(cold.ms);
      // The framework's own cost at rest, beside an idle api process's.
      const acting = /acting framework (\S+),/.exec(cloud.status())![1]!;
      const fw = (await api.listAll<Instance>('listComponentServiceInstances', 'componentserviceinstance', { component: 'service-framework' })).find((i) => i.name === acting)!;
      const c0 = [cpuTicks(fw.pid), cpuTicks(cold.pid)];
      await new Promise((r) => setTimeout(r, STEADY_MS));
      const c1 = [cpuTicks(fw.pid), cpuTicks(cold.pid)];
      results.fwCpu!.push(((c1[0]! - c0[0]!) / 100) / (STEADY_MS / 1_000) * 100);
      results.apiCpu!.push(((c1[1]! - c0[1]!) / 100) / (STEADY_MS / 1_000) * 100);
      results.fwRss!.push(rssKiB(fw.pid) / 1024);
      results.apiRss!.push(rssKiB(cold.pid) / 1024);
      await cold.stop();
      progress('framework: load until a second api instance serves');
      // Load on the one api instance until the scaler adds a second, which then serves.
      const [first] = await list();
      const loadApi = new CsApi({ endpoint: first!.endpoint!, ...cloud.keys, maxSockets: 16 });
      let loading = true;
      const tLoad = performance.now();
      const workers = Array.from({ length: 16 }, async () => { while (loading) await loadApi.call('listZones').catch(() => undefined); });
      let added: Instance | undefined;
      try {
        await waitUntil(async () => {
          added = (await list()).find((i) => i.name !== first!.name && i.state === 'running' && i.endpoint !== undefined);
          return added !== undefined && answers(added.endpoint!, cloud.keys);
        }, 120_000, 'a second api instance serving', 100);
        results.scale!.push(performance.now() - tLoad);
      } catch (err) {
        progress(`no scale-up under load: ${(err as Error).message}`);
      } finally {
        loading = false;
        await Promise.all(workers);
        loadApi.close();
      }
      progress('framework: SIGKILL of an api instance');
      // SIGKILL of an api instance to it serving again.
      // Not the instance this client talks to: the framework's answers must keep coming while the victim is down.
      const victim = (await list()).find((i) => i.state === 'running' && i.endpoint !== cloud.endpoint)!;
      const tKill = performance.now();
      process.kill(victim.pid, 'SIGKILL');
      await waitUntil(async () => {
        const back = (await list().catch(() => [])).find((i) => i.name === victim.name && i.state === 'running' && i.pid !== victim.pid);
        return back !== undefined && answers(back.endpoint!, cloud.keys);
      }, 60_000, 'the killed instance serving again', 50);
      results.restart!.push(performance.now() - tKill);
    } finally { api.close(); }
  } finally {
    await stop(cloud);
  }
}

function askCase(args: string[]): { value: number; rps?: number } | undefined {
  const r = spawnSync(process.execPath, [join(HERE, 'inproc-case.js'), 'ask', ...args], { encoding: 'utf8', timeout: 120_000 });
  const last = r.stdout.trim().split('\n').pop();
  return r.status === 0 && last?.startsWith('{') ? JSON.parse(last) as { value: number; rps?: number } : undefined;
}

export async function runFrameworkBench(emit: Emit): Promise<void> {
  // A keep-alive socket of the load clients can be reset by an instance the bench kills after the
  // request settled (no request left to carry the error): that is the point of the kill, not a failure.
  const onReset = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'ECONNRESET') throw err;
    progress(`framework: a connection to a killed instance was reset (${err.message})`);
  };
  process.on('uncaughtException', onReset);
  try { await runAll(emit); } finally { process.off('uncaughtException', onReset); }
}

async function runAll(emit: Emit): Promise<void> {
  // Metrics overhead first (in-process, cheap): rounds of off and on interleaved, medians compared.
  const off: number[] = []; const on: number[] = []; const offSeq: number[] = []; const onSeq: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    off.push(askCase(['--inflight', '1000'])?.value ?? NaN);
    on.push(askCase(['--inflight', '1000', '--metrics'])?.value ?? NaN);
    offSeq.push(askCase(['--inflight', '1'])?.rps ?? NaN);
    onSeq.push(askCase(['--inflight', '1', '--metrics'])?.rps ?? NaN);
  }
  emit(line('framework.metrics-on.ask.1000-in-flight', median(on), 'req/s', 'the same bench, metrics off', median(off), { ratio: 0.95, higherIsBetter: true }));
  emit(line('framework.metrics-on.ask.sequential', median(onSeq), 'req/s', 'the same bench, metrics off', median(offSeq), { ratio: 0.95, higherIsBetter: true }));

  const lab: number[] = [];
  const results: Record<string, number[]> = { up: [], cold: [], fwCpu: [], apiCpu: [], fwRss: [], apiRss: [], scale: [], restart: [] };
  const cloudRounds = envInt('FRAMEWORK_BENCH_CLOUD_ROUNDS', 1);
  for (let i = 0; i < cloudRounds; i++) {
    progress(`framework: lab start, round ${i + 1}`);
    lab.push(await labFirstAnswer());
    progress(`framework: up, round ${i + 1}`);
    await upRound(results);
  }
  const m = (k: string): number => median(results[k]!);
  emit(line('framework.up-to-first-answer', m('up'), 'ms', 'all-in-one lab start to first answer', median(lab)));
  emit(line('framework.sigkill-to-serving', m('restart'), 'ms', 'one api process start to first answer', m('cold')));
  emit(line('framework.load-to-new-api-serving', m('scale'), 'ms', 'one api process start to first answer', m('cold')));
  emit(line('framework.acting-cpu', m('fwCpu'), '%', 'an idle api process', m('apiCpu')));
  emit(line('framework.acting-rss', m('fwRss'), 'MiB', 'an idle api process', m('apiRss')));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runFrameworkBench((l) => console.log(JSON.stringify(l)));
  process.exit(0);
}
