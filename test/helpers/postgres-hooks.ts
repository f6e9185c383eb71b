/**
 * Root hooks of the PostgreSQL run of the repository tests (`npm run test:postgres`): one server for
 * the run, started with initdb on a free port (postgres-server.ts), and a migrated template database
 * that every openTestStore() copies. Under CI a server that cannot start fails the run.
 */
import { DataStore } from '../../actors/data/store/index.js';
import { onCleanup } from './global-hooks.js';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server.js';
import { closeTestStores, TEMPLATE_DATABASE } from './test-store.js';

let server: PostgresServer | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    process.env['CLOUDSTACKD_TEST_STORE'] = 'postgres';
    const available = postgresAvailable();
    if (!available.ok) throw new Error(`the PostgreSQL run of the repository tests needs PostgreSQL: ${available.reason}`);
    // These tests check what the SQL means, not durability (the multi-instance tests keep fsync on):
    // without fsync a hundred databases are created and dropped in seconds.
    server = await startPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
    // Cleanups run last-registered first: the stores close before the server stops (the server's own
    // cleanup was registered by startPostgres).
    onCleanup(closeTestStores);
    const template = await server.createDatabase(TEMPLATE_DATABASE);
    DataStore.open({ postgres: { url: template } }).close();
    process.env['CLOUDSTACKD_TEST_PG_URL'] = server.url;
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    closeTestStores();
    await server?.stop();
  },
};
