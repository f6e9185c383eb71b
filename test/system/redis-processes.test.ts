/**
 * Real processes over Redis: three `cloudstackd --role=echo --transport redis` processes and this test
 * as a fourth node. SIGKILL one: asks pending on it fail fast with PeerDownError while the others keep
 * serving; start it again: reachable again. Stop and restart redis-server under traffic: every ask
 * completes or fails retryably before its deadline, and service resumes.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRetryable, PeerDownError, TimeoutError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { Node } from '../../src/node.js';
import { RedisTransport } from '../../transports/redis/redis-transport.js';
import { EchoProtocol } from '../fixtures/echo-protocol.js';
import { CLI, startCli, type CliProcess } from '../helpers/cli-process.js';
import { requireRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

type Proc = Pick<CliProcess, 'name' | 'child' | 'kill'>;

describe('system: cloudstackd processes over redis', function () {
  this.timeout(120_000);
  let server: RedisServer | undefined;
  let dir: string;
  let secretFile: string;
  const cluster = `sys-${randomBytes(3).toString('hex')}`;
  const procs = new Map<string, Proc>();
  let tester: Node | undefined;

  async function startProc(name: string): Promise<Proc> {
    const args = ['--role=echo', '--transport', 'redis', '--redis-url', server!.url, '--cluster-name', cluster,
      '--cluster-secret-file', secretFile, '--node-name', name];
    const { child, kill } = await startCli(name, args, new RegExp(`^ready node=${name} transport=redis`, 'm'));
    const p = { name, child, kill };
    procs.set(name, p);
    return p;
  }

  const echo = (name: string) => tester!.system.ref({ node: name, path: '/echo' }, EchoProtocol);
  const seesAll = (names: string[]) => waitFor(() => names.every((n) => tester!.transport!.peers().includes(n)), 15_000, `peers ${names.join(',')}`);

  before(async function () {
    requireRedis(this);
    if (!existsSync(CLI)) {
      if (process.env.CI === 'true') throw new Error(`${CLI} is missing: run npm run build first`);
      process.stdout.write(`      (skipped: ${CLI} is not built; run npm run build)\n`);
      this.skip();
    }
    server = await startRedis();
    if (!server.owned) this.skip(); // the test restarts redis-server
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-sys-'));
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    await Promise.all(['p1', 'p2', 'p3'].map((n) => startProc(n)));
    tester = new Node({ nodeId: 'tester', logger: silentLogger, transport: new RedisTransport({
      nodeId: 'tester', clusterName: cluster, clusterSecret: readFileSync(secretFile), url: server.url,
      heartbeatIntervalMs: 200, peerTimeoutMs: 2_000, reconnectMaxMs: 300,
    }) });
    await tester.start();
    await seesAll(['p1', 'p2', 'p3']);
  });

  after(async () => {
    await tester?.stop().catch(() => undefined);
    for (const p of procs.values()) await p.kill('SIGKILL');
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails asks pending on a SIGKILLed process fast, keeps serving from the others, and reaches it again after a restart', async () => {
    for (const n of ['p1', 'p2', 'p3']) expect(await echo(n).ask('echo', { text: n })).to.deep.equal({ text: n });
    const pending = Array.from({ length: 5 }, () => echo('p2').ask('slow', { ms: 60_000 }, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    await sleep(100); // let them reach p2
    const killedAt = Date.now();
    await procs.get('p2')!.kill('SIGKILL');
    const errors = await Promise.all(pending);
    const failedAfterMs = Date.now() - killedAt;
    for (const e of errors) expect(e).to.be.instanceOf(PeerDownError);
    process.stdout.write(`      (pending asks failed ${failedAfterMs} ms after SIGKILL)\n`);
    expect(failedAfterMs).to.be.below(60_000);
    for (const n of ['p1', 'p3']) expect(await echo(n).ask('echo', { text: `${n} still` })).to.deep.equal({ text: `${n} still` });

    await startProc('p2');
    await seesAll(['p2']);
    expect(await echo('p2').ask('echo', { text: 'back' })).to.deep.equal({ text: 'back' });
  });

  it('rides out a redis-server stop and restart under traffic', async () => {
    let stop = false;
    let ok = 0;
    let okAfter = 0;
    let after = false;
    const failures: unknown[] = [];
    const loops = ['p1', 'p2', 'p3'].flatMap((n) => Array.from({ length: 4 }, async () => {
      while (!stop) {
        try { await echo(n).ask('echo', { text: 'load' }, { timeoutMs: 10_000 }); ok++; if (after) okAfter++; } catch (e) { failures.push(e); await sleep(20); }
      }
    }));
    try {
      await waitFor(() => ok > 300, 15_000, 'traffic before the restart');
      await server!.stop();
      await sleep(500);
      await server!.start();
      await seesAll(['p1', 'p2', 'p3']);
      after = true;
      await waitFor(() => okAfter > 300, 20_000, 'traffic after the restart');
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(failures.length).to.be.greaterThan(0);
    expect(failures.filter((e) => !isRetryable(e) || e instanceof TimeoutError)).to.deep.equal([]);
    for (const p of procs.values()) expect(p.child.exitCode).to.equal(null);
  });
});
