/**
 * Several data instances over one PostgreSQL (issue 12, part 3): four `cloudstackd --role=data
 * --database-url` processes serve one cloud, and client processes (fixtures/data-client.ts) that join
 * the cluster as plain members call them through the registry, as components do. They hammer host
 * capacity reservations, guest addresses, VNIs and job leases with fenced writes, and log every
 * outcome. Under that load one data instance is SIGKILLed, then PostgreSQL is restarted, then it is
 * killed and kept down longer than the instances' --database-unavailable-retry, then started again.
 *
 * Checked afterwards, from the logs and the database (read directly with `pg`): no host over capacity,
 * no address or VNI held twice, one holder per lease epoch and no new holder inside the previous one's
 * acknowledged validity, no fenced write acknowledged after its lease moved on, every acknowledged
 * write present; and, during the run, every instance served, the others served on after the SIGKILL,
 * calls waited out the restart, and calls failed with ResourceUnavailableError (naming
 * unavailableRetryMs) during the long outage — never with a false acknowledgement. Database snapshots
 * are checked every 100 ms throughout.
 */
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataStore, SYSTEM } from '../../actors/data/store/index.js';
import { seedManagement } from '../../actors/data/store/seed.js';
import { onCleanup } from '../helpers/global-hooks.js';
import { CLI, startCli, type CliProcess } from '../helpers/cli-process.js';
import { projectRoot } from '../helpers/paths.js';
import { requirePostgres, startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { sleep } from '../helpers/wait.js';
import type { ClientConfig } from './fixtures/data-client.js';
import { capacityViolations, exclusiveViolations, finalStateViolations, leaseViolations, readFinalDb, snapshotViolations,
  type Entry } from './data-instances-checks.js';
import { print } from './transport-suite.js';

const DATA = ['d1', 'd2', 'd3', 'd4'];
const CLIENTS = 6;
const WORKERS = 4;
const GIB = 1024 ** 3;
/** Hosts of 4 × 1000 MHz and 4 GiB: 8 small VMs (500 MHz, 512 MiB) each, 32 in all, for 72 VMs. */
const HOSTS = 4;
const VMS_PER_CLIENT = 12;
/** A /26 guest network: 61 addresses for the 72 NICs. */
const NETWORKS_PER_CLIENT = 6;
/** VNIs 100–131: 32 for the 36 networks. */
const VNI_LAST = 131;
const JOBS = 12;
/** The data instances' --database-unavailable-retry, ms: shorter than the long outage, longer than a restart. */
const UNAVAILABLE_RETRY_MS = 6_000;
const LONG_OUTAGE_MS = 10_000;

interface Fixture { hosts: string[]; hostCaps: Map<string, { cpu: number; memory: number }>; vms: string[]; nics: string[]; networks: string[]; jobs: string[] }

/** Hosts, VMs with NICs on a small network, networks for a small VNI pool, and jobs, added to the seeded cloud. */
function addFixture(url: string): Fixture {
  const store = DataStore.open({ postgres: { url } });
  try {
    return store.transaction(() => {
      const seed = seedManagement(store);
      store.config.set('cpu.overprovisioning.factor', '1');
      store.config.set('mem.overprovisioning.factor', '1');
      const admin = store.users.callerFor(seed.adminUserId);
      const hosts = Array.from({ length: HOSTS }, (_v, i) => store.hosts.create({ zoneid: seed.zoneid, podid: seed.podid, clusterid: seed.clusterid,
        name: `pg-host-${i}`, hypervisor: 'Simulator', cpunumber: 4, cpuspeed: 1000, memory: 4 * GIB, state: 'Up', resourcestate: 'Enabled' }).id);
      const guest = store.networks.create(admin, { name: 'small', zoneid: seed.zoneid, networkofferingid: seed.networkofferingid,
        gateway: '10.2.0.1', netmask: '255.255.255.192' });
      const vms = Array.from({ length: CLIENTS * VMS_PER_CLIENT }, (_v, i) => store.vmOps.create(admin, { zoneid: seed.zoneid,
        serviceofferingid: seed.serviceofferings.small, templateid: seed.templateid, networkids: [guest.id], name: `c-${i}` }).id);
      const nics = vms.map((id) => store.vms.get(SYSTEM, id).nic[0]!.id);
      const networks = Array.from({ length: CLIENTS * NETWORKS_PER_CLIENT }, (_v, i) => store.networks.create(admin, { name: `v-${i}`,
        zoneid: seed.zoneid, networkofferingid: seed.networkofferingid }).id);
      // A small VNI pool, so that allocations run out and VNIs are handed out again after releases.
      store.ctx.run('DELETE FROM vnet WHERE vnet > ? AND network_id IS NULL', VNI_LAST);
      const jobs = Array.from({ length: JOBS }, (_v, i) => store.jobs.create(SYSTEM, { cmd: `test.Lease${i}`, accountid: seed.adminAccountId }).jobid);
      const hostCaps = new Map(hosts.map((h) => [h, { cpu: 4 * 1000, memory: 4 * GIB }]));
      return { hosts, hostCaps, vms, nics, networks, jobs };
    });
  } finally {
    store.close();
  }
}

interface Client { name: string; child: ChildProcessWithoutNullStreams; log: string; ready: Promise<void>; done: Promise<string> }

function startClient(config: ClientConfig): Client {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const script = join(here, '..', 'fixtures', `data-client${ext}`);
  const child = spawn(process.execPath, [...(ext === '.ts' ? ['--import', 'tsx'] : []), script, JSON.stringify(config)],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: projectRoot() });
  onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4_000); });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => { if (l === 'ready') resolve(); });
    child.once('exit', (code) => reject(new Error(`client ${config.name} exited (${code}) before ready: ${err}`)));
  });
  const done = new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => { if (l.startsWith('done ')) resolve(l.slice(5)); });
    child.once('exit', (code) => reject(new Error(`client ${config.name} exited (${code}) before done: ${err}`)));
  });
  done.catch(() => undefined);
  ready.catch(() => undefined);
  return { name: config.name, child, log: config.log, ready, done };
}

function readLog(file: string): Entry[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Entry);
}

type Marks = Record<'go' | 'kill' | 'restart' | 'restarted' | 'outage' | 'back' | 'stop', number>;

function inWindow(entries: readonly Entry[], from: number, to: number): Entry[] {
  return entries.filter((e) => e.at >= from && e.at < to);
}

/** What happened in each phase (answers per instance, errors per code) and the first error of each code. */
function printPhases(entries: readonly Entry[], marks: Marks): void {
  const summary = (list: Entry[]): string => {
    const by = new Map<string, number>();
    for (const e of list) {
      const k = e.t === 'ack' ? `ack@${e.node}` : `${e.t}:${e.code}`;
      by.set(k, (by.get(k) ?? 0) + 1);
    }
    return [...by].sort().map(([k, n]) => `${k}=${n}`).join(' ');
  };
  print(`normal:        ${summary(inWindow(entries, marks.go, marks.kill))}`);
  print(`d3 SIGKILLed:  ${summary(inWindow(entries, marks.kill, marks.restart))}`);
  print(`PG restart:    ${summary(inWindow(entries, marks.restart, marks.outage))}`);
  print(`PG down ${LONG_OUTAGE_MS} ms: ${summary(inWindow(entries, marks.outage, marks.back))}`);
  print(`PG back:       ${summary(inWindow(entries, marks.back, Infinity))}`);
  const lostOn = new Map<string, number>();
  for (const e of entries) if (e.code === 'PEER_DOWN') lostOn.set(`${e.node}: ${e.message}`, (lostOn.get(`${e.node}: ${e.message}`) ?? 0) + 1);
  for (const [why, n] of lostOn) print(`lost (PeerDownError) ${n}x on ${why}`);
  const firstOf = new Map<string, Entry>();
  for (const e of entries) if (e.t !== 'ack' && !firstOf.has(String(e.code))) firstOf.set(String(e.code), e);
  for (const [code, e] of firstOf) print(`first ${code} (${e.op}, ${e.at - marks.go} ms after go, ${e.at - e.sent} ms after sending): ${e.message}`);
}

/** How the service behaved in each phase, from the clients' point of view. */
function expectPhases(entries: readonly Entry[], marks: Marks): void {
  // Every instance served before the SIGKILL; the other three after it.
  const served = (from: number, to: number): string[] =>
    [...new Set(inWindow(entries, from, to).filter((e) => e.t === 'ack').map((e) => e.node))].sort();
  expect(served(marks.go, marks.kill), 'instances that answered before the SIGKILL').to.deep.equal(DATA);
  expect(served(marks.kill + 3_000, marks.restart), 'instances that answered after the SIGKILL').to.deep.equal(['d1', 'd2', 'd4']);
  // Calls lost with the SIGKILLed instance are reported lost (never acknowledged): a bounded number. While
  // PostgreSQL is away none is lost on the live instances: they wait without blocking, answering their peers.
  const lost = entries.filter((e) => e.code === 'PEER_DOWN');
  expect(lost.length, 'calls lost (PeerDownError)').to.be.at.most(CLIENTS * WORKERS);
  expect(lost.filter((e) => e.at >= marks.restart).map((e) => `${e.op} on ${e.node}: ${e.message}`), 'calls lost while PostgreSQL was away')
    .to.deep.equal([]);
  // Calls sent while PostgreSQL restarted waited for it and succeeded.
  const waitedOut = entries.filter((e) => e.t === 'ack' && e.sent >= marks.restart && e.sent < marks.restarted && e.at >= marks.restarted);
  expect(waitedOut.length, 'calls sent during the restart and acknowledged after it').to.be.greaterThan(0);
  // Down longer than the retry window: calls fail after the named time, saying so.
  const unavailable = inWindow(entries, marks.outage, marks.back + 2_000).filter((e) => e.code === 'RESOURCE_UNAVAILABLE');
  expect(unavailable.length, 'calls failed with ResourceUnavailableError during the long outage').to.be.greaterThan(0);
  for (const e of unavailable) {
    expect(e.message).to.match(new RegExp(`unreachable for ${UNAVAILABLE_RETRY_MS} ms \\(unavailableRetryMs, --database-unavailable-retry\\)`));
    expect(e.at - e.sent, `${e.op} failed ${e.at - e.sent} ms after it was sent`).to.be.within(UNAVAILABLE_RETRY_MS - 100, UNAVAILABLE_RETRY_MS + 2_500);
  }
  // Serving again once it is back.
  expect(inWindow(entries, marks.back + 3_000, Infinity).filter((e) => e.t === 'ack').length, 'acknowledged after PostgreSQL came back').to.be.greaterThan(0);
}

describe('system: four data instances over one PostgreSQL, hammered by client processes', function () {
  this.timeout(240_000);
  let server: PostgresServer;
  let dir: string;
  let secretFile: string;
  let url: string;
  const cluster = `pgi-${randomBytes(3).toString('hex')}`;
  const data = new Map<string, CliProcess>();
  const clients: Client[] = [];
  let db: pg.Client | undefined;

  async function startData(name: string, seed: string | undefined): Promise<CliProcess> {
    const args = ['--role=data', '--transport', 'ws', '--listen', '127.0.0.1:0', ...(seed === undefined ? [] : ['--join', seed]),
      '--cluster-name', cluster, '--cluster-secret-file', secretFile, '--node-name', name, '--heartbeat-profile', 'test',
      '--database-url', url, '--database-unavailable-retry', String(UNAVAILABLE_RETRY_MS), '--data-dir', join(dir, name), '--log-level', 'warn'];
    const p = await startCli(name, args, new RegExp(`^ready node=${name} transport=ws address=(\\S+)$`, 'm'), 60_000);
    // Kept for the failure message (and for a look, with KEEP_TEST_DIR=1).
    const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
    p.child.stderr!.on('data', (d: Buffer) => log.write(d));
    data.set(name, p);
    return p;
  }

  before(async function () {
    requirePostgres(this);
    if (!existsSync(CLI)) {
      if (process.env.CI === 'true') throw new Error(`${CLI} is missing: run npm run build first`);
      process.stdout.write(`      (skipped: ${CLI} is not built; run npm run build)\n`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-pg-instances-'));
    if (process.env.KEEP_TEST_DIR !== '1') onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    else print(`test directory (kept): ${dir}`);
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    // Durability is the point: the server commits with fsync, as in production.
    server = await startPostgres({ settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } });
    url = await server.createDatabase('cloud');
  });

  after(async () => {
    for (const c of clients) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    for (const p of data.values()) await p.kill('SIGKILL');
    await db?.end().catch(() => undefined);
    await server?.stop();
  });

  it('serve one cloud: nothing over capacity or handed out twice, one lease holder per epoch, nothing acknowledged lost — through a SIGKILL and PostgreSQL outages', async () => {
    const t0 = Date.now();
    // The first instance creates the schema and seeds the cloud; the others join it.
    const d1 = await startData('d1', undefined);
    const seedAddress = new URL(d1.ready).host;
    print(`PostgreSQL and the first data instance (schema, seed) up in ${Date.now() - t0} ms`);
    const fx = addFixture(url);
    print(`hosts, VMs, networks and jobs added in ${Date.now() - t0} ms`);
    await Promise.all(DATA.slice(1).map((n) => startData(n, seedAddress)));
    for (let i = 0; i < CLIENTS; i++) {
      const share = <T>(a: T[], per: number): T[] => a.slice(i * per, (i + 1) * per);
      clients.push(startClient({ name: `client${i}`, join: seedAddress, clusterName: cluster, secretFile, log: join(dir, `client${i}.jsonl`),
        expectInstances: DATA.length, workers: WORKERS, askTimeoutMs: 20_000, waitMs: 15_000, leaseTtlMs: 300, hosts: fx.hosts,
        vms: share(fx.vms, VMS_PER_CLIENT), nics: share(fx.nics, VMS_PER_CLIENT), networks: share(fx.networks, NETWORKS_PER_CLIENT), jobs: fx.jobs }));
    }
    await Promise.all(clients.map((c) => c.ready));
    print(`PostgreSQL, ${DATA.length} data instances and ${CLIENTS} clients up in ${Date.now() - t0} ms`);

    const sampled: string[] = [];
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if (server.running) {
          try {
            const c = new pg.Client({ connectionString: url });
            c.on('error', () => undefined);
            await c.connect();
            try { sampled.push(...await snapshotViolations(c)); samples++; } finally { await c.end(); }
          } catch { /* the server is going down or coming back */ }
        }
        await sleep(100);
      }
    })();

    const xacts = async (): Promise<{ c: number; r: number }> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query<{ c: number; r: number }>(`SELECT xact_commit::int AS c, xact_rollback::int AS r FROM pg_stat_database
          WHERE datname = current_database()`)).rows[0]!;
      } finally { await c.end(); }
    };
    const marks = {} as Marks;
    const before = await xacts();
    for (const c of clients) c.child.stdin.write('go\n');
    marks.go = Date.now();
    await sleep(6_000);
    const normal = await xacts();
    marks.kill = Date.now();
    await data.get('d3')!.kill('SIGKILL');
    await sleep(7_000);
    marks.restart = Date.now();
    await server.restart();
    marks.restarted = Date.now();
    await sleep(5_000);
    marks.outage = Date.now();
    await server.kill();
    await sleep(LONG_OUTAGE_MS);
    await server.start();
    marks.back = Date.now();
    await sleep(6_000);
    marks.stop = Date.now();
    for (const c of clients) c.child.stdin.write('stop\n');
    const summaries = await Promise.all(clients.map((c) => c.done));
    sampling = false;
    await sampler;
    print(`phases (ms after go): ${Object.entries(marks).map(([k, v]) => `${k}=${v - marks.go}`).join(' ')}; ` +
      `restart took ${marks.restarted - marks.restart} ms`);
    for (const [i, s] of summaries.entries()) print(`client${i}: ${s}`);

    const entries = clients.flatMap((c) => readLog(c.log));
    printPhases(entries, marks);
    db = new pg.Client({ connectionString: url });
    db.on('error', () => undefined);
    await db.connect();
    const fenced = new Set((await db.query<{ d: string }>("SELECT description AS d FROM event WHERE type = 'TEST.FENCED'")).rows.map((r) => r.d));
    const violations = [
      ...sampled.slice(0, 20),
      ...await snapshotViolations(db),
      ...exclusiveViolations(entries),
      ...capacityViolations(entries, fx.hostCaps),
      ...leaseViolations(entries, fenced),
      ...finalStateViolations(entries, await readFinalDb(db)),
    ];
    const acks = entries.filter((e) => e.t === 'ack');
    print(`PostgreSQL in the first ${marks.kill - marks.go} ms: ${normal.c - before.c} transactions committed, ` +
      `${normal.r - before.r} rolled back (serialization failures run again, and refusals)`);
    print(`${entries.length} outcomes (${acks.length} acknowledged), ${samples} database snapshots checked, ` +
      `${acks.filter((e) => e.op === 'claim' && e['granted'] === true).length} lease grants, ${fenced.size} fenced writes`);
    expect(violations.slice(0, 30), 'invariant violations').to.deep.equal([]);
    expectPhases(entries, marks);
  });
});
