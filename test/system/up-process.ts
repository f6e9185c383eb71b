/**
 * `cloudstackd up` as a test fixture: writes a spec, starts `up`, waits for its `up:` line (or its exit),
 * and gives the endpoint, the keys, `status` output and the pids of everything the cloud runs (found by
 * the cluster name, which is unique per fixture). Killed at the end of the run even when a test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../helpers/global-hooks.js';
import { cliPath, projectRoot } from '../helpers/paths.js';

export interface UpCloud {
  readonly child: ChildProcess;
  readonly cluster: string;
  readonly dir: string;
  output(): string;
  endpoint: string;
  keys: { apiKey: string; secretKey: string };
  clusterFile: string;
  /** Resolves with the exit code once `up` has exited. */
  readonly exited: Promise<number | null>;
  status(): string;
  /** Pids of every process whose command line names this cluster (the cloud's children). */
  pids(): number[];
  /** Removes the spec directory. */
  dispose(): void;
}

export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export function pidsOfCluster(cluster: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.includes(`--cluster-name ${cluster} `) || l.endsWith(`--cluster-name ${cluster}`))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Starts `up` with `spec` (its `cluster` is set to a fresh name); resolves when it printed `up:` or exited. */
export async function startUp(spec: Record<string, unknown>, timeoutMs = 90_000): Promise<UpCloud> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-up-test-'));
  const cluster = `up-${randomBytes(4).toString('hex')}`;
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify({ ...spec, cluster, dataDir: join(dir, 'cloud') }));
  const child = spawn(process.execPath, [cliPath(), 'up', '--spec', file], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
    // A SIGKILLed up leaves its children to notice on their own; a test that failed half-way is cleaned here.
    for (const pid of pidsOfCluster(cluster)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  });
  const until = Date.now() + timeoutMs;
  while (!/^up: /m.test(out) && child.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const cloud: UpCloud = {
    child, cluster, dir, exited, output: () => out, endpoint: '', keys: { apiKey: '', secretKey: '' }, clusterFile: '',
    status: () => {
      const r = spawnSync(process.execPath, [cliPath(), 'status', '--cluster-file', cloud.clusterFile], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`status failed (${r.status}): ${r.stderr}`);
      return r.stdout;
    },
    pids: () => pidsOfCluster(cluster),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
  if (!/^up: /m.test(out)) return cloud;
  cloud.endpoint = /^endpoint: (\S+)/m.exec(out)![1]!;
  const creds = JSON.parse(readFileSync(/^credentials: (\S+)/m.exec(out)![1]!, 'utf8')) as { apiKey: string; secretKey: string };
  cloud.keys = { apiKey: creds.apiKey, secretKey: creds.secretKey };
  cloud.clusterFile = /--cluster-file (\S+)/m.exec(out)![1]!;
  return cloud;
}
