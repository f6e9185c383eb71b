/**
 * Real processes over WebSocket: three `cloudstackd --role=echo --transport ws` processes and this
 * test as a fourth node. SIGKILL one: asks pending on it fail fast with PeerDownError while the others
 * keep serving; start it again on the same port: reachable again.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterError, PeerDownError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { Node } from '../../src/node.js';
import { WsTransport } from '../../transports/ws/ws-transport.js';
import { EchoProtocol } from '../fixtures/echo-protocol.js';
import { CLI, startCli, type CliProcess } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/wait.js';

type Proc = Pick<CliProcess, 'name' | 'child' | 'kill'> & { address: string };

describe('system: cloudstackd processes over ws', function () {
  this.timeout(120_000);
  let dir: string;
  let secretFile: string;
  const cluster = `sys-${randomBytes(3).toString('hex')}`;
  const procs = new Map<string, Proc>();
  let tester: Node | undefined;

  async function startProc(name: string, port = 0): Promise<Proc> {
    const testerAddress = new URL(tester!.transport!.address()!);
    const args = ['--role=echo', '--transport', 'ws', '--listen', `127.0.0.1:${port}`, '--join', testerAddress.host,
      '--cluster-name', cluster, '--cluster-secret-file', secretFile, '--node-name', name, '--log-level', 'info'];
    const { child, kill, ready: address } = await startCli(name, args, new RegExp(`^ready node=${name} transport=ws address=(\\S+)$`, 'm'));
    tester!.transport!.learnAddress!(name, address);
    const p = { name, address, child, kill };
    procs.set(name, p);
    return p;
  }

  const echo = (name: string) => tester!.system.ref({ node: name, path: '/echo' }, EchoProtocol);

  before(async function () {
    if (!existsSync(CLI)) {
      if (process.env.CI === 'true') throw new Error(`${CLI} is missing: run npm run build first`);
      process.stdout.write(`      (skipped: ${CLI} is not built; run npm run build)\n`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-ws-sys-'));
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    tester = new Node({ nodeId: 'tester', logger: silentLogger, transport: new WsTransport({
      nodeId: 'tester', clusterName: cluster, clusterSecret: readFileSync(secretFile), logger: silentLogger,
      peerDownGraceMs: 1_000, reconnect: { initialMs: 50, maxMs: 200 },
    }) });
    await tester.start();
    await Promise.all(['p1', 'p2', 'p3'].map((n) => startProc(n)));
  });

  after(async () => {
    await tester?.stop().catch(() => undefined);
    for (const p of procs.values()) await p.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails asks pending on a SIGKILLed process fast, keeps serving from the others, and reaches it again on the same port', async () => {
    for (const n of ['p1', 'p2', 'p3']) expect(await echo(n).ask('echo', { text: n })).to.deep.equal({ text: n });
    const pending = Array.from({ length: 5 }, () => echo('p2').ask('slow', { ms: 60_000 }, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    // Answered by p2's remoting after the slow asks arrived (same connection, in order): they are in p2's hands.
    const probe = await tester!.system.ref({ node: 'p2', path: '/nobody' }, EchoProtocol).ask('echo', { text: 'x' }).catch((e: unknown) => e);
    expect(probe).to.be.instanceOf(DeadLetterError);
    const killedAt = Date.now();
    await procs.get('p2')!.kill('SIGKILL');
    const errors = await Promise.all(pending);
    const failedAfterMs = Date.now() - killedAt;
    for (const e of errors) expect(e).to.be.instanceOf(PeerDownError);
    process.stdout.write(`      (pending asks failed ${failedAfterMs} ms after SIGKILL)\n`);
    for (const n of ['p1', 'p3']) expect(await echo(n).ask('echo', { text: `${n} still` })).to.deep.equal({ text: `${n} still` });

    const before = procs.get('p2')!.address;
    const again = await startProc('p2', Number(new URL(before).port));
    expect(again.address).to.equal(before);
    expect(await echo('p2').ask('echo', { text: 'back' })).to.deep.equal({ text: 'back' });
    await waitFor(() => tester!.transport!.peers().includes('p2'), 5_000, 'p2 connected again');
  });
});
