/**
 * A Redis launcher for tests: each call starts its own `redis-server` on a free loopback port, with no
 * persistence and a temporary directory, so tests never touch a Redis someone else runs (e.g. on 6379).
 * The server can be stopped, started again on the same port, restarted and killed (SIGKILL) to test
 * outages. Every server is stopped by the global cleanup hook and at process exit, also when a test fails.
 *
 * With REDIS_URL set, that server is used instead (outage and configuration tests are then skipped:
 * they would disturb a server this process does not own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { onCleanup } from './global-hooks.js';

export interface RedisServer {
  /** redis://127.0.0.1:<port> (or REDIS_URL). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** False for a server given by REDIS_URL: it cannot be stopped, restarted or reconfigured. */
  readonly owned: boolean;
  /** Stops the server gracefully (SIGTERM); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts a stopped or killed server again, same port and arguments; resolves once it answers PING. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Stops the server for good and removes its directory. Idempotent. */
  dispose(): Promise<void>;
}

export interface StartRedisOptions {
  /** Extra redis-server arguments, e.g. ['--user', 'alice', 'on', '>pw', '~*', '&*', '+@all']. */
  args?: string[];
  /** How long to wait for the server to answer PING, ms. Default 10,000. */
  readyTimeoutMs?: number;
}

export type RedisAvailability = { ok: true; binary: string | undefined; url: string | undefined } | { ok: false; reason: string };

const SEARCH_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin'];

/**
 * Path of the redis-server binary, or undefined: REDIS_SERVER when set (and only it, so that a wrong
 * value is noticed rather than silently replaced), else PATH, else common install places.
 */
export function findRedisServer(): string | undefined {
  const explicit = process.env.REDIS_SERVER;
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(delimiter).map((d) => d && join(d, 'redis-server')),
    ...SEARCH_DIRS.map((d) => join(d, 'redis-server'))];
  for (const c of candidates) {
    if (!c) continue;
    try { accessSync(c, constants.X_OK); return c; } catch { /* try the next one */ }
  }
  return undefined;
}

/** Whether Redis suites can run: REDIS_URL is set or a redis-server binary exists. */
export function redisAvailable(): RedisAvailability {
  const url = process.env.REDIS_URL;
  if (url) return { ok: true, binary: undefined, url };
  const binary = findRedisServer();
  if (binary) return { ok: true, binary, url: undefined };
  const where = process.env.REDIS_SERVER ? `REDIS_SERVER=${process.env.REDIS_SERVER} is not an executable` : 'no redis-server binary on PATH or in /usr/bin, /usr/sbin, /usr/local/bin';
  return { ok: false, reason: `${where} and REDIS_URL is not set; install it with .ci/install-redis.sh` };
}

/**
 * For a suite's `before` hook: skips the suite with the reason printed when Redis is missing outside CI,
 * and fails it under CI (CI=true), where a missing Redis is a broken machine, not an optional extra.
 */
export function requireRedis(ctx: Mocha.Context): void {
  const a = redisAvailable();
  if (a.ok) return;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`Redis is required under CI: ${a.reason}`);
  process.stdout.write(`      (skipped: ${a.reason})\n`);
  ctx.skip();
}

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something on host:port answers a RESP PING (with PONG or an auth error: it is up). */
async function pingOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d) => done(/^(\+PONG|-NOAUTH|-WRONGPASS)/.test(d.toString())));
    s.connect(port, host, () => s.write('PING\r\n'));
  });
}

async function waitUntilUp(host: string, port: number, timeoutMs: number, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited early (${child.exitCode ?? child.signalCode}): ${log()}`);
    if (await pingOnce(host, port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on ${host}:${port} did not answer PING within ${timeoutMs} ms: ${log()}`);
}

const live = new Set<ChildProcess>();
process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });

class OwnedRedis implements RedisServer {
  readonly host = '127.0.0.1';
  readonly owned = true;
  private child: ChildProcess | undefined;
  private output = '';
  private disposed = false;

  constructor(readonly port: number, private readonly binary: string, private readonly dir: string, private readonly args: string[], private readonly readyTimeoutMs: number) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.disposed) throw new Error('this redis server was disposed');
    if (this.child) return;
    const child = spawn(this.binary, ['--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--logfile', '', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    const keep = (d: Buffer): void => { this.output = (this.output + d.toString()).slice(-4_000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    live.add(child);
    child.once('exit', () => { live.delete(child); if (this.child === child) this.child = undefined; });
    try {
      await waitUntilUp(this.host, this.port, this.readyTimeoutMs, child, () => this.output);
    } catch (err) {
      await this.signal('SIGKILL');
      throw err;
    }
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.signal('SIGKILL');
    this.disposed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) { this.child = undefined; return; }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(sig);
    // A graceful stop that hangs (it should not: nothing to save) is finished off.
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
    this.child = undefined;
  }
}

class ExternalRedis implements RedisServer {
  readonly owned = false;
  readonly host: string;
  readonly port: number;

  constructor(readonly url: string) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port || 6379);
  }

  private refuse(): Promise<void> {
    return Promise.reject(new Error(`cannot stop or restart the Redis given by REDIS_URL (${this.host}:${this.port}); unset REDIS_URL to let tests start their own`));
  }

  stop(): Promise<void> { return this.refuse(); }
  start(): Promise<void> { return this.refuse(); }
  restart(): Promise<void> { return this.refuse(); }
  kill(): Promise<void> { return this.refuse(); }
  async dispose(): Promise<void> { /* not ours */ }
}

/** Starts a private redis-server (or returns REDIS_URL's server). Throws when neither is available. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const a = redisAvailable();
  if (!a.ok) throw new Error(a.reason);
  if (a.url !== undefined) return new ExternalRedis(a.url);
  let lastErr: unknown;
  // The free port may be taken between asking and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-redis-'));
    const server = new OwnedRedis(await freePort(), a.binary!, dir, options.args ?? [], options.readyTimeoutMs ?? 10_000);
    try {
      await server.start();
      onCleanup(() => server.dispose());
      return server;
    } catch (err) {
      lastErr = err;
      await server.dispose();
    }
  }
  throw lastErr as Error;
}
