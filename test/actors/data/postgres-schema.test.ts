import { existsSync } from 'node:fs';
import { expect } from 'chai';
import pg from 'pg';
import { closeDatabase, openDatabase, runMigrations, type Db } from '../../../actors/data/store/index.js';
import type { Migration } from '../../../actors/data/store/migrations.js';
import { MIGRATIONS } from '../../../actors/data/store/migrations/index.js';
import { processAlive, requirePostgres, startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import { postgresShape, schemaDifferences, searchDifferences, sqliteShape } from '../../helpers/schema-compare.js';

/** Applies each migration's PostgreSQL DDL in its own transaction, as the PostgreSQL backend will. */
async function applyPostgres(url: string, migrations: readonly Migration[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const m of migrations) {
      await client.query('BEGIN');
      try {
        await client.query(m.postgres);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`PostgreSQL DDL of migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    await client.end();
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try { return await fn(client); } finally { await client.end(); }
}

async function shapeOf(url: string): ReturnType<typeof postgresShape> {
  return withClient(url, (c) => postgresShape(c));
}

describe('data store: PostgreSQL schema matches the SQLite one', function () {
  this.timeout(120_000);
  let server: PostgresServer;
  let lite: Db;

  before(async function () {
    requirePostgres(this);
    server = await startPostgres();
    await applyPostgres(server.url, MIGRATIONS);
    lite = openDatabase({ memory: true });
    runMigrations(lite);
  });
  after(async () => {
    if (lite !== undefined) closeDatabase(lite);
    await server?.stop();
  });

  it('every migration has PostgreSQL DDL', () => {
    for (const m of MIGRATIONS) expect(m.postgres.trim(), `migration ${m.version} (${m.name})`).to.match(/^(CREATE|ALTER|--)/);
  });

  it('has the same tables, columns, keys, constraints and indexes', async () => {
    const { shape } = sqliteShape(lite);
    const post = await shapeOf(server.url);
    expect(shape.tables.size).to.be.greaterThan(40);
    expect(schemaDifferences(shape, post.shape)).to.deep.equal([]);
  });

  it('replaces every FTS5 search table with pg_trgm indexes on the searched columns', async () => {
    const { search } = sqliteShape(lite);
    expect(search.map((s) => s.name).sort()).to.deep.equal(['vm_search', 'volume_search']);
    const { trigram } = await shapeOf(server.url);
    expect(searchDifferences(search, trigram)).to.deep.equal([]);
    const ext = await withClient(server.url, (c) => c.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"));
    expect(ext.rowCount).to.equal(1);
  });

  it('serves keyword search and case-insensitive filters from indexes, as on SQLite', async () => {
    const plans = await withClient(server.url, async (c) => {
      await c.query('SET enable_seqscan = off');
      const plan = async (sql: string): Promise<string> => (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      return {
        vm: await plan("SELECT id FROM vm_instance WHERE name ILIKE '%web%' OR display_name ILIKE '%web%'"),
        volume: await plan("SELECT id FROM volume WHERE name ILIKE '%data%'"),
        state: await plan("SELECT id FROM vm_instance WHERE lower(state) = lower('RUNNING') AND removed IS NULL"),
      };
    });
    expect(plans.vm).to.include('vm_name_trgm').and.include('vm_display_name_trgm');
    expect(plans.volume).to.include('volume_name_trgm');
    expect(plans.state).to.include('vm_state_nocase');
  });

  it('keeps seeded rows and moves identity sequences past explicit ids', async () => {
    const r = await withClient(server.url, async (c) => ({
      epoch: (await c.query('SELECT id, value FROM lease_epoch')).rows,
      seq: (await c.query("SELECT last_value, is_called FROM lease_epoch_id_seq")).rows,
    }));
    expect(r.epoch).to.deep.equal([{ id: '1', value: '0' }]); // pg returns BIGINT as a string unless told otherwise
    expect(r.seq).to.deep.equal([{ last_value: '1', is_called: true }]); // nextval() gives 2
  });

  it('finds a broken migration: every kind of difference shows', async () => {
    const edits: [string | RegExp, string][] = [
      ['  keypair TEXT,\n', ''],
      ["power_state TEXT NOT NULL DEFAULT 'PowerUnknown'", "power_state TEXT NOT NULL DEFAULT 'Unknown'"],
      [/CREATE INDEX vm_host ON .*\n/, ''],
      ['  cpu_speed BIGINT NOT NULL,\n', '  cpu_speed INTEGER NOT NULL,\n'],
      ['  group_name TEXT,\n', '  group_name TEXT NOT NULL,\n'],
      ['iso_id BIGINT REFERENCES template(id)', 'iso_id BIGINT'],
      [" CHECK (volume_type IN ('ROOT', 'DATADISK', 'SWAP', 'ISO', 'UNKNOWN'))", ''],
      ['CREATE INDEX vm_state ON vm_instance(state) WHERE removed IS NULL', 'CREATE INDEX vm_state ON vm_instance(state)'],
      // vm_pod: not replaced by a later migration (as vm_zone is by 013), so the difference stays.
      ['CREATE INDEX vm_pod ON vm_instance(pod_id)', 'CREATE UNIQUE INDEX vm_pod ON vm_instance(pod_id)'],
      ['CREATE INDEX volume_name_trgm ON volume USING gin (name gin_trgm_ops);', ''],
    ];
    let ddl = MIGRATIONS[3]!.postgres;
    for (const [from, to] of edits) {
      const next = ddl.replace(from, to);
      expect(next, `edit ${String(from)} applies`).to.not.equal(ddl);
      ddl = next;
    }
    const broken = MIGRATIONS.map((m) => m.version !== 4 ? m : { ...m, postgres: ddl });
    const url = await server.createDatabase('broken_schema');
    await applyPostgres(url, broken);
    const post = await shapeOf(url);
    const diffs = schemaDifferences(sqliteShape(lite).shape, post.shape).join('\n');
    for (const re of [/vm_instance: columns are/, /vm_instance\.power_state: default/, /index vm_host \(on vm_instance\) is missing/,
      /vm_instance\.cpu_speed: type is bigint on SQLite but integer/, /vm_instance\.group_name: notNull is false on SQLite but true/,
      /vm_instance: foreignKeys .*\(iso_id\) -> template/, /volume: 1 CHECK constraints on SQLite but 0/, /index vm_state is .*removed is null.*but.*"predicate":null/,
      /index vm_pod is .*"unique":false.*"unique":true/]) {
      expect(diffs).to.match(re);
    }
    expect(searchDifferences(sqliteShape(lite).search, post.trigram)).to.deep.equal(['search table volume_search: no pg_trgm GIN index on volume(name)']);
  });

  it('reports which migration failed when its DDL does not run, and rolls it back', async () => {
    const url = await server.createDatabase('failing_ddl');
    const bad = MIGRATIONS.slice(0, 2).map((m) => m.version !== 2 ? m : { ...m, postgres: `${m.postgres}\nCREATE TABLE nope (x INTEGR);` });
    let err: Error | undefined;
    try { await applyPostgres(url, bad); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/migration 2 \(infrastructure\) failed/);
    const tables = await withClient(url, (c) => c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"));
    expect(tables.rows.map((r) => r.table_name)).to.deep.equal(['account', 'app_user', 'domain', 'role']);
  });
});

describe('test helper: startPostgres', function () {
  this.timeout(120_000);
  before(function () { requirePostgres(this); });

  const one = async (url: string): Promise<number> => withClient(url, async (c) => Number((await c.query('SELECT 1 AS one')).rows[0].one));

  it('starts a private server, restarts it on the same port and data, and stop leaves no process or directory', async () => {
    const s = await startPostgres();
    let pid: number | undefined;
    try {
      expect(s.url).to.equal(`postgresql://${s.user}@127.0.0.1:${s.port}/${s.database}`);
      expect(s.port).to.not.equal(5432);
      expect(await one(s.url)).to.equal(1);
      await withClient(s.url, (c) => c.query('CREATE TABLE kept (x BIGINT); INSERT INTO kept VALUES (42)'));
      // A pool connected across the restart sees its connection dropped, then reconnects.
      const pool = new pg.Pool({ connectionString: s.url, max: 2 });
      pool.on('error', () => { /* the fast shutdown terminates idle clients: expected */ });
      try {
        await pool.query('SELECT 1');
        await s.restart();
        const after = await pool.query('SELECT x FROM kept').catch(async () => pool.query('SELECT x FROM kept'));
        expect(after.rows).to.deep.equal([{ x: '42' }]);
      } finally {
        await pool.end();
      }
      const db = await s.createDatabase('second');
      expect(db).to.equal(`postgresql://${s.user}@127.0.0.1:${s.port}/second`);
      expect(await one(db)).to.equal(1);
      pid = Number((await withClient(s.url, (c) => c.query('SELECT pg_backend_pid() AS p'))).rows[0].p);
    } finally {
      await s.stop();
    }
    expect(s.running).to.equal(false);
    expect(existsSync(s.dataDir)).to.equal(false);
    expect(existsSync(s.socketDir)).to.equal(false);
    expect(pid !== undefined && processAlive(pid)).to.equal(false);
    let refused: Error | undefined;
    try { await one(s.url); } catch (e) { refused = e as Error; }
    expect(refused?.message).to.match(/ECONNREFUSED/);
  });

  it('kill() is a crash: connections fail, start() recovers the committed data', async () => {
    const s = await startPostgres();
    try {
      await withClient(s.url, (c) => c.query('CREATE TABLE t (x BIGINT); INSERT INTO t VALUES (7)'));
      const held = new pg.Client({ connectionString: s.url });
      await held.connect();
      held.on('error', () => { /* the crash ends it */ });
      const backend = Number((await held.query('SELECT pg_backend_pid() AS p')).rows[0].p);
      await s.kill();
      expect(s.running).to.equal(false);
      expect(processAlive(backend)).to.equal(false);
      await held.end().catch(() => undefined);
      await s.start();
      expect((await withClient(s.url, (c) => c.query('SELECT x FROM t'))).rows).to.deep.equal([{ x: '7' }]);
    } finally {
      await s.stop();
    }
  });

  it('passes settings through (quoted for the shell) and refuses an unsafe database name', async () => {
    const s = await startPostgres({ maxConnections: 50, settings: { application_name: "it's a test" } });
    try {
      const shown = await withClient(s.url, async (c) => ({
        max: (await c.query('SHOW max_connections')).rows[0].max_connections,
        listen: (await c.query('SHOW listen_addresses')).rows[0].listen_addresses,
        name: (await c.query("SELECT current_setting('application_name') AS v")).rows[0].v,
      }));
      expect(shown).to.deep.equal({ max: '50', listen: '127.0.0.1', name: "it's a test" });
      let err: Error | undefined;
      try { await s.createDatabase('x; DROP DATABASE cloudstackd'); } catch (e) { err = e as Error; }
      expect(err?.message).to.match(/not plain lower-case/);
    } finally {
      await s.stop();
    }
  });
});
