/**
 * Moving a lab from SQLite to PostgreSQL with the real `cloudstackd db migrate` process: a lab on a
 * SQLite data directory gets VMs, a volume and a network (and so jobs and events) through the API; it
 * stops; the CLI copies the database; the lab starts again on PostgreSQL, where the API lists the same
 * resources and deploys another VM; `db verify` then finds the databases parted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startLab, type Lab } from '../../bin/lab.js';
import { orchestratorTestConfig } from '../../actors/orchestrator/config.js';
import { silentLogger } from '../../src/logger.js';
import { CLI } from '../helpers/cli-process.js';
import { CsApi, type Json } from '../helpers/cs-api.js';
import { projectRoot } from '../helpers/paths.js';
import { requirePostgres, startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

interface Run { code: number; stdout: string; stderr: string }

/** Runs `cloudstackd <args>` to its end. */
function runCli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...(/\.m?ts$/.test(CLI) ? ['--import', 'tsx'] : []), CLI, ...args],
      { cwd: projectRoot(), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        if (code === -1) reject(err!); else resolve({ code, stdout, stderr });
      });
  });
}

const ids = (items: Json[]): string[] => items.map((i) => String(i['id'])).sort();

interface Inventory { vms: string[]; volumes: string[]; networks: string[]; events: string[]; jobs: string[] }

describe('cloudstackd db migrate: a lab moves from SQLite to PostgreSQL', function () {
  this.timeout(180_000);
  let server: PostgresServer;
  let dir: string;
  let lab: Lab | undefined;
  let api: CsApi | undefined;

  const open = async (databaseUrl?: string): Promise<CsApi> => {
    lab = await startLab({ dataDir: join(dir, 'data'), ...(databaseUrl === undefined ? {} : { databaseUrl }), hosts: 2,
      logger: silentLogger, profile: 'test', orchestrator: orchestratorTestConfig() });
    api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, jobTimeoutMs: 30_000 });
    return api;
  };
  const close = async (): Promise<void> => {
    api?.close();
    api = undefined;
    await lab?.stop();
    lab = undefined;
  };
  const deploy = async (a: CsApi, l: Lab, networkid: string): Promise<string> => {
    const r = await a.job('deployVirtualMachine', { zoneid: l.seed.zoneid, serviceofferingid: l.seed.serviceofferings.small,
      templateid: l.seed.templateid, networkids: networkid });
    expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
    return r.id!;
  };
  /** What csclient would list: ids of VMs, volumes, networks, events and jobs. */
  const inventory = async (a: CsApi): Promise<Inventory> => ({
    vms: ids(await a.listAll('listVirtualMachines', 'virtualmachine', { listall: true })),
    volumes: ids(await a.listAll('listVolumes', 'volume', { listall: true })),
    networks: ids(await a.listAll('listNetworks', 'network', { listall: true })),
    events: ids(await a.listAll('listEvents', 'event', { listall: true })),
    jobs: (await a.listAll('listAsyncJobs', 'asyncjobs', { listall: true })).map((j) => String(j['jobid'])).sort(),
  });

  before(async function () {
    requirePostgres(this);
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-db-migrate-'));
  });
  after(async () => {
    await close();
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('copies the lab, verifies it, and the lab runs on PostgreSQL with the same resources', async () => {
    // 1. A lab on SQLite with VMs, a volume and a network.
    const a = await open();
    const l = lab!;
    const net = (await a.call<{ network: { id: string } }>('createNetwork', { name: 'blue', displaytext: 'blue', zoneid: l.seed.zoneid,
      networkofferingid: l.seed.networkofferingid })).network.id;
    const vms = [await deploy(a, l, net), await deploy(a, l, net)];
    const vol = await a.job('createVolume', { name: 'data-1', zoneid: l.seed.zoneid, diskofferingid: l.seed.diskofferings[0]! });
    expect(vol.jobstatus, JSON.stringify(vol.jobresult)).to.equal(1);
    const attach = await a.job('attachVolume', { id: vol.id!, virtualmachineid: vms[0]! });
    expect(attach.jobstatus, JSON.stringify(attach.jobresult)).to.equal(1);
    const before = await inventory(a);
    expect(before.vms).to.include.members(vms);
    expect(before.volumes).to.include(vol.id);
    expect(before.networks).to.include(net);
    expect(before.events.length).to.be.greaterThan(3);
    expect(before.jobs.length).to.be.greaterThan(3);
    await close();

    // 2. The CLI refuses bad usage, then copies into an empty database named in a file (the password stays unprinted).
    const url = new URL(await server.createDatabase('lab'));
    url.password = 'not-for-printing';
    const urlFile = join(dir, 'database-url');
    writeFileSync(urlFile, `# the lab's database\n${url.toString()}\n`, { mode: 0o600 });
    const usage = await runCli(['db', 'migrate', '--from', join(dir, 'data')]);
    expect(usage.code, usage.stderr).to.equal(2);
    const run = await runCli(['db', 'migrate', '--from', join(dir, 'data'), '--to-file', urlFile, '--batch-rows', '7']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout + run.stderr).to.not.contain('not-for-printing');
    expect(run.stdout).to.match(/^vm_instance +\d+ +\d+ +[0-9a-f]{16} +ok$/m);
    expect(run.stdout).to.match(/^event +\d+ +\d+ +[0-9a-f]{16} +ok$/m);
    expect(run.stdout).to.contain('verified: every count and checksum matches');
    expect(run.stdout).to.not.contain('MISMATCH');
    expect(run.stderr).to.match(/^ {2}async_job: \d+ rows$/m);
    // A second run finds the target in use and changes nothing.
    const again = await runCli(['db', 'migrate', '--from', join(dir, 'data'), '--to-file', urlFile]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('is not empty');

    const verified = await runCli(['db', 'verify', '--from', join(dir, 'data'), '--to-file', urlFile]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.contain('every count and checksum matches');

    // 3. The lab on PostgreSQL: the same resources, and it deploys more.
    const b = await open(url.toString());
    expect(lab!.seeded).to.equal(false);
    expect(lab!.handles.store.sql.dialect).to.equal('postgres');
    const after = await inventory(b);
    expect(after.vms).to.deep.equal(before.vms);
    expect(after.volumes).to.deep.equal(before.volumes);
    expect(after.networks).to.deep.equal(before.networks);
    expect(after.jobs).to.include.members(before.jobs);
    expect(after.events).to.include.members(before.events);
    const more = await deploy(b, lab!, net);
    const vm = (await b.call<{ virtualmachine: Json[] }>('listVirtualMachines', { id: more, listall: true })).virtualmachine[0]!;
    expect(vm['state']).to.equal('Running');
    const volumes = await b.listAll('listVolumes', 'volume', { virtualmachineid: vms[0]!, listall: true });
    expect(ids(volumes)).to.include(vol.id);
    await close();

    // 4. The two databases have parted ways: verify says where, and exits 1.
    const parted = await runCli(['db', 'verify', '--from', join(dir, 'data'), '--to-file', urlFile]);
    expect(parted.code).to.equal(1);
    expect(parted.stdout).to.match(/^vm_instance +2 +3 +[0-9a-f]{16} +MISMATCH/m);
    expect(parted.stderr).to.match(/verification FAILED for .*vm_instance/);
    expect(parted.stdout + parted.stderr).to.not.contain('not-for-printing');
  });
});
