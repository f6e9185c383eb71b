/**
 * The data component: the database, its actor, and the `data` service. On SQLite there is exactly one
 * data instance per database: a second one on the same files is refused by the writer lock, and one
 * that finds another data instance already serving the cluster refuses to start (two SQLite files
 * would be two clouds that each think they are the only one). On PostgreSQL any number of data
 * instances serve one cloud: they hold no state of their own, and the registry balances callers over
 * them like over any other service.
 */
import type { ComponentDescriptor } from '../../src/component.js';
import { ConfigError } from '../../src/errors.js';
import { dataActor } from './data-actor.js';
import { DATA_PATH, DataProtocol } from './protocol.js';
import { DataStore } from './store/index.js';
import { DEFAULT_UNAVAILABLE_RETRY_MS, type PostgresOptions } from './store/sql/postgres-connection.js';
import { seedLab, seedManagement, type SeedResult } from './store/seed.js';
import { acquireWriterLock, type WriterLock } from './writer-lock.js';

export interface DataComponentOptions {
  /** Directory of the SQLite database; absent: an in-memory database that vanishes with the process. */
  readonly dataDir?: string;
  /** PostgreSQL instead of SQLite (`dataDir` is then not used by the store). */
  readonly postgres?: PostgresOptions;
  /**
   * What an empty database is seeded with: `lab` (an Advanced zone with `hosts` simulator host rows,
   * offerings, a template, an admin), `cloud` (the same without hosts: compute nodes join), or `none`.
   * A seeded database is never seeded again. Default `cloud`.
   */
  readonly seed?: { kind: 'lab'; hosts: number } | { kind: 'cloud' } | { kind: 'none' };
  /** Cloud settings written at every start, before anything else runs (e.g. over-provisioning in tests). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Group commit size (see DataActorOptions). */
  readonly maxCallsPerCommit?: number;
}

export interface DataHandle {
  readonly store: DataStore;
  /** What the database was seeded with (ids, and the admin's keys for credentials.json). */
  readonly seed: SeedResult | undefined;
}

function seedStore(store: DataStore, seed: DataComponentOptions['seed']): SeedResult | undefined {
  const s = seed ?? { kind: 'cloud' as const };
  if (s.kind === 'none') return undefined;
  return s.kind === 'lab' ? seedLab(store, { hosts: s.hosts }) : seedManagement(store);
}

export const dataComponent: ComponentDescriptor<DataComponentOptions, DataHandle> = {
  name: 'data',
  summary: 'the database (SQLite with one writer, or PostgreSQL with any number of instances): every persistent object, job, lease and session',
  provides: [DataProtocol],
  needs: [],
  instances: 'one',
  async start({ system, services, options, log }) {
    const other = services.registry.lookup(DataProtocol.name).find((i) => !i.local);
    if (other !== undefined && options.postgres === undefined) {
      throw new ConfigError(`node ${other.node} already serves the data service of this cluster, and the SQLite store allows one ` +
        'writer: run one data instance per cloud (several data instances need a server database)');
    }
    const lock: WriterLock | undefined = options.dataDir === undefined || options.postgres !== undefined ? undefined
      : acquireWriterLock(options.dataDir);
    let store: DataStore | undefined;
    try {
      // On PostgreSQL the actor waits for an unreachable server (on a timer, see DataActorOptions), so
      // the connection itself tries once: blocking this thread would cut the process off its peers.
      store = DataStore.open(options.postgres !== undefined ? { postgres: { ...options.postgres, unavailableRetryMs: 0 } }
        : options.dataDir === undefined ? { memory: true } : { dataDir: options.dataDir });
      const seed = seedStore(store, options.seed);
      for (const [k, v] of Object.entries(options.settings ?? {})) store.config.set(k, v);
      const opened = store;
      system.spawn(DATA_PATH, dataActor({ store: opened,
        ...(options.maxCallsPerCommit === undefined ? {} : { maxCallsPerCommit: options.maxCallsPerCommit }),
        ...(options.postgres === undefined ? {} : { unavailableRetryMs: options.postgres.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS }) }));
      services.publish(DataProtocol);
      log.debug('data service started', { database: opened.sql.describe, seeded: seed?.created === true });
      return {
        handle: { store: opened, seed },
        stop: async () => {
          services.withdraw(DataProtocol);
          await system.stop(DATA_PATH);
          opened.close();
          lock?.release();
        },
      };
    } catch (err) {
      store?.close();
      lock?.release();
      throw err;
    }
  },
};
