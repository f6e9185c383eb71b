/**
 * What `--role` does with real `cloudstackd` processes: every component named alone on the in-process
 * transport is refused with one line and status 2 (nothing else in the process could talk to it), an
 * unknown role likewise, a second data instance on the same SQLite files or in the same cluster is
 * refused, and `--role=all --transport ws` is a whole cloud in one process that a compute node joins.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENT_NAMES } from '../../bin/components.js';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { CsApi } from '../helpers/cs-api.js';
import { cliPath } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../system/distributed-cluster.js';

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).to.have.length(1);
  return lines[0]!;
}

describe('cloudstackd --role', function () {
  this.timeout(60_000);
  let dir: string;
  let secret: string;
  const procs: CliProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-roles-'));
    secret = join(dir, 'secret');
    writeFileSync(secret, randomBytes(32).toString('hex'), { mode: 0o600 });
  });

  after(async () => {
    for (const p of procs.reverse()) await p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of COMPONENT_NAMES.filter((n) => n !== 'echo')) {
    it(`refuses --role=${name} alone on the in-process transport with one line and status 2`, () => {
      const r = runCli([`--role=${name}`, '--data-dir', join(dir, `alone-${name}`)]);
      expect(r.status, r.stderr).to.equal(2);
      const line = oneLine(r.stderr);
      expect(line).to.contain(`--role=${name}`);
      expect(line).to.match(/--transport ws or redis/);
      expect(r.stdout).to.not.contain('ready');
    });
  }

  it('refuses an unknown role, naming it and the known ones', () => {
    const r = runCli(['--role=api,frobnicator']);
    expect(r.status).to.equal(2);
    expect(oneLine(r.stderr)).to.contain('frobnicator').and.contain('fabric-monitor');
  });

  it('refuses a second data instance on the same SQLite files, and one joining a cluster that already has one', async () => {
    const port = await freePort();
    // At warn, the refusal is all a refused node writes (at info it first logs joining the cluster).
    const base = ['--transport', 'ws', '--cluster-secret-file', secret, '--cluster-name', 'roles', '--heartbeat-profile', 'test', '--log-level', 'warn'];
    procs.push(await startCli('d1', ['--role=data', ...base, '--listen', `127.0.0.1:${port}`, '--node-name', 'd1',
      '--data-dir', join(dir, 'd1')], /^ready node=d1/m));
    const same = runCli(['--role=data', ...base, '--listen', '127.0.0.1:0', '--node-name', 'd2', '--data-dir', join(dir, 'd1')]);
    expect(same.status, same.stderr).to.equal(2);
    expect(oneLine(same.stderr)).to.contain('another data instance already writes the database');
    const other = runCli(['--role=data', ...base, '--listen', '127.0.0.1:0', '--join', `127.0.0.1:${port}`, '--node-name', 'd3',
      '--data-dir', join(dir, 'd3')]);
    expect(other.status, other.stderr).to.equal(2);
    expect(oneLine(other.stderr)).to.contain('node d1 already serves the data service');
  });

  it('runs a node that only waits for the services it needs, saying which, and is ready once they appear', async () => {
    const port = await freePort();
    const base = ['--transport', 'ws', '--cluster-secret-file', secret, '--cluster-name', 'roles-wait', '--heartbeat-profile', 'test'];
    const api = await startCli('api-first', ['--role=api', ...base, '--listen', `127.0.0.1:${port}`, '--node-name', 'a1', '--port', '0'],
      /^waiting for services: (.*)$/m);
    procs.push(api);
    expect(api.ready).to.equal('data');
    let out = '';
    api.child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    procs.push(await startCli('data-later', ['--role=data', ...base, '--listen', '127.0.0.1:0', '--join', `127.0.0.1:${port}`,
      '--node-name', 'd9', '--data-dir', join(dir, 'd9')], /^ready node=d9/m));
    await waitFor(() => /^components: api\nready node=a1 /m.test(out), 20_000, 'the api node ready');
  });

  it('--role=all --transport ws is a whole cloud in one process that a compute node joins', async () => {
    const port = await freePort();
    const base = ['--transport', 'ws', '--cluster-secret-file', secret, '--cluster-name', 'roles-all', '--heartbeat-profile', 'test'];
    const all = await startCli('all', ['--role=all', ...base, '--listen', `127.0.0.1:${port}`, '--node-name', 'cloud', '--port', '0',
      '--hosts', '2', '--data-dir', join(dir, 'all')], /^components: (.*)\nready node=cloud /m);
    procs.push(all);
    expect(all.ready.split(',')).to.include.members(['data', 'api', 'orchestrator', 'compute', 'fabric-monitor']);
    procs.push(await startCli('joiner', ['--role=compute', ...base, '--listen', '127.0.0.1:0', '--join', `127.0.0.1:${port}`,
      '--node-name', 'kvm-7'], /^ready node=kvm-7/m));
    const cred = JSON.parse(readFileSync(join(dir, 'all', 'credentials.json'), 'utf8')) as { endpoint: string; apiKey: string; secretKey: string };
    const api = new CsApi(cred);
    try {
      await waitFor(async () => {
        const hosts = await api.listAll<{ name: string; state: string }>('listHosts', 'host');
        return hosts.length === 3 && hosts.every((h) => h.state === 'Up');
      }, 20_000, 'the two lab hosts and kvm-7 Up', 100);
      const names = (await api.listAll<{ name: string }>('listHosts', 'host')).map((h) => h.name).sort();
      expect(names).to.deep.equal(['kvm-7', 'sim-host-1', 'sim-host-2']);
    } finally {
      api.close();
    }
  });
});
