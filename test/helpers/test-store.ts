/**
 * The store the data tests run on. SQLite in memory by default; with CLOUDSTACKD_TEST_STORE=postgres
 * (set by `npm run test:postgres`, which also starts the server: see postgres-hooks.ts) every store is
 * a fresh PostgreSQL database copied from a migrated template, so the same repository tests check both
 * backends.
 */
import { DataStore, type DataStoreOptions } from '../../actors/data/store/index.js';
import { PostgresConnection } from '../../actors/data/store/sql/postgres-connection.js';

export const TEMPLATE_DATABASE = 'cloudstackd_template';

export function testBackend(): 'sqlite' | 'postgres' {
  return process.env['CLOUDSTACKD_TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite';
}

let admin: PostgresConnection | undefined;
let counter = 0;
const opened: DataStore[] = [];

/** Closes every PostgreSQL store the tests left open (before the server stops: open sessions slow its shutdown). */
export function closeTestStores(): void {
  for (const s of opened.splice(0)) {
    try { s.close(); } catch { /* already closed */ }
  }
  admin?.close();
  admin = undefined;
}

/** The URL of a new database on the test server, copied from the migrated template (fast: no migrations). */
export function freshPostgresDatabase(): string {
  const base = process.env['CLOUDSTACKD_TEST_PG_URL'];
  if (base === undefined) throw new Error('CLOUDSTACKD_TEST_PG_URL is not set: run the PostgreSQL tests through npm run test:postgres');
  admin ??= new PostgresConnection({ url: base });
  const name = `t${process.pid}_${++counter}`;
  admin.exec(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE} STRATEGY FILE_COPY`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** An empty, migrated store on the backend under test (in memory for SQLite). */
export function openTestStore(options: Omit<DataStoreOptions, 'memory' | 'dataDir' | 'postgres'> = {}): DataStore {
  if (testBackend() === 'sqlite') return DataStore.open({ ...options, memory: true });
  const store = DataStore.open({ ...options, postgres: { url: freshPostgresDatabase() } });
  opened.push(store);
  return store;
}
