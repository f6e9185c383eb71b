/**
 * Real processes over WebSocket with gossip: five `cloudstackd` processes find each other from one
 * seed, a SIGKILLed one is declared failed by all the others, and after a restart it is a member again.
 * Each process logs its membership changes (`member event=... member=...`), which is what the test reads.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../helpers/global-hooks.js';
import { cliPath, projectRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

interface Proc { name: string; port: number; child: ChildProcess; events: string[] }

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('system: gossip membership across cloudstackd processes (ws)', function () {
  this.timeout(120_000);
  const cluster = `gossip-${randomBytes(3).toString('hex')}`;
  let dir: string;
  let secretFile: string;
  const procs = new Map<string, Proc>();

  function start(name: string, port: number, seed?: number, profile = 'test'): Proc {
    const args = ['--role=echo', '--transport', 'ws', '--listen', `127.0.0.1:${port}`, '--cluster-name', cluster,
      '--cluster-secret-file', secretFile, '--node-name', name, '--log-level', 'info', '--heartbeat-profile', profile,
      ...(seed === undefined ? [] : ['--join', `127.0.0.1:${seed}`])];
    const child = spawn(process.execPath, [cliPath(), ...args], { cwd: projectRoot(), stdio: ['ignore', 'ignore', 'pipe'] });
    const p: Proc = { name, port, child, events: [] };
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const m = / member event=(\S+) member=(\S+)/.exec(l);
        if (m) p.events.push(`${m[1]} ${m[2]}`);
      }
    });
    onCleanup(() => { child.kill('SIGKILL'); });
    procs.set(name, p);
    return p;
  }

  const seen = (p: Proc, event: string, member: string): boolean => p.events.includes(`${event} ${member}`);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-gossip-'));
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  });

  after(() => {
    for (const p of procs.values()) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('five processes find each other from one seed, detect a SIGKILL, and take the restarted one back', async () => {
    const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
    const names = ports.map((_p, i) => `g${i}`);
    start(names[0]!, ports[0]!);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 1; i < 5; i++) start(names[i]!, ports[i]!, ports[0]);
    const all = [...procs.values()];
    const startedAt = Date.now();
    await waitFor(() => all.every((p) => names.every((n) => n === p.name || seen(p, 'joined', n))), 30_000, 'every process sees the four others');
    const convergeMs = Date.now() - startedAt;
    process.stdout.write(`      (all five saw each other ${convergeMs} ms after the last start)\n`);

    const victim = procs.get('g3')!;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    const others = all.filter((p) => p !== victim);
    await waitFor(() => others.every((p) => seen(p, 'failed', 'g3')), 15_000, 'g3 declared failed by all');
    process.stdout.write(`      (g3 declared failed by all ${Date.now() - killedAt} ms after SIGKILL)\n`);
    expect(others.every((p) => !seen(p, 'failed', 'g0') && !seen(p, 'failed', 'g1'))).to.equal(true);

    const before = new Map(others.map((p) => [p.name, p.events.length]));
    start('g3', victim.port, ports[0]);
    await waitFor(() => others.every((p) => p.events.slice(before.get(p.name)).some((e) => /^(joined|restarted) g3$/.test(e))), 15_000, 'g3 a member again');
    const back = procs.get('g3')!;
    await waitFor(() => names.every((n) => n === 'g3' || seen(back, 'joined', n)), 15_000, 'restarted g3 sees the others');
  });

  it('a node whose process stalls for 2 s never gets healthy nodes declared dead (default timings)', async () => {
    for (const p of procs.values()) p.child.kill('SIGKILL');
    procs.clear();
    const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const names = ports.map((_p, i) => `s${i}`);
    start(names[0]!, ports[0]!, undefined, 'default');
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 1; i < 4; i++) start(names[i]!, ports[i]!, ports[0], 'default');
    const all = [...procs.values()];
    await waitFor(() => all.every((p) => names.every((n) => n === p.name || seen(p, 'joined', n))), 30_000, 'convergence');
    const stalled = procs.get('s2')!;
    // SIGSTOP freezes the whole process (event loop and any worker thread): the harshest stall.
    stalled.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2_000));
    stalled.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 5_000));
    const healthy = names.filter((n) => n !== 's2');
    for (const p of all) for (const n of healthy) expect(seen(p, 'failed', n), `${p.name} declared ${n} dead`).to.equal(false);
    const suspectedBy = all.filter((p) => seen(p, 'suspected', 's2')).length;
    const failedBy = all.filter((p) => seen(p, 'failed', 's2')).length;
    process.stdout.write(`      (2 s stall of s2: suspected by ${suspectedBy}, declared dead by ${failedBy} of 3; healthy nodes declared dead: 0)\n`);
    await waitFor(() => all.every((p) => p === stalled || p.events.filter((e) => e.endsWith(' s2')).pop() !== 'failed s2'), 15_000, 's2 alive again everywhere');
  });
});
