/**
 * The API and the all-in-one lab (issue 6 section 6):
 * - `cloudstackd` start to first API answer: spawn to the `ready` line, which is printed once a signed
 *   listZones has been answered (fresh data directory: includes migrations and seeding);
 * - `startLab()` start to first API answer, in a process of its own, repeated (the first run pays the
 *   module warm-up a test suite pays once);
 * - idle RSS of the all-in-one process a few seconds after ready;
 * - signed listZones and listTemplates with 50 concurrent clients: the server is a `cloudstackd`
 *   process, the clients another process (both on this machine, sharing its cores).
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { line, progress, type Emit } from './lib.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(HERE, '../bin/cloudstackd.js');
const CASE = join(HERE, 'api-case.js');
/** Fresh-start runs of the CLI whose median is reported. */
const CLI_RUNS = 3;
/** startLab() runs in one process. */
const LAB_RUNS = 10;
/** Idle time before RSS is read, ms. */
const IDLE_MS = 3_000;

interface Cli {
  child: ChildProcess;
  readyMs: number;
  dir: string;
}

async function startCli(dir: string): Promise<Cli> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, '--port', '0', '--data-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(performance.now() - t0);
    });
    child.on('exit', (code) => reject(new Error(`cloudstackd exited ${code} before ready: ${err}`)));
  });
  return { child, readyMs, dir };
}

async function stopCli(c: Cli): Promise<void> {
  const exited = new Promise<void>((resolve) => c.child.on('exit', () => resolve()));
  c.child.kill('SIGTERM');
  await exited;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb !== undefined) return Number(kb) / 1024;
  } catch {
    // Not Linux: ask ps.
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

function runCase(args: string[]): Record<string, number> | undefined {
  progress(`api-case ${args.filter((a) => !a.startsWith('http') && a.length < 40).join(' ')}`);
  const r = spawnSync(process.execPath, [CASE, ...args], { encoding: 'utf8', timeout: 180_000 });
  const last = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !last?.startsWith('{')) { progress(`api-case failed: ${r.stderr}`); return undefined; }
  return JSON.parse(last) as Record<string, number>;
}

async function startupCases(emit: Emit, dirs: string[]): Promise<Cli> {
  const fresh: number[] = [];
  let kept: Cli | undefined;
  for (let i = 0; i < CLI_RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-bench-'));
    dirs.push(dir);
    const c = await startCli(dir);
    fresh.push(c.readyMs);
    if (i < CLI_RUNS - 1) await stopCli(c);
    else kept = c;
  }
  emit(line('api.cloudstackd.start-to-first-answer', median(fresh), 'ms', 'issue 6 target (fresh data dir, median)', 1000, { ratio: 1, higherIsBetter: false }));
  const restarted = await startCli(dirs[0]!);
  emit(line('api.cloudstackd.restart-to-first-answer', restarted.readyMs, 'ms', 'existing data dir (no published baseline)', NaN));
  await stopCli(restarted);
  const lab = runCase(['startlab', '--runs', String(LAB_RUNS)]);
  emit(line('api.startLab.start-to-first-answer.p50', lab?.['p50_ms'] ?? NaN, 'ms', 'issue 6 target', 300, { ratio: 1, higherIsBetter: false }));
  emit(line('api.startLab.start-to-first-answer.first', lab?.['first_ms'] ?? NaN, 'ms', 'issue 6 target (cold modules)', 300, { ratio: 1, higherIsBetter: false }));
  emit(line('api.startLab.stop.p50', lab?.['stop_p50_ms'] ?? NaN, 'ms', 'no published baseline', NaN));
  return kept!;
}

function loadCases(emit: Emit, server: Cli): void {
  const creds = JSON.parse(readFileSync(join(server.dir, 'credentials.json'), 'utf8')) as { endpoint: string; apiKey: string; secretKey: string };
  const base = ['load', '--endpoint', creds.endpoint, '--api-key', creds.apiKey, '--secret-key', creds.secretKey, '--clients', '50'];
  for (const [name, command, params] of [['list-zones', 'listZones', ''], ['list-templates', 'listTemplates', 'templatefilter=executable']] as const) {
    const r = runCase([...base, '--command', command, ...(params === '' ? [] : ['--params', params])]);
    emit(line(`api.${name}.50-clients.throughput`, r?.['rps'] ?? NaN, 'req/s', 'signed, client in another process (no published baseline)', NaN));
    emit(line(`api.${name}.50-clients.p99`, r?.['p99_ms'] ?? NaN, 'ms', 'no published CloudStack API latency percentile (reference 8)', NaN));
    emit(line(`api.${name}.50-clients.errors`, r?.['errors'] ?? NaN, 'requests', 'every request must succeed', 0));
  }
}

export async function runApiBench(emit: Emit): Promise<void> {
  const dirs: string[] = [];
  let server: Cli | undefined;
  try {
    server = await startupCases(emit, dirs);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    emit(line('api.all-in-one.idle-rss', rssMiB(server.child.pid!), 'MiB', 'issue 6 target', 120, { ratio: 1, higherIsBetter: false }));
    loadCases(emit, server);
    emit(line('api.all-in-one.rss-after-load', rssMiB(server.child.pid!), 'MiB', 'no published baseline', NaN));
  } finally {
    if (server !== undefined) await stopCli(server);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
