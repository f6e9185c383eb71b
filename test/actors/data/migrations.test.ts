import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { ConfigError } from '../../../src/errors.js';
import { closeDatabase, databasePath, openDatabase } from '../../../actors/data/store/db.js';
import { latestSchemaVersion, runMigrations, schemaVersion, type Migration } from '../../../actors/data/store/migrations.js';
import { DataStore } from '../../../actors/data/store/index.js';
import { tempDir } from './fixtures.js';

describe('data store: database and migrations', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir(); });
  afterEach(() => tmp.remove());

  it('creates the file with mode 0600 and the shared pragmas', () => {
    const db = openDatabase({ dataDir: tmp.dir });
    try {
      expect(statSync(databasePath(tmp.dir)).mode & 0o777).to.equal(0o600);
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
      expect(db.pragma('foreign_keys', { simple: true })).to.equal(1);
      expect(db.pragma('synchronous', { simple: true })).to.equal(2); // FULL
      expect(db.pragma('busy_timeout', { simple: true })).to.equal(5000);
    } finally {
      closeDatabase(db);
    }
  });

  it('runs every migration once, in order, and records the version', () => {
    const db = openDatabase({ memory: true });
    const all = Array.from({ length: latestSchemaVersion() }, (_, i) => i + 1);
    expect(all.slice(0, 6)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(runMigrations(db)).to.deep.equal(all);
    expect(schemaVersion(db)).to.equal(latestSchemaVersion());
    expect(runMigrations(db)).to.deep.equal([]);
    closeDatabase(db);
  });

  it('refuses a database written by a newer release, saying so', () => {
    const db = openDatabase({ dataDir: tmp.dir });
    runMigrations(db);
    db.pragma(`user_version = ${latestSchemaVersion() + 1}`);
    closeDatabase(db);
    expect(() => DataStore.open({ dataDir: tmp.dir })).to.throw(ConfigError, /newer release/);
  });

  it('rolls a failing migration back whole: the previous schema and version stay', () => {
    const db = openDatabase({ memory: true });
    const good: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);', postgres: '' };
    const bad: Migration = { version: 2, name: 'two', sql: 'CREATE TABLE b (y INTEGER); INSERT INTO nope VALUES (1);', postgres: '' };
    runMigrations(db, [good]);
    expect(() => runMigrations(db, [good, bad])).to.throw(ConfigError, /migration 2 \(two\) failed and was rolled back/);
    expect(schemaVersion(db)).to.equal(1);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).to.deep.equal(['a']);
    closeDatabase(db);
  });

  it('rejects a migration list with a gap', () => {
    const db = new Database(':memory:');
    expect(() => runMigrations(db, [{ version: 2, name: 'x', sql: '', postgres: '' }])).to.throw(ConfigError, /numbered/);
    db.close();
  });

  it('keeps data across reopen and bootstraps only once', () => {
    const a = DataStore.open({ dataDir: tmp.dir });
    const rootId = a.domains.rootUuid();
    const roles = a.accounts.roles().length;
    a.close();
    const b = DataStore.open({ dataDir: tmp.dir });
    expect(b.domains.rootUuid()).to.equal(rootId);
    expect(b.accounts.roles()).to.have.length(roles);
    expect(b.integrityCheck()).to.equal('ok');
    b.close();
  });

  it('fails with a clear message when the data directory cannot be created', () => {
    const file = join(tmp.dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => openDatabase({ dataDir: join(file, 'sub') })).to.throw(ConfigError, /cannot create the database file/);
    expect(() => openDatabase({})).to.throw(ConfigError, /dataDir/);
  });
});
