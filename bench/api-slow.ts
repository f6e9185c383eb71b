/**
 * Issue 17: signed listZones throughput and p99 of a `cloudstackd` process on its default limits
 * (50 keep-alive clients in another process, as in the api suite) while 2,000 slow-head clients from
 * the same address, in a third process, hold half-sent request heads and reopen what is closed two
 * seconds later — against the same server and clients without them, in the same run. The machine is
 * shared, so the two alternate for ROUNDS rounds and the medians are compared.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSlowClients } from '../test/helpers/slow-clients.js';
import { line, progress, type Emit } from './lib.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLI = join(HERE, '../bin/cloudstackd.js');
const CASE = join(HERE, 'api-case.js');
const SLOW_CLIENTS = 2_000;
const CLIENTS = 50;
/** Time for the attack to fill the server's table before measuring, ms. */
const SETTLE_MS = 2_000;
/** Rounds of (without, with) slow clients. */
const ROUNDS = 5;

async function startServer(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--data-dir', dir, '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4_000); });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`cloudstackd exited ${code} before ready: ${err}`)));
  });
  return child;
}

function load(args: string[]): Record<string, number> | undefined {
  progress(`api-case load --clients ${CLIENTS}`);
  const r = spawnSync(process.execPath, [CASE, 'load', ...args, '--clients', String(CLIENTS)], { encoding: 'utf8', timeout: 180_000 });
  const last = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !last?.startsWith('{')) { progress(`api-case failed: ${r.stderr}`); return undefined; }
  return JSON.parse(last) as Record<string, number>;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

/** One measurement with the slow clients attacking. */
async function underAttack(endpoint: URL, args: string[]): Promise<Record<string, number> | undefined> {
  progress(`${SLOW_CLIENTS} slow-head clients`);
  const attack = await startSlowClients({
    host: endpoint.hostname, port: Number(endpoint.port), reopenAfterMs: 2_000,
    groups: [{ kind: 'http-slow-head', count: SLOW_CLIENTS, localAddress: '127.0.0.1', trickleMs: 1_000 }],
  });
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return load(args);
  } finally {
    const g = (await attack.stop()).groups[0]!;
    progress(`slow clients: opened ${g.opened}, closed by the server ${g.closedByServer}, longest life ${g.lifetimeMax} ms`);
  }
}

export async function runApiSlowBench(emit: Emit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-bench-slow-'));
  let server: ChildProcess | undefined;
  try {
    server = await startServer(dir);
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { endpoint: string; apiKey: string; secretKey: string };
    const args = ['--endpoint', creds.endpoint, '--api-key', creds.apiKey, '--secret-key', creds.secretKey, '--command', 'listZones'];
    const without: Record<string, number>[] = [];
    const withSlow: Record<string, number>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      without.push(load(args) ?? {});
      withSlow.push(await underAttack(new URL(creds.endpoint), args) ?? {});
    }
    const m = (rs: Record<string, number>[], k: string): number => median(rs.map((r) => r[k] ?? NaN));
    progress(`without: ${without.map((r) => `${r['rps']} req/s p99 ${r['p99_ms']} ms`).join('; ')}`);
    progress(`with:    ${withSlow.map((r) => `${r['rps']} req/s p99 ${r['p99_ms']} ms`).join('; ')}`);
    const base = `same server and clients without slow clients (median of ${ROUNDS}, alternating)`;
    emit(line('api.list-zones.50-clients.throughput.2000-slow-clients', m(withSlow, 'rps'), 'req/s', base, m(without, 'rps')));
    emit(line('api.list-zones.50-clients.p99.2000-slow-clients', m(withSlow, 'p99_ms'), 'ms', base, m(without, 'p99_ms')));
    const errors = withSlow.reduce((n, r) => n + (r['errors'] ?? NaN), 0);
    emit(line('api.list-zones.50-clients.errors.2000-slow-clients', errors, 'requests', 'every request must succeed', 0));
  } finally {
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
