/**
 * A cloud of real `cloudstackd` processes for the distributed system tests and the bench: one
 * `--role=management` and N `--role=compute`, over ws (compute nodes join the management node's
 * address) or redis (every node finds the others through the server). Processes can be SIGKILLed,
 * SIGSTOPped and restarted under the same name, port and data directory. Whoever creates one calls
 * dispose() (a suite's `after` hook runs even when `before` failed), which kills every child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CsApi } from '../helpers/cs-api.js';
import { cliPath, projectRoot } from '../helpers/paths.js';
import { sleep } from '../helpers/wait.js';

export interface Proc {
  readonly name: string;
  readonly port: number;
  child: ChildProcess;
  /** The last lines it wrote to stderr (for failure messages). */
  tail(): string;
}

export interface ProcClusterOptions {
  transport: 'ws' | 'redis';
  /** redis:// URL (transport redis). */
  redisUrl?: string;
  /** --heartbeat-profile. Default test. */
  profile?: 'test' | 'default';
  /** --log-level of the children. Default warn. */
  logLevel?: string;
  /** Extra arguments for compute processes (e.g. capacity). */
  computeArgs?: string[];
  /** How long a process may take to print its ready line, ms. Default READY_TIMEOUT_MS. */
  readyTimeoutMs?: number;
}

/** A loopback port free at the time of asking (kept here: the Redis helpers install mocha's global hooks, and the bench uses this file). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const a = srv.address() as { port: number }; srv.close(() => resolve(a.port)); });
  });
}

/** Ready within this long, ms (a loaded 2-core machine starting five node processes). */
const READY_TIMEOUT_MS = 30_000;

export class ProcCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'cloudstackd-dist-'));
  readonly cluster = `dist-${randomBytes(3).toString('hex')}`;
  readonly secretFile = join(this.dir, 'secret');
  readonly procs = new Map<string, Proc>();
  private readonly stopped = new Set<string>();
  private readonly outsiders: ChildProcess[] = [];
  api: CsApi | undefined;
  endpoint = '';
  keys = { apiKey: '', secretKey: '' };
  private readonly endpoints = new Map<string, string>();

  constructor(readonly o: ProcClusterOptions) {
    writeFileSync(this.secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  }

  private base(name: string, port: number): string[] {
    const args = ['--transport', this.o.transport, '--cluster-name', this.cluster, '--cluster-secret-file', this.secretFile,
      '--node-name', name, '--heartbeat-profile', this.o.profile ?? 'test', '--log-level', this.o.logLevel ?? 'warn'];
    if (this.o.transport === 'redis') args.push('--redis-url', this.o.redisUrl!);
    else args.push('--listen', `127.0.0.1:${port}`);
    return args;
  }

  /** Spawns a process and resolves once it printed its ready line. */
  private async spawn(name: string, port: number, args: string[], script = cliPath()): Promise<{ proc: Proc; out: string }> {
    const child = spawn(process.execPath, [script, ...args], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-6_000); });
    const proc: Proc = { name, port, child, tail: () => err };
    this.procs.set(name, proc);
    await new Promise<void>((resolve, reject) => {
      const wait = this.o.readyTimeoutMs ?? READY_TIMEOUT_MS;
      const timer = setTimeout(() => reject(new Error(`cloudstackd ${name} printed no ready line within ${wait} ms: ${err}`)), wait);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^ready node=/m.test(out)) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`cloudstackd ${name} exited (${code ?? signal}) before ready: ${err}`)); });
    });
    return { proc, out };
  }

  /**
   * A node running `roles` (`data`, `api`, `orchestrator,network`...), named `name`, joining through the
   * process `via` over ws. Data nodes keep their directory (`<name>-data`) across restarts; api nodes
   * listen on a free port (see endpointOf). Resolves once it printed its ready line.
   */
  async startRoles(name: string, roles: string, o: { via?: string; args?: string[] } = {}): Promise<{ proc: Proc; out: string }> {
    const old = this.procs.get(name);
    const port = old?.port ?? await freePort();
    const args = [`--role=${roles}`, ...this.base(name, port), '--data-dir', join(this.dir, `${name}-data`), '--port', '0', ...(o.args ?? [])];
    const seed = o.via === undefined ? undefined : this.procs.get(o.via);
    if (seed !== undefined && this.o.transport === 'ws') args.push('--join', `127.0.0.1:${seed.port}`);
    const started = await this.spawn(name, port, args);
    const endpoint = /^endpoint: (\S+)/m.exec(started.out)?.[1];
    if (endpoint !== undefined) this.endpoints.set(name, endpoint);
    return started;
  }

  /** The API endpoint an api node printed. */
  endpointOf(name: string): string {
    const e = this.endpoints.get(name);
    if (e === undefined) throw new Error(`node ${name} printed no endpoint`);
    return e;
  }

  /** The admin's keys from a data node's credentials.json. */
  keysOf(dataNode: string): { apiKey: string; secretKey: string } {
    const cred = JSON.parse(readFileSync(join(this.dir, `${dataNode}-data`, 'credentials.json'), 'utf8')) as { apiKey: string; secretKey: string };
    return { apiKey: cred.apiKey, secretKey: cred.secretKey };
  }

  /** The management node (data dir kept across restarts); `join` names a compute node to rejoin through (ws). */
  async startManagement(join?: string): Promise<Proc> {
    const old = this.procs.get('mgmt');
    const port = old?.port ?? await freePort();
    const args = ['--role=management', ...this.base('mgmt', port), '--data-dir', this.dataDir(), '--port', '0'];
    const seed = join === undefined ? undefined : this.procs.get(join);
    if (seed !== undefined && this.o.transport === 'ws') args.push('--join', `127.0.0.1:${seed.port}`);
    const { proc, out } = await this.spawn('mgmt', port, args);
    this.endpoint = /^endpoint: (\S+)/m.exec(out)?.[1] ?? '';
    const cred = JSON.parse(readFileSync(this.credentials(), 'utf8')) as { apiKey: string; secretKey: string };
    this.keys = { apiKey: cred.apiKey, secretKey: cred.secretKey };
    this.api?.close();
    this.api = new CsApi({ endpoint: this.endpoint, ...this.keys, maxSockets: 16, jobTimeoutMs: 60_000, pollMs: 50 });
    return proc;
  }

  dataDir(): string {
    return join(this.dir, 'mgmt-data');
  }

  credentials(): string {
    return join(this.dataDir(), 'credentials.json');
  }

  /**
   * A compute node named `name` (same port when it is restarted). `script` runs another entry point
   * with the same flags (the bench's many-agents process), followed by `extra` arguments.
   */
  async startCompute(name: string, o: { script?: string; extra?: string[] } = {}): Promise<Proc> {
    const old = this.procs.get(name);
    const port = old?.port ?? await freePort();
    const mgmt = this.procs.get('mgmt');
    const args = ['--role=compute', ...this.base(name, port), ...(this.o.computeArgs ?? [])];
    if (this.o.transport === 'ws' && mgmt !== undefined) args.push('--join', `127.0.0.1:${mgmt.port}`);
    return (await this.spawn(name, port, [...args, ...(o.extra ?? [])], o.script)).proc;
  }

  /**
   * A compute process that does not hold the cluster's secret (a file of its own): it must never be
   * admitted. Not awaited for readiness (over ws it gives up joining and exits). Killed at dispose.
   */
  startOutsider(name: string, port: number): ChildProcess {
    const secret = join(this.dir, `secret-${name}`);
    writeFileSync(secret, randomBytes(32).toString('hex'), { mode: 0o600 });
    const mgmt = this.procs.get('mgmt');
    const args = ['--role=compute', ...this.base(name, port), '--cluster-secret-file', secret, '--join-timeout', '2000'];
    if (this.o.transport === 'ws' && mgmt !== undefined) args.push('--join', `127.0.0.1:${mgmt.port}`);
    const child = spawn(process.execPath, [cliPath(), ...args], { cwd: projectRoot(), stdio: ['ignore', 'ignore', 'ignore'] });
    this.outsiders.push(child);
    return child;
  }

  /** Sends a signal; for SIGKILL, resolves once the process is gone. */
  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    const p = this.procs.get(name);
    if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
    const exited = signal === 'SIGKILL' || signal === 'SIGTERM' ? new Promise((r) => p.child.once('exit', r)) : Promise.resolve();
    if (signal === 'SIGSTOP') this.stopped.add(name);
    if (signal === 'SIGCONT') this.stopped.delete(name);
    p.child.kill(signal);
    await exited;
  }

  async dispose(): Promise<void> {
    this.api?.close();
    for (const p of this.procs.values()) {
      if (this.stopped.has(p.name)) p.child.kill('SIGCONT');
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    for (const o of this.outsiders) if (o.exitCode === null && o.signalCode === null) o.kill('SIGKILL');
    await sleep(50);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
