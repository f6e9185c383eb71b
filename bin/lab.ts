/**
 * The all-in-one lab: every component in one process on the in-process transport, over one SQLite
 * database (a file under the data directory, or in memory). `startLab()` is what tests embed;
 * `cloudstackd` with the default role runs the same thing (see lab-cli.ts).
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../src/errors.js';
import { createLogger, type Logger, type LogLevel } from '../src/logger.js';
import { StaticLocator } from '../src/locator.js';
import { Node } from '../src/node.js';
import { InprocHub } from '../transports/inproc/hub.js';
import { InprocTransport } from '../transports/inproc/inproc-transport.js';
import { DataStore } from '../actors/data/store/index.js';
import { seedLab, type SeedResult } from '../actors/data/store/seed.js';
import { ROLE_SETS } from './cli-options.js';
import { type LabComponent, type LabStarted } from './components.js';
import { fabricLabComponents } from './lab-fabric.js';

export interface LabOptions {
  /** Address the HTTP API listens on. Default 127.0.0.1. */
  bind?: string;
  /** HTTP port of the API; 0 picks a free one. Default 0 (the CLI's default is 8080). */
  port?: number;
  /**
   * Directory of the database and credentials.json (created, mode 0700, when missing; an existing lab
   * in it is reused). Default: none — an in-memory database that vanishes with the lab.
   */
  dataDir?: string;
  /** Simulated hypervisor hosts seeded on a first start. Default 4. */
  hosts?: number;
  /** Log level of the lab's components. Default warn. Ignored when `logger` is given. */
  logLevel?: LogLevel;
  logger?: Logger;
  /** Encode every local message as if it crossed the wire (debugging). Default false. */
  strict?: boolean;
  /** Node id of the lab's node. Default `lab`. */
  nodeName?: string;
  /** The components to run, in start order. Default fabricLabComponents() (data, compute, network, storage, orchestrator, fabric-monitor, fabric-admin, api). */
  components?: readonly LabComponent[];
}

export interface Lab {
  /** The API's URL, e.g. http://127.0.0.1:8080/client/api */
  readonly endpoint: string;
  /** The admin user's API key and secret key. */
  readonly apiKey: string;
  readonly secretKey: string;
  /** True when this start created and seeded the lab; false when it reused an existing data directory. */
  readonly seeded: boolean;
  /** What the lab was seeded with (zone, pod, cluster, host, offering and template ids). */
  readonly seed: Omit<SeedResult, 'apiKey' | 'secretKey'>;
  /** Absolute path of credentials.json, when the lab has a data directory. */
  readonly credentialsFile: string | undefined;
  /** Names of the components running, in start order. */
  readonly components: readonly string[];
  /** Stops the API (in-flight requests finish), the other components, then closes the database. */
  stop(): Promise<void>;
}

export const CREDENTIALS_FILE = 'credentials.json';

/** Writes credentials.json with mode 0600 (replacing it atomically, so a reader never sees half a file). */
export function writeCredentials(dataDir: string, c: { endpoint: string; apiKey: string; secretKey: string }): string {
  const file = resolve(join(dataDir, CREDENTIALS_FILE));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ endpoint: c.endpoint, apiKey: c.apiKey, secretKey: c.secretKey }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    throw new ConfigError(`cannot write ${file}: ${(err as Error).message}; check that the data directory is writable`, { cause: err });
  }
  return file;
}

/**
 * Creates the data directory (mode 0700) one level at a time and checks that it is a writable
 * directory. Done here rather than with mkdirSync's `recursive`, which on Node 20 never returns for a
 * path under a pseudo file system such as /proc.
 */
export function ensureDataDir(dataDir: string): void {
  const dir = resolve(dataDir);
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  try {
    for (const d of missing) mkdirSync(d, { mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new Error('it is not a directory');
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new ConfigError(`cannot use the data directory ${dir}: ${(err as Error).message}; choose a writable directory with --data-dir`, { cause: err });
  }
}

/** Roles of the all-in-one set that have no component running in the lab (reported, never faked). */
export function missingRoles(running: readonly string[]): string[] {
  return ROLE_SETS.all!.filter((r) => !running.includes(r));
}

async function stopAll(started: LabStarted[], node: Node, store: DataStore, log: Logger): Promise<void> {
  for (const s of [...started].reverse()) {
    await s.stop().catch((err: unknown) => log.warn('component stop failed', { component: s.name, error: String(err) }));
  }
  await node.stop().catch((err: unknown) => log.warn('node stop failed', { error: String(err) }));
  store.close();
}

/**
 * Starts the lab and resolves once the API listens. Fails (with everything started so far stopped and
 * the database closed) on an unwritable data directory or a port in use, with a ConfigError saying so.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'warn');
  const components = options.components ?? fabricLabComponents();
  if (options.dataDir !== undefined) ensureDataDir(options.dataDir);
  const store = DataStore.open(options.dataDir === undefined ? { memory: true } : { dataDir: options.dataDir });
  const nodeId = options.nodeName ?? 'lab';
  const node = new Node({ nodeId, transport: new InprocTransport({ nodeId, hub: new InprocHub() }), logger: log, strict: options.strict === true });
  const started: LabStarted[] = [];
  try {
    const seed = seedLab(store, { hosts: options.hosts ?? 4 });
    await node.start();
    const env = { node, locator: new StaticLocator(node.system), store, seed, log,
      api: { bind: options.bind ?? '127.0.0.1', port: options.port ?? 0 } };
    for (const c of components) started.push(await c.start(env));
    const endpoint = started.find((s) => s.endpoint !== undefined)?.endpoint;
    if (endpoint === undefined) throw new ConfigError('the lab has no api component, so it has no endpoint');
    const credentialsFile = options.dataDir === undefined ? undefined
      : writeCredentials(options.dataDir, { endpoint, apiKey: seed.apiKey, secretKey: seed.secretKey });
    const { apiKey, secretKey, ...record } = seed;
    let stopping: Promise<void> | undefined;
    return {
      endpoint, apiKey, secretKey, seeded: seed.created, seed: record, credentialsFile, components: started.map((s) => s.name),
      stop: () => (stopping ??= stopAll(started, node, store, log)),
    };
  } catch (err) {
    await stopAll(started, node, store, log);
    throw err;
  }
}
