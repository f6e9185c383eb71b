/**
 * `cloudstackd` as a child process (the built dist/bin/cloudstackd.js): the default role runs the lab,
 * says ready, writes a private credentials.json whose keys work, keeps its data over a restart, exits 0
 * on SIGTERM and SIGINT, and refuses a port in use with one line on stderr and a non-zero exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { cliPath } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { LabClient } from '../actors/api/commands/lab-client.js';

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

function credentialsOf(dir: string): { endpoint: string; apiKey: string; secretKey: string } {
  return JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { endpoint: string; apiKey: string; secretKey: string };
}

describe('lab: cloudstackd (child process)', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-cli-'));
  });

  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function startCli(signalAfter: 'SIGTERM' | 'SIGINT', check: (r: Running) => Promise<void>): Promise<Running> {
    const r = run(['--port', '0', '--data-dir', dir, '--log-level', 'warn']);
    children.push(r.child);
    await waitFor(() => r.out().includes('ready'), 20_000, `the ready line (stdout: ${r.out()} stderr: ${r.err()})`);
    await check(r);
    r.child.kill(signalAfter);
    expect(await r.exited, `exit code after ${signalAfter}; stderr: ${r.err()}`).to.equal(0);
    return r;
  }

  it('seeds on first start, writes credentials.json 0600 whose keys work, and exits 0 on SIGTERM', async () => {
    const r = await startCli('SIGTERM', async () => {
      const creds = credentialsOf(dir);
      expect(statSync(join(dir, 'credentials.json')).mode & 0o777).to.equal(0o600);
      const client = new LabClient(creds);
      expect((await client.list('listZones', 'zone')).length).to.equal(1);
      await client.ok('createDomain', { name: 'survives-restart' });
    });
    expect(r.out()).to.match(/^seeded a new lab in /m);
    expect(r.out()).to.contain(`credentials: ${join(dir, 'credentials.json')}`);
    expect(r.out()).to.match(/^endpoint: http:\/\/127\.0\.0\.1:\d+\/client\/api$/m);
  });

  it('reuses the data directory on restart (same keys, same data) and exits 0 on SIGINT', async () => {
    const before = credentialsOf(dir);
    const r = await startCli('SIGINT', async () => {
      const creds = credentialsOf(dir);
      expect([creds.apiKey, creds.secretKey]).to.deep.equal([before.apiKey, before.secretKey]);
      const domains = await new LabClient(creds).list('listDomains', 'domain', { listall: 'true' });
      expect(domains.map((d) => d['name'])).to.include('survives-restart');
    });
    expect(r.out()).to.match(/^reusing the lab in /m);
  });

  it('refuses a port in use with one line on stderr and a non-zero exit', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run(['--port', String(port), '--data-dir', dir]);
      children.push(r.child);
      const code = await r.exited;
      expect(code).to.not.equal(0);
      const lines = r.err().trim().split('\n');
      expect(lines, r.err()).to.have.length(1);
      expect(lines[0]).to.equal(`cloudstackd: port ${port} on 127.0.0.1 is already in use; choose another port`);
      expect(r.out()).to.not.contain('ready');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('refuses an unusable data directory and a bad flag with one line each', async () => {
    const file = join(dir, 'credentials.json');
    const r = run(['--port', '0', '--data-dir', join(file, 'sub')]);
    children.push(r.child);
    expect(await r.exited).to.not.equal(0);
    expect(r.err().trim().split('\n')).to.have.length(1);
    expect(r.err()).to.match(/^cloudstackd: cannot use the data directory .*credentials\.json\/sub: /);
    const bad = run(['--port', 'eighty']);
    children.push(bad.child);
    expect(await bad.exited).to.equal(2);
    expect(bad.err().trim().split('\n')).to.have.length(1);
    expect(bad.err()).to.contain('--port');
  });
});
