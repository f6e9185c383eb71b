/**
 * A PostgreSQL launcher for tests: each call runs `initdb` into a fresh temporary directory and starts
 * that cluster with `pg_ctl` on a free loopback port and a private socket directory, so tests never touch
 * a PostgreSQL someone else runs (e.g. on 5432). Authentication is `trust`, for the socket and 127.0.0.1
 * only. The server can be restarted on the same port and data (fast shutdown, then start) and killed
 * (SIGKILL, as a crash; `start()` then runs crash recovery). Every server is stopped and its directory
 * removed by the global cleanup hook, at process exit and on SIGINT/SIGTERM, also when a test fails:
 * pg_ctl detaches the postmaster into its own session, so nothing else would stop it.
 *
 * PostgreSQL refuses to run as root: as root, initdb, pg_ctl and postgres run as the `postgres` user
 * (runuser), which then owns the temporary directory.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';
import { onCleanup } from './global-hooks.js';
import { freePort } from './redis-server.js';

export interface PostgresServer {
  /** postgresql://<user>@127.0.0.1:<port>/<database>: TCP on loopback, which every `pg` version accepts. */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The cluster's data directory (PGDATA), owned by the user the server runs as. */
  readonly dataDir: string;
  /** The private directory of the server's Unix socket (also usable: `?host=<socketDir>`). */
  readonly socketDir: string;
  /** The superuser, created by initdb; no password (trust). */
  readonly user: string;
  /** The database `url` names, created empty at start. */
  readonly database: string;
  /** Whether the postmaster is running (false after kill() or stop()). */
  readonly running: boolean;
  /** Stops the server for good (`pg_ctl stop -m fast -w`) and removes its directories. Idempotent. */
  stop(): Promise<void>;
  /** Kills the postmaster and its backends with SIGKILL, as a crash would; data stays for start(). */
  kill(): Promise<void>;
  /** Starts a killed server again on the same port and data (crash recovery runs); no-op when running. */
  start(): Promise<void>;
  /** Fast shutdown (clients are disconnected) then start, same port and data; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Creates an empty database and returns its URL. `name`: lower-case letters, digits and _. */
  createDatabase(name: string): Promise<string>;
}

export interface StartPostgresOptions {
  /** How long pg_ctl may take to start or stop the server, ms. Default 60,000 (initdb's first start on a slow disk). */
  readyTimeoutMs?: number;
  /** max_connections. Default 200: pool tests open many connections; PostgreSQL's own default is 100. */
  maxConnections?: number;
  /** Extra server settings (`-c name=value`), e.g. { log_min_duration_statement: '0' }. */
  settings?: Readonly<Record<string, string>>;
}

export type PostgresAvailability = { ok: true; binDir: string } | { ok: false; reason: string };

const SUPERUSER = 'cloudstackd';
const DATABASE = 'cloudstackd';
/** The OS user PostgreSQL runs as when this process is root (Debian's packages create it). */
const RUN_AS = 'postgres';
/** Small: test databases are tiny, and many servers may run side by side. */
const SHARED_BUFFERS = '16MB';
const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function isExecutable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/**
 * The directory holding initdb, pg_ctl and postgres, or undefined: POSTGRES_BIN_DIR when set (and only
 * it, so that a wrong value is noticed), else the directory of `initdb` on PATH (symlinks resolved, so
 * that pg_ctl finds its own postgres), else the newest /usr/lib/postgresql/<version>/bin.
 */
export function findPostgresBinDir(): string | undefined {
  const explicit = process.env.POSTGRES_BIN_DIR;
  if (explicit) return isExecutable(join(explicit, 'initdb')) ? explicit : undefined;
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && isExecutable(join(d, 'initdb'))) return dirname(realpathSync(join(d, 'initdb')));
  }
  let versions: string[] = [];
  try { versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+(\.\d+)?$/.test(v)); } catch { /* not installed */ }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join('/usr/lib/postgresql', v, 'bin');
    if (isExecutable(join(bin, 'initdb')) && isExecutable(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** Whether PostgreSQL suites can run: the binaries exist and, as root, the `postgres` user does. */
export function postgresAvailable(): PostgresAvailability {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) {
    const where = process.env.POSTGRES_BIN_DIR ? `POSTGRES_BIN_DIR=${process.env.POSTGRES_BIN_DIR} holds no executable initdb`
      : 'no initdb on PATH or in /usr/lib/postgresql/*/bin';
    return { ok: false, reason: `${where}; install PostgreSQL with .ci/install-packages.sh` };
  }
  if (process.getuid?.() === 0 && runAsIds() === undefined) {
    return { ok: false, reason: `running as root, and PostgreSQL refuses root, but there is no '${RUN_AS}' user to run it as; create one or run the tests as another user` };
  }
  return { ok: true, binDir };
}

/**
 * For a suite's `before` hook: skips the suite with the reason printed when PostgreSQL is missing outside
 * CI, and fails it under CI (CI=true), where a missing PostgreSQL is a broken machine.
 */
export function requirePostgres(ctx: Mocha.Context): void {
  const a = postgresAvailable();
  if (a.ok) return;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`PostgreSQL is required under CI: ${a.reason}`);
  process.stdout.write(`      (skipped: ${a.reason})\n`);
  ctx.skip();
}

let runAsCache: { uid: number; gid: number } | null | undefined;
function runAsIds(): { uid: number; gid: number } | undefined {
  if (runAsCache === undefined) {
    try {
      const uid = Number(execFileSync('id', ['-u', RUN_AS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const gid = Number(execFileSync('id', ['-g', RUN_AS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      runAsCache = Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
    } catch {
      runAsCache = null;
    }
  }
  return runAsCache ?? undefined;
}

/** Servers of this process that may be running, for the exit and signal handlers (which must be synchronous). */
const live = new Set<OwnedPostgres>();

function killAllNow(): void {
  for (const s of live) {
    s.killNow();
    s.removeNow();
  }
}

process.once('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    killAllNow();
    // Re-raise so the signal does what it would have done without this handler.
    process.removeListener(sig, onSignal);
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  process.on(sig, onSignal);
}

/** PIDs of the live direct children of `pid` (the postmaster's backends and helpers), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try { entries = readdirSync('/proc'); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** Whether a process runs; a zombie (dead, waiting for a parent that is gone to reap it) does not. */
export function processAlive(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

class OwnedPostgres implements PostgresServer {
  readonly host = '127.0.0.1' as const;
  readonly user = SUPERUSER;
  readonly database = DATABASE;
  readonly dataDir: string;
  readonly socketDir: string;
  private readonly logFile: string;
  private up = false;
  private disposed = false;
  /** The postmaster and backends the last killNow() found, first the postmaster. */
  private lastPids: number[] = [];

  constructor(readonly port: number, private readonly binDir: string, private readonly baseDir: string,
    private readonly options: Required<Omit<StartPostgresOptions, 'settings'>> & StartPostgresOptions) {
    this.dataDir = join(baseDir, 'data');
    this.socketDir = join(baseDir, 'socket');
    this.logFile = join(baseDir, 'server.log');
  }

  get url(): string {
    return this.urlOf(this.database);
  }

  get running(): boolean {
    return this.up;
  }

  /** initdb, first start, and the database `url` names. */
  async init(): Promise<void> {
    mkdirSync(this.socketDir, { mode: 0o700 });
    const ids = process.getuid?.() === 0 ? runAsIds() : undefined;
    if (ids !== undefined) {
      for (const p of [this.baseDir, this.socketDir]) chownSync(p, ids.uid, ids.gid);
    }
    await this.tool('initdb', ['-D', this.dataDir, '-U', SUPERUSER, '-E', 'UTF8', '--locale=C', '--auth=trust', '--no-sync']);
    // Only the socket and 127.0.0.1 (the server listens nowhere else), without passwords.
    writeFileSync(join(this.dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    if (ids !== undefined) chownSync(join(this.dataDir, 'pg_hba.conf'), ids.uid, ids.gid);
    await this.start();
    await this.query(this.urlOf('postgres'), `CREATE DATABASE ${DATABASE}`);
  }

  async start(): Promise<void> {
    if (this.disposed) throw new Error(`the PostgreSQL server of ${this.baseDir} was stopped for good; start a new one`);
    if (this.up) return;
    const settings: Record<string, string> = {
      listen_addresses: this.host,
      max_connections: String(this.options.maxConnections),
      shared_buffers: SHARED_BUFFERS,
      ...this.options.settings,
    };
    // pg_ctl hands -o to the postmaster through /bin/sh: quote every value.
    const q = (v: string): string => `'${v.replace(/'/g, "'\\''")}'`;
    const opts = [`-p ${this.port}`, `-k ${q(this.socketDir)}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${q(v)}`)].join(' ');
    live.add(this);
    try {
      await this.tool('pg_ctl', ['start', '-w', '-t', String(Math.ceil(this.options.readyTimeoutMs / 1000)), '-D', this.dataDir,
        '-l', this.logFile, '-o', opts]);
    } catch (err) {
      this.killNow();
      throw err;
    }
    this.up = true;
  }

  async restart(): Promise<void> {
    await this.shutdown();
    await this.start();
  }

  async kill(): Promise<void> {
    this.killNow();
    // Backends notice a dead postmaster only at their next wait; the SIGKILL above reached them too,
    // but a restart must not find them still holding the shared memory.
    const until = Date.now() + this.options.readyTimeoutMs;
    for (const pid of this.lastPids) {
      while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    }
    // Where nothing reaps orphans (a container whose init does not), the dead postmaster stays a zombie
    // and its PID still answers kill(0): the next postmaster would take the stale lock file for a live
    // server and refuse to start. The postmaster is dead (checked above), so the lock is stale.
    const postmaster = this.lastPids[0];
    if (postmaster !== undefined && !processAlive(postmaster)) {
      for (const lock of [join(this.dataDir, 'postmaster.pid'), join(this.socketDir, `.s.PGSQL.${this.port}.lock`)]) rmSync(lock, { force: true });
    }
  }

  async stop(): Promise<void> {
    if (this.disposed) return;
    try {
      await this.shutdown();
    } finally {
      this.killNow(); // whatever a failed shutdown left
      this.disposed = true;
      live.delete(this);
      rmSync(this.baseDir, { recursive: true, force: true });
    }
  }

  async createDatabase(name: string): Promise<string> {
    if (!DB_NAME.test(name)) throw new Error(`database name '${name}' is not plain lower-case letters, digits and _ (at most 63)`);
    await this.query(this.url, `CREATE DATABASE ${name}`);
    return this.urlOf(name);
  }

  /** Synchronous SIGKILL of the postmaster and its children, from postmaster.pid; for exit handlers too. */
  killNow(): void {
    this.up = false;
    let pid: number;
    try {
      pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return; // never started, or shut down cleanly (the file goes with the server)
    }
    if (!Number.isInteger(pid) || pid <= 0) return;
    if (!processAlive(pid)) { this.lastPids = [pid]; return; } // killed before: kill() clears its stale locks
    const pids = [pid, ...childrenOf(pid)];
    for (const p of pids) {
      try { process.kill(p, 'SIGKILL'); } catch { /* gone already */ }
    }
    this.lastPids = pids;
  }

  /** Removes the server's directories (after killNow(), for exit handlers). */
  removeNow(): void {
    rmSync(this.baseDir, { recursive: true, force: true });
  }

  /** Fast shutdown, keeping the data: clients are disconnected, the checkpoint is written. */
  private async shutdown(): Promise<void> {
    if (!this.up) { await this.kill(); return; }
    await this.tool('pg_ctl', ['stop', '-m', 'fast', '-w', '-t', String(Math.ceil(this.options.readyTimeoutMs / 1000)), '-D', this.dataDir]);
    this.up = false;
  }

  private urlOf(database: string): string {
    return `postgresql://${SUPERUSER}@${this.host}:${this.port}/${database}`;
  }

  private async query(url: string, sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try { await client.query(sql); } finally { await client.end(); }
  }

  /** Runs a PostgreSQL program, as the `postgres` user when this process is root. */
  private tool(program: string, args: string[]): Promise<void> {
    const path = join(this.binDir, program);
    const [file, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', RUN_AS, '--', path, ...args]] : [path, args];
    const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
    return new Promise((resolve, reject) => {
      execFile(file, argv, { env, timeout: this.options.readyTimeoutMs + 10_000, cwd: this.baseDir }, (err, stdout, stderr) => {
        if (err === null) { resolve(); return; }
        let log = '';
        try { log = readFileSync(this.logFile, 'utf8').slice(-2_000); } catch { /* no log yet */ }
        reject(new Error(`${program} ${args[0] ?? ''} failed (${err.message.split('\n')[0]}): ${`${stdout}${stderr}`.trim().slice(-2_000)}` +
          (log ? `\nserver log: ${log}` : '')));
      });
    });
  }
}

/** Starts a private PostgreSQL server. Throws, saying what is missing, when it cannot. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const a = postgresAvailable();
  if (!a.ok) throw new Error(a.reason);
  const full = { readyTimeoutMs: 60_000, maxConnections: 200, ...options };
  let lastErr: unknown;
  // The free port may be taken between asking and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = new OwnedPostgres(await freePort(), a.binDir, mkdtempSync(join(tmpdir(), 'cloudstackd-pg-')), full);
    try {
      await server.init();
      onCleanup(() => server.stop());
      return server;
    } catch (err) {
      lastErr = err;
      await server.stop().catch(() => undefined);
    }
  }
  throw lastErr as Error;
}
