import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { cliPath } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cloudstackd CLI', function () {
  this.timeout(30_000);

  it('--help lists every option with its default', () => {
    const r = runCli(['--help']);
    expect(r.status).to.equal(0);
    for (const opt of ['--role', '--transport', '--listen', '--join', '--redis-url', '--cluster-name', '--cluster-secret-file',
      '--node-name', '--bind', '--port', '--data-dir', '--hosts', '--log-level', '--hypervisor', '--cpu-cores', '--cpu-speed',
      '--memory', '--zone', '--pod', '--cluster']) {
      expect(r.stdout).to.contain(opt);
    }
    expect(r.stdout).to.contain('(default: 8080)');
    expect(r.stdout).to.contain('(default: all)');
  });

  for (const [args, mention] of [
    [['--port', 'abc'], '--port'],
    [['--bogus'], '--bogus'],
    [['--transport', 'carrier-pigeon'], '--transport'],
    [['--role', 'frobnicator'], 'frobnicator'],
    [['--hosts', '-1'], '--hosts'],
    [['--role=compute'], '--role=compute'],
    [['--transport', 'ws'], '--cluster-secret-file'],
    [['--database-unavailable-retry', '5000'], '--database-url'],
    [['--database-unavailable-retry', 'soon', '--database-url', 'postgresql://u@127.0.0.1:1/db'], '--database-unavailable-retry'],
  ] as const) {
    it(`exits 2 with one line naming the problem for ${args.join(' ')}`, () => {
      const r = runCli([...args]);
      expect(r.status).to.equal(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain(mention);
    });
  }

  it('db migrate --help lists its options and exits 0', () => {
    const r = runCli(['db', 'migrate', '--help']);
    expect(r.status).to.equal(0);
    for (const opt of ['--from', '--to ', '--to-file', '--batch-rows', '--progress-every']) expect(r.stdout).to.contain(opt);
  });

  for (const [args, mention] of [
    [['db', 'migrate', '--to', 'postgresql://u@h/db'], '--from'],
    [['db', 'migrate', '--from', '.'], 'exactly one of --to'],
    [['db', 'migrate', '--from', '.', '--to', 'postgresql://u@h/db', '--to-file', 'f'], 'exactly one of --to'],
    [['db', 'migrate', '--from', '.', '--to', 'mysql://u@h/db'], 'mysql'],
    [['db', 'migrate', '--from', '.', '--to-file', '/nonexistent/url-file'], '--to-file: cannot read'],
    [['db', 'migrate', '--from', '.', '--to', 'postgresql://u@h/db', '--batch-rows', '0'], '--batch-rows'],
    [['db', 'migrate', '--bogus'], '--bogus'],
    [['db', 'frobnicate'], 'frobnicate'],
    [['db', 'verify', '--to', 'postgresql://u@h/db'], 'db verify needs --from'],
  ] as const) {
    it(`db: exits 2 naming the problem for ${args.slice(1).join(' ')}`, () => {
      const r = runCli([...args]);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.contain(mention);
    });
  }

  it('db migrate: a directory without a lab database exits 1, and the password in --to is never printed', () => {
    const r = runCli(['db', 'migrate', '--from', '/nonexistent/data', '--to', 'postgresql://u:hunter2@127.0.0.1:1/db']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('no SQLite database at /nonexistent/data/cloudstackd.db');
    expect(r.stderr).to.contain('postgresql://u:***@127.0.0.1:1/db');
    expect(r.stdout + r.stderr).to.not.contain('hunter2');
  });

  it('starts a node, says ready, and exits 0 with every handle closed on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [cliPath(), '--role=echo', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(() => out.includes('ready'), 15_000, 'ready line');
        expect(out).to.match(/ready node=\S+ transport=inproc/);
        child.kill(signal);
        expect(await exited).to.equal(0);
      } finally {
        child.kill('SIGKILL');
      }
    }
  });
});
