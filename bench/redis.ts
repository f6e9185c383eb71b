/**
 * The Redis transport between two processes, beside the raw ioredis figures and Moleculer's Redis
 * transporter from ../shared/peers, all through one redis-server this suite starts on a free loopback
 * port (no persistence, a temporary directory) and stops at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { line, progress, type Emit } from './lib.js';
import { runPeer, type PeerResult } from './peers.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no free port'))));
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
  });
}

/** A private redis-server for the bench; undefined (with the reason printed) when none is installed. */
async function startRedis(): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = process.env.REDIS_SERVER ?? which.stdout.trim();
  if (!bin) { progress('redis-server not found (run .ci/install-redis.sh); redis bench skipped'); return undefined; }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-bench-redis-'));
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) { const exited = once(child, 'exit'); child.kill('SIGTERM'); await exited; }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200 && !(await answersPing(port)); i++) await new Promise((r) => setTimeout(r, 25));
  if (!(await answersPing(port))) { await stop(); throw new Error(`bench redis-server on port ${port} did not start`); }
  return { port, stop };
}

function ours(args: string[], port: number): PeerResult | undefined {
  progress(`cloudstackd: redis-case ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(HERE, 'redis-case.js'), ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
  });
  const last = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !last?.startsWith('{')) { progress(`redis-case ${args.join(' ')} failed: ${r.stderr}`); return undefined; }
  return JSON.parse(last) as PeerResult;
}

export async function runRedisBench(emit: Emit): Promise<void> {
  const redis = await startRedis();
  if (redis === undefined) return;
  try {
    const env = { REDIS_PORT: String(redis.port) };
    const rawK1000 = runPeer('redis.mjs', ['rr', '--inflight', '1000'], env);
    const rawK1 = runPeer('redis.mjs', ['rr', '--inflight', '1'], env);
    const rawBatched = runPeer('redis.mjs', ['pubsub', '--window', '1000', '--auto', '--batch', '100'], env);
    const molK1000 = runPeer('moleculer/moleculer.mjs', ['redis', '--inflight', '1000'], env);
    const a1000 = ours(['ask', '--inflight', '1000'], redis.port);
    const a1 = ours(['ask', '--inflight', '1'], redis.port);
    const tells = ours(['tell'], redis.port);
    const v = (r: PeerResult | undefined, k = 'value'): number => Number(r?.[k] ?? NaN);

    emit(line('redis.ask.1000-in-flight', v(a1000), 'req/s', 'moleculer redis transporter k1000', v(molK1000), { ratio: 3, higherIsBetter: true }));
    emit(line('redis.ask.1000-in-flight.vs-raw', v(a1000), 'req/s', 'raw ioredis request/reply k1000', v(rawK1000), { ratio: 1, higherIsBetter: true }));
    emit(line('redis.ask.p50', v(a1), 'us', 'raw ioredis request/reply k1 p50', v(rawK1)));
    emit(line('redis.ask.p99', v(a1, 'p99_us'), 'us', 'raw ioredis request/reply k1 p99', v(rawK1, 'p99_us')));
    emit(line('redis.ask.sequential', v(a1, 'rps'), 'req/s', 'raw ioredis request/reply k1', v(rawK1, 'rps')));
    emit(line('redis.tell', v(tells), 'msg/s', 'raw ioredis pub/sub, 100 per PUBLISH, auto-pipelined', v(rawBatched)));
  } finally {
    await redis.stop();
  }
}
