/**
 * startLab(): a data directory is seeded once and reused (data and keys kept), credentials.json and the
 * database are private (0600), a port in use or an unwritable data directory is a clear ConfigError
 * with nothing left running, and stop() lets an in-flight request finish.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startLab, type Lab } from '../../bin/lab.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { signedQuery } from '../actors/api/fixtures.js';
import { LabClient } from '../actors/api/commands/lab-client.js';
import { sleep } from '../helpers/wait.js';

describe('lab: startLab()', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const labs: Lab[] = [];

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'cloudstackd-lab-'));
    dirs.push(d);
    return d;
  }

  async function lab(options: Parameters<typeof startLab>[0] = {}): Promise<Lab> {
    const l = await startLab({ logger: silentLogger, hosts: 2, ...options });
    labs.push(l);
    return l;
  }

  afterEach(async () => {
    for (const l of labs.splice(0)) await l.stop();
  });

  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('seeds a data directory once, writes private credentials, and reuses everything on restart', async () => {
    const dir = tempDir();
    const first = await lab({ dataDir: dir });
    expect(first.seeded).to.equal(true);
    expect(first.credentialsFile).to.equal(join(dir, 'credentials.json'));
    expect(statSync(first.credentialsFile!).mode & 0o777).to.equal(0o600);
    expect(statSync(join(dir, 'cloudstackd.db')).mode & 0o777).to.equal(0o600);
    expect(JSON.parse(readFileSync(first.credentialsFile!, 'utf8'))).to.deep.equal({ endpoint: first.endpoint, apiKey: first.apiKey, secretKey: first.secretKey });
    await new LabClient(first).ok('createDomain', { name: 'kept' });
    await first.stop();
    const second = await lab({ dataDir: dir, hosts: 7 });
    expect(second.seeded).to.equal(false);
    expect([second.apiKey, second.secretKey]).to.deep.equal([first.apiKey, first.secretKey]);
    expect(second.seed.zoneid).to.equal(first.seed.zoneid);
    expect(second.seed.hostids, 'the seeded hosts, not --hosts of the restart').to.deep.equal(first.seed.hostids);
    const domains = await new LabClient(second).list('listDomains', 'domain', { listall: 'true' });
    expect(domains.map((d) => d['name'])).to.include('kept');
    expect(JSON.parse(readFileSync(second.credentialsFile!, 'utf8')).endpoint).to.equal(second.endpoint);
  });

  it('refuses a port in use with a ConfigError and leaves nothing running', async () => {
    const a = await lab();
    const port = Number(new URL(a.endpoint).port);
    const dir = tempDir();
    const err = await startLab({ logger: silentLogger, port, dataDir: dir }).then(() => expect.fail('expected a ConfigError'), (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.equal(`port ${port} on 127.0.0.1 is already in use; choose another port`);
    // The database was closed: another lab opens it and finds it seeded.
    const b = await lab({ dataDir: dir });
    expect(b.seeded).to.equal(false);
  });

  it('refuses an unwritable data directory with a ConfigError', async () => {
    const file = join(tempDir(), 'not-a-directory');
    writeFileSync(file, 'x');
    const err = await startLab({ logger: silentLogger, dataDir: join(file, 'data') }).then(() => expect.fail('expected a ConfigError'), (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/^cannot use the data directory .*not-a-directory\/data: .*--data-dir$/);
    if (process.platform === 'linux') {
      // mkdirSync's recursive mode spins for ever under /proc; the lab must answer with an error instead.
      const proc = await startLab({ logger: silentLogger, dataDir: '/proc/cloudstackd-no-such-dir' }).then(() => expect.fail('expected a ConfigError'), (e: unknown) => e);
      expect(proc).to.be.instanceOf(ConfigError);
    }
  });

  it('lets an in-flight request finish when stopped', async () => {
    const l = await lab();
    const port = Number(new URL(l.endpoint).port);
    const body = signedQuery({ command: 'listZones', response: 'json' }, l);
    const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/client/api', agent: false,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      void sleep(100).then(() => {
        stopped = l.stop();
        return sleep(50);
      }).then(() => req.end(body.slice(10)));
    });
    let stopped: Promise<void> | undefined;
    const r = await reply;
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.text).listzonesresponse.count).to.equal(1);
    await stopped;
    labs.splice(labs.indexOf(l), 1);
  });
});
