/**
 * The all-in-one lab: every component in one process on the in-process transport, over one SQLite
 * database (a file under the data directory, or in memory). It is assembled exactly as any other node
 * (bin/assembly.ts) and its components find each other through the same registry as in a cluster of
 * many processes — here a membership of one. `startLab()` is what tests embed; `cloudstackd` with the
 * default role runs the same thing (see lab-cli.ts).
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ServiceDirectory, TimingProfile } from '../src/component.js';
import { ConfigError } from '../src/errors.js';
import { createLogger, type Logger, type LogLevel } from '../src/logger.js';
import { Node } from '../src/node.js';
import type { Random } from '../src/random.js';
import { InprocHub } from '../transports/inproc/hub.js';
import { InprocTransport } from '../transports/inproc/inproc-transport.js';
import type { ApiComponent } from '../actors/api/api-actor.js';
import type { ComputeAgents, ComputeAgentsOptions, SimulatedHostConfig } from '../actors/compute/start-agents.js';
import type { DataHandle } from '../actors/data/component.js';
import type { DataStore } from '../actors/data/store/index.js';
import type { SeedResult } from '../actors/data/store/seed.js';
import type { FabricMonitorHandle } from '../actors/fabric-monitor/component.js';
import type { FabricMonitorConfig } from '../actors/fabric-monitor/config.js';
import type { OrchestratorConfig } from '../actors/orchestrator/config.js';
import type { StartedOrchestrator } from '../actors/orchestrator/start.js';
import { startAssembly, waitForServices, type Assembly } from './assembly.js';
import { startClusterMembership } from './cluster.js';
import { ROLE_SETS, servicesOf } from './components.js';

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
  /**
   * PostgreSQL instead of SQLite: postgresql://user@host:port/database (credentials.json still goes to
   * `dataDir` when given). Default: SQLite.
   */
  databaseUrl?: string;
  /** Simulated hypervisor hosts (sim-host-1..N). Default 4. */
  hosts?: number;
  /** Log level of the lab's components. Default warn. Ignored when `logger` is given. */
  logLevel?: LogLevel;
  logger?: Logger;
  /** Encode every local message as if it crossed the wire (debugging). Default false. */
  strict?: boolean;
  /** Node id of the lab's node. Default `lab`. */
  nodeName?: string;
  /** Timings of every component: production (`default`) or the short ones of tests. Default `default`. */
  profile?: TimingProfile;
  /** Cloud settings written before anything runs (e.g. `mem.overprovisioning.factor`). */
  settings?: Readonly<Record<string, string>>;
  /** Orchestrator timings over the profile's (e.g. short step deadlines). */
  orchestrator?: Partial<OrchestratorConfig>;
  /** Fabric monitor timings over the profile's. */
  fabric?: Partial<FabricMonitorConfig>;
  /** Host shuffling and passwords of the orchestrator. Default OS-seeded. */
  random?: Random;
  /** Simulator settings of the lab's hosts (latency, mocks...). */
  compute?: Omit<ComputeAgentsOptions, 'heartbeat'>;
}

/** What tests and embedders may reach inside a running lab. */
export interface LabHandles {
  readonly node: Node;
  readonly services: ServiceDirectory;
  /** The lab's database (for invariant checks; components reach it only by messages). */
  readonly store: DataStore;
  readonly agents: ComputeAgents;
  readonly orchestrator: StartedOrchestrator;
  readonly fabricMonitor: FabricMonitorHandle;
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
  readonly handles: LabHandles;
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

/** The lab's simulated hosts: CloudStack's simulator figures (4 cores of 8000 MHz, 8 GiB each). */
export function labHosts(n: number): SimulatedHostConfig[] {
  return Array.from({ length: n }, (_, i) => ({ name: `sim-host-${i + 1}`, zone: '', pod: '', cluster: '',
    cpuCores: 4, cpuSpeedMhz: 8000, memoryMiB: 8192 }));
}

/** How long the lab waits for its components to find each other and its hosts to be admitted, ms. */
const LAB_READY_TIMEOUT_MS = 15_000;

/** Resolves once the fabric admin has admitted every lab host (its agent knows its host id). */
async function hostsAdmitted(agents: ComputeAgents, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const waiting = agents.hostNames().filter((h) => agents.agent(h)?.identity().hostUuid === undefined);
    if (waiting.length === 0) return;
    if (Date.now() > until) throw new ConfigError(`the lab's hosts ${waiting.join(', ')} were not admitted within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function optionsFor(o: LabOptions, hosts: SimulatedHostConfig[]): (name: string) => unknown {
  const table: Record<string, unknown> = {
    data: { ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
      ...(o.databaseUrl === undefined ? {} : { postgres: { url: o.databaseUrl } }), seed: { kind: 'lab', hosts: hosts.length },
      ...(o.settings === undefined ? {} : { settings: o.settings }) },
    orchestrator: { ...(o.orchestrator === undefined ? {} : { config: o.orchestrator }), ...(o.random === undefined ? {} : { random: o.random }) },
    // The monitor runs in this process: a stall stops it and the agents alike, so no self-fencing.
    compute: { hosts, selfFence: false, ...(o.compute === undefined ? {} : { agents: o.compute }) },
    'fabric-monitor': o.fabric === undefined ? {} : { config: o.fabric },
    api: { host: o.bind ?? '127.0.0.1', port: o.port ?? 0 },
  };
  return (name) => table[name] ?? {};
}

/**
 * Starts the lab and resolves once the API listens, the components have found each other and the
 * hosts are admitted. Fails (with everything started so far stopped and the database closed) on an
 * unwritable data directory or a port in use, with a ConfigError saying so.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'warn');
  if (options.dataDir !== undefined) ensureDataDir(options.dataDir);
  const nodeId = options.nodeName ?? 'lab';
  const node = new Node({ nodeId, transport: new InprocTransport({ nodeId, hub: new InprocHub() }), logger: log, strict: options.strict === true });
  await node.start();
  const roles = ROLE_SETS.all!;
  const cluster = await startClusterMembership(node, { roles, clusterName: 'lab', profile: options.profile ?? 'default', seeds: [], log });
  let assembly: Assembly | undefined;
  const stop = async (): Promise<void> => {
    await assembly?.stop();
    cluster.gossip.stop();
    await node.stop().catch((err: unknown) => log.warn('node stop failed', { error: String(err) }));
  };
  try {
    const hosts = labHosts(options.hosts ?? 4);
    assembly = await startAssembly({ system: node.system, services: cluster.services, transport: node.transport, log,
      profile: options.profile ?? 'default' }, roles, optionsFor(options, hosts));
    const a = assembly;
    const data = a.handle<DataHandle>('data')!;
    const agents = a.handle<ComputeAgents>('compute')!;
    await waitForServices(cluster.services, servicesOf(roles), { timeoutMs: LAB_READY_TIMEOUT_MS });
    await hostsAdmitted(agents, LAB_READY_TIMEOUT_MS);
    const endpoint = a.handle<ApiComponent>('api')!.endpoint;
    const seed = data.seed!;
    const credentialsFile = options.dataDir === undefined ? undefined
      : writeCredentials(options.dataDir, { endpoint, apiKey: seed.apiKey, secretKey: seed.secretKey });
    const { apiKey, secretKey, ...record } = seed;
    const handles: LabHandles = { node, services: cluster.services, store: data.store, agents,
      orchestrator: a.handle<StartedOrchestrator>('orchestrator')!, fabricMonitor: a.handle<FabricMonitorHandle>('fabric-monitor')! };
    let stopping: Promise<void> | undefined;
    return {
      endpoint, apiKey, secretKey, seeded: seed.created, seed: record, credentialsFile, components: a.names, handles,
      stop: () => (stopping ??= stop()),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
