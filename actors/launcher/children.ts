/**
 * The child processes of one launcher. Each is `node <cli> --role=<role> <args>` with an IPC channel
 * as its parent-death signal: the child (bin/parent-watch.ts) stops itself cleanly when the channel
 * closes, which the kernel does when the launcher exits in any way, SIGKILL included. So a launcher
 * never leaves orphans: on a clean stop it terminates its children itself, and on a crash they notice.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../src/clock.js';
import { LimitExceededError, StoppedError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { newRecord, recordExit, type RestartOptions, type RestartRecord } from '../../src/restart-backoff.js';
import type { InstanceInfo, InstanceState } from './protocol.js';

/** The environment variable that tells a child it was launched and must watch its IPC channel. */
export const LAUNCHED_ENV = 'CLOUDSTACKD_LAUNCHED';

export type Spawn = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface ChildTableOptions {
  /** The cloudstackd entry point the children run (dist/bin/cloudstackd.js). */
  cli: string;
  /** Arguments every child gets before its own (transport, cluster, seeds...). */
  baseArgs: readonly string[];
  /** Each child's data directory and log file go under here (`<dir>/<instance>/`, `<dir>/<instance>.log`). */
  dir: string;
  /** Most live children (starting or running): beyond it launch fails. */
  capacity: number;
  /** How long a stopping child has after SIGTERM before SIGKILL, ms. */
  stopGraceMs: number;
  /** Most exited and stopped instances remembered (the oldest are forgotten first). */
  maxRemembered: number;
  /**
   * Roles this launcher restarts itself when they exit (with backoff, up to a crash loop): the data
   * service, which the framework cannot restart — it needs data for its lease and its desired state.
   */
  supervise: readonly string[];
  restart: RestartOptions;
  clock: Clock;
  log: Logger;
  spawn?: Spawn;
}

interface Child {
  info: InstanceInfo;
  proc: ChildProcess | undefined;
  args: string[];
  log: WriteStream | undefined;
  exited: Promise<void>;
  /** Set while the launcher stops the child (its exit is then 'stopped', not 'exited'). */
  stopping: boolean;
  /** Restart history when this launcher supervises the role. */
  backoff: RestartRecord;
}

const LIVE: ReadonlySet<InstanceState> = new Set(['starting', 'running']);

export class ChildTable {
  private readonly children = new Map<string, Child>();
  private readonly spawn: Spawn;
  /** Set once stopAll began: nothing new starts, so nothing can outlive the launcher. */
  private closed = false;

  constructor(private readonly o: ChildTableOptions) {
    this.spawn = o.spawn ?? nodeSpawn;
    mkdirSync(o.dir, { recursive: true });
  }

  live(): number {
    let n = 0;
    for (const c of this.children.values()) if (LIVE.has(c.info.state as InstanceState)) n++;
    return n;
  }

  list(): InstanceInfo[] {
    return [...this.children.values()].map((c) => ({ ...c.info }));
  }

  /** Starts the instance, or again if it is not live; a live one is reported as it is. */
  launch(instance: string, role: string, args: readonly string[]): InstanceInfo {
    const known = this.children.get(instance);
    if (known !== undefined && LIVE.has(known.info.state as InstanceState)) return { ...known.info };
    if (this.closed) throw new StoppedError('this launcher is stopping: it starts nothing more');
    if (this.live() >= this.o.capacity) {
      throw new LimitExceededError(`this launcher already runs ${this.live()} children, its capacity: start a launcher on another node ` +
        'or give this one a larger --launcher-capacity');
    }
    const childArgs = [this.o.cli, `--role=${role}`, ...this.o.baseArgs, '--node-name', instance,
      '--data-dir', join(this.o.dir, instance), ...args];
    const proc = this.spawn(process.execPath, childArgs, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, [LAUNCHED_ENV]: '1' }, detached: false,
    });
    const log = createWriteStream(join(this.o.dir, `${instance}.log`), { flags: 'a' });
    const info: InstanceInfo = {
      instance, role, pid: proc.pid ?? 0, state: 'starting', restarts: known === undefined ? 0 : known.info.restarts + 1,
      startedAt: this.o.clock.now(),
    };
    const child: Child = { info, proc, args: [...args], log, stopping: false, exited: Promise.resolve(), backoff: known?.backoff ?? newRecord() };
    child.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        info.state = child.stopping ? 'stopped' : 'exited';
        info.exitedAt = this.o.clock.now();
        info.exitCode = code ?? (signal === null ? -1 : 128 + signalNumber(signal));
        child.proc = undefined;
        log.end();
        if (!child.stopping) this.o.log.warn('launched process exited', { instance, role, code: info.exitCode, lastError: info.lastError ?? '' });
        if (!child.stopping && this.o.supervise.includes(role)) this.superviseExit(child);
        this.trim();
        resolve();
      });
    });
    proc.once('error', (err) => {
      info.lastError = `cannot start: ${err.message}`;
    });
    this.follow(child);
    this.children.set(instance, child);
    this.o.log.info('launched', { instance, role, pid: info.pid, restarts: info.restarts });
    return { ...info };
  }

  /** A supervised child exited on its own: started again after its backoff, unless it crash-loops. */
  private superviseExit(c: Child): void {
    const now = this.o.clock.now();
    c.backoff = recordExit(c.backoff, now, now - c.info.startedAt, this.o.restart);
    if (c.backoff.gaveUp) {
      this.o.log.error('a supervised process keeps exiting: not restarting it', { instance: c.info.instance, failures: c.backoff.failures.length });
      return;
    }
    this.o.clock.setTimeout(() => {
      if (this.closed || this.children.get(c.info.instance) !== c || c.info.state !== 'exited') return;
      try { this.launch(c.info.instance, c.info.role, c.args); } catch (err) {
        this.o.log.error('could not restart a supervised process', { instance: c.info.instance, error: (err as Error).message });
      }
    }, c.backoff.nextAt - now);
  }

  /** Stops and forgets an instance; false when unknown. */
  async stop(instance: string): Promise<boolean> {
    const c = this.children.get(instance);
    if (c === undefined) return false;
    await this.terminate(c);
    this.children.delete(instance);
    return true;
  }

  /**
   * Stops every child: `first` roles first (the service framework, so it restarts nothing meanwhile),
   * `last` roles last (the data service, which the others still call while they stop: release leases).
   */
  async stopAll(first: readonly string[] = [], last: readonly string[] = []): Promise<void> {
    this.closed = true;
    const all = [...this.children.values()];
    await Promise.all(all.filter((c) => first.includes(c.info.role)).map((c) => this.terminate(c)));
    await Promise.all(all.filter((c) => !last.includes(c.info.role)).map((c) => this.terminate(c)));
    await Promise.all(all.map((c) => this.terminate(c)));
  }

  private async terminate(c: Child): Promise<void> {
    const proc = c.proc;
    if (proc === undefined) return;
    c.stopping = true;
    const started = this.o.clock.now();
    proc.kill('SIGTERM');
    const timer = this.o.clock.setTimeout(() => {
      if (c.proc === undefined) return;
      this.o.log.warn('a launched process did not stop in time; killing it', { instance: c.info.instance, graceMs: this.o.stopGraceMs });
      c.proc.kill('SIGKILL');
    }, this.o.stopGraceMs);
    await c.exited;
    timer.cancel();
    this.o.log.debug('stopped', { instance: c.info.instance, ms: this.o.clock.now() - started });
  }

  /** Reads the child's output: the ready line, the endpoint and credentials it announces, its last error. */
  private follow(c: Child): void {
    const proc = c.proc!;
    let pending = '';
    proc.stdout!.on('data', (d: Buffer) => {
      c.log?.write(d);
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('ready ')) c.info.state = 'running';
        const endpoint = /^endpoint: (\S+)/.exec(line)?.[1];
        if (endpoint !== undefined) c.info.endpoint = endpoint.slice(0, 512);
        const metrics = /^metrics: (\S+)/.exec(line)?.[1];
        if (metrics !== undefined) c.info.metrics = metrics.slice(0, 512);
        const credentials = /^credentials: (\S+)/.exec(line)?.[1];
        if (credentials !== undefined) c.info.credentials = credentials.slice(0, 4096);
      }
      if (pending.length > 4096) pending = '';
    });
    proc.stderr!.on('data', (d: Buffer) => {
      c.log?.write(d);
      const last = d.toString().trim().split('\n').pop();
      if (last !== undefined && last !== '') c.info.lastError = last.slice(0, 1024);
    });
    // The IPC channel is only the parent-death signal: nothing is sent on it, and it must not keep the launcher alive.
    proc.channel?.unref();
  }

  /** Forgets the oldest exited or stopped instances beyond maxRemembered. */
  private trim(): void {
    const dead = [...this.children.values()].filter((c) => !LIVE.has(c.info.state as InstanceState));
    dead.sort((a, b) => (a.info.exitedAt ?? 0) - (b.info.exitedAt ?? 0));
    for (const c of dead.slice(0, Math.max(0, dead.length - this.o.maxRemembered))) this.children.delete(c.info.instance);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}
