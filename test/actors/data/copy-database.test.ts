/**
 * db migrate's copy: a seeded SQLite store with VMs, networks, volumes, events and awkward values
 * (a child domain with a smaller id than its parent, doubles, large integers, text with quotes and
 * non-ASCII) copied into a fresh PostgreSQL database, then counted, checksummed and used.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DataStore, SYSTEM, latestSchemaVersion } from '../../../actors/data/store/index.js';
import { seedLab } from '../../../actors/data/store/seed.js';
import { copyDatabase, verifyCopy, type CopyProgress } from '../../../actors/data/store/copy/copy-database.js';
import { canonicalValue, TableChecksum } from '../../../actors/data/store/copy/checksum.js';
import { PostgresConnection } from '../../../actors/data/store/sql/postgres-connection.js';
import { requirePostgres, startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';

/** A lab's SQLite database under `dir` with a bit of everything, closed again. */
function makeSource(dir: string): void {
  const store = DataStore.open({ dataDir: dir });
  try {
    const s = seedLab(store, { hosts: 2 });
    const net = store.networks.create(SYSTEM, { name: 'net-1', zoneid: s.zoneid, networkofferingid: s.networkofferingid, accountid: s.adminAccountId });
    for (let i = 0; i < 3; i++) {
      store.vmOps.create(SYSTEM, { zoneid: s.zoneid, serviceofferingid: s.serviceofferings.small, templateid: s.templateid,
        accountid: s.adminAccountId, networkids: [net.id], name: `vm-${i}` });
    }
    store.volumes.create(SYSTEM, { name: 'data "disk" ☃', zoneid: s.zoneid, size: 5, accountid: s.adminAccountId });
    const db = store.db;
    // A child whose id is smaller than its parent's: tables are copied parents first, rows too.
    db.prepare("INSERT INTO domain (id, uuid, name, parent_id, path, level, created) VALUES (1001, 'p-uuid', 'parent', 1, '/parent/', 1, 1)").run();
    db.prepare("INSERT INTO domain (id, uuid, name, parent_id, path, level, created) VALUES (1000, 'c-uuid', 'child', 1001, '/parent/child/', 2, 1)").run();
    // Doubles that print differently in PostgreSQL's text form, and an integer above 2^53.
    const hosts = db.prepare('SELECT id FROM host ORDER BY id').all() as { id: number }[];
    db.prepare('UPDATE host SET cpu_used = ? WHERE id = ?').run(1.5e-7, hosts[0]!.id);
    db.prepare('UPDATE host SET cpu_used = ? WHERE id = ?').run(1 / 3, hosts[1]!.id);
    db.prepare("UPDATE domain SET created = 9007199254740993 WHERE id = 1000").run();
    // Some jobs and events, as the API makes them.
    for (let i = 0; i < 1200; i++) {
      store.events.create(SYSTEM, { type: 'VM.CREATE', description: `event ${i} 'quoted'`, level: 'INFO', accountid: s.adminAccountId });
    }
  } finally {
    store.close();
  }
}

describe('data store: copying a SQLite database into PostgreSQL (db migrate)', function () {
  this.timeout(120_000);
  let server: PostgresServer;
  let dir: string;
  let n = 0;
  const fresh = (): Promise<string> => server.createDatabase(`copy_${++n}`);

  before(async function () {
    requirePostgres(this);
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-copy-'));
    makeSource(dir);
  });
  after(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('copies every table with matching counts and checksums, and the store continues on PostgreSQL', async () => {
    const url = await fresh();
    const progress: CopyProgress[] = [];
    const report = copyDatabase({ from: dir, to: url, batchRows: 100, progressEveryRows: 500, onProgress: (p) => progress.push(p) });
    expect(report.ok).to.equal(true);
    expect(report.schemaVersion).to.equal(latestSchemaVersion());
    expect(report.skipped).to.include.members(['vm_search', 'volume_search']);
    const byName = new Map(report.tables.map((t) => [t.table, t]));
    expect(byName.get('vm_instance')!.targetRows).to.equal(3);
    expect(byName.get('event')!.sourceRows).to.be.greaterThan(1200);
    expect(byName.get('domain')!.targetRows).to.equal(3);
    for (const t of report.tables) {
      expect(t.targetRows, t.table).to.equal(t.sourceRows);
      expect(t.targetChecksum, t.table).to.equal(t.sourceChecksum);
    }
    expect(report.rows).to.equal(report.tables.reduce((a, t) => a + t.sourceRows, 0));
    // Progress: every table once, and intermediate reports on the big one.
    const eventReports = progress.filter((p) => p.phase === 'copy' && p.table === 'event').map((p) => (p as { copied: number }).copied);
    expect(eventReports[0]).to.equal(0);
    expect(eventReports.length).to.be.greaterThan(2);
    expect(progress.some((p) => p.phase === 'committed')).to.equal(true);
    // Parents before children: domain before account before vm_instance before nic.
    const order = report.tables.map((t) => t.table);
    expect(order.indexOf('domain')).to.be.lessThan(order.indexOf('account'));
    expect(order.indexOf('vm_instance')).to.be.lessThan(order.indexOf('nic'));

    const store = DataStore.open({ postgres: { url } });
    try {
      // The bootstrap found its rows: nothing was added twice.
      expect(Number(store.sql.one<{ n: number }>('SELECT count(*) AS n FROM role', [])!.n)).to.equal(byName.get('role')!.sourceRows);
      const exact = store.sql.one<{ c: string }>('SELECT created::text AS c FROM domain WHERE id = 1000', [])!;
      expect(exact.c).to.equal('9007199254740993');
      const used = store.sql.all<{ u: number }>('SELECT cpu_used AS u FROM host WHERE cpu_used IS NOT NULL ORDER BY id', []).map((r) => r.u);
      expect(used).to.deep.equal([1.5e-7, 1 / 3]);
      // Sequences continue after the copied ids.
      const before = Number(store.sql.one<{ m: number }>('SELECT max(id) AS m FROM domain', [])!.m);
      const d = store.domains.create(SYSTEM, { name: 'after-copy' });
      const id = Number(store.sql.one<{ id: number }>('SELECT id FROM domain WHERE uuid = ?', [d.id])!.id);
      expect(id).to.equal(before + 1);
      const s = seedLab(store);
      expect(s.created).to.equal(false);
      const vm = store.vmOps.create(SYSTEM, { zoneid: s.zoneid, serviceofferingid: s.serviceofferings.small, templateid: s.templateid,
        accountid: s.adminAccountId, name: 'vm-after' });
      expect(vm.name).to.equal('vm-after');
      expect(store.vms.list(SYSTEM, { listall: true }).count).to.equal(4);
    } finally {
      store.close();
    }
  });

  it('verification finds a row that differs, a missing row and a rounded double', async () => {
    const url = await fresh();
    expect(copyDatabase({ from: dir, to: url, verifyPageRows: 50 }).ok).to.equal(true);
    expect(verifyCopy({ from: dir, to: url, verifyPageRows: 7 }).every((t) => t.ok)).to.equal(true);
    const c = new PostgresConnection({ url });
    try {
      c.run('UPDATE host SET cpu_used = ? WHERE cpu_used > 0.3', [0.333333333333333]);
      c.run("DELETE FROM event WHERE id = (SELECT max(id) FROM event)", []);
      c.run("UPDATE configuration SET value = value || ' ' WHERE name = (SELECT min(name) FROM configuration)", []);
    } finally { c.close(); }
    const bad = verifyCopy({ from: dir, to: url, verifyPageRows: 7 }).filter((t) => !t.ok);
    expect(bad.map((t) => t.table).sort()).to.deep.equal(['configuration', 'event', 'host']);
    const event = bad.find((t) => t.table === 'event')!;
    expect(event.targetRows).to.equal(event.sourceRows - 1);
    const host = bad.find((t) => t.table === 'host')!;
    expect(host.targetRows).to.equal(host.sourceRows);
    expect(host.targetChecksum).to.not.equal(host.sourceChecksum);
  });

  it('refuses a target that is not empty', async () => {
    const used = await fresh();
    DataStore.open({ postgres: { url: used } }).close(); // bootstrapped: roles, ROOT, settings
    expect(() => copyDatabase({ from: dir, to: used })).to.throw(/is not empty: it has \d+ table\(s\) .* and cloudstackd schema version/);
    const other = await fresh();
    const c = new PostgresConnection({ url: other });
    try { c.exec('CREATE TABLE unrelated (x int)'); } finally { c.close(); }
    expect(() => copyDatabase({ from: dir, to: other })).to.throw(/is not empty: it has 1 table\(s\) \(unrelated\)\. /);
  });

  it('a copy that fails leaves the target empty, and running it again succeeds', async () => {
    const url = await fresh();
    const failing = (p: CopyProgress): void => { if (p.phase === 'copy' && p.table === 'event' && p.copied > 0) throw new Error('interrupted'); };
    expect(() => copyDatabase({ from: dir, to: url, progressEveryRows: 100, onProgress: failing })).to.throw(/interrupted/);
    const c = new PostgresConnection({ url });
    try {
      expect(c.all("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()", [])).to.deep.equal([]);
    } finally { c.close(); }
    expect(copyDatabase({ from: dir, to: url }).ok).to.equal(true);
  });

  it('refuses a source at another schema version, and a directory without a database', async () => {
    const old = mkdtempSync(join(tmpdir(), 'cloudstackd-copy-old-'));
    try {
      makeSource(old);
      const store = DataStore.open({ dataDir: old });
      store.db.pragma(`user_version = ${latestSchemaVersion() - 1}`);
      store.close();
      const url = await fresh();
      expect(() => copyDatabase({ from: old, to: url })).to.throw(new RegExp(`schema version ${latestSchemaVersion() - 1} but this cloudstackd writes version ${latestSchemaVersion()}`));
      expect(() => copyDatabase({ from: join(old, 'nowhere'), to: url })).to.throw(/no SQLite database at/);
      // Nothing was created on the target by the refused runs.
      const c = new PostgresConnection({ url });
      try { expect(c.schemaVersion()).to.equal(0); } finally { c.close(); }
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('a changed row changes the checksum; the order of rows does not', () => {
    const cols = [{ name: 'id', type: 'bigint', identity: true }, { name: 'x', type: 'double precision', identity: false },
      { name: 't', type: 'text', identity: false }];
    const sum = (rows: unknown[][]): string => { const c = new TableChecksum(cols); for (const r of rows) c.add(r); return c.hex(); };
    const a = [[1n, 0.5, 'a'], [2n, null, 'b']];
    expect(sum(a)).to.equal(sum([['2', null, 'b'], ['1', 0.5, 'a']]));
    expect(sum(a)).to.not.equal(sum([[1n, 0.5, 'a'], [2n, null, 'c']]));
    expect(sum(a)).to.not.equal(sum([[1n, 0.5, 'a'], [2n, null, 'b'], [2n, null, 'b']]));
    expect(sum(a)).to.not.equal(sum([[1n, 0.5, 'a'], [2n, '', 'b']]));
    expect(canonicalValue('9007199254740993', 'bigint')).to.equal(canonicalValue(9007199254740993n, 'bigint'));
  });
});
