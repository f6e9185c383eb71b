/**
 * The two roles of a cloud spread over processes: `--role=management` (data, network, storage,
 * orchestrator, fabric monitor, fabric admin and the API on one node) and `--role=compute` (the
 * compute agent of this host). Both run over ws or redis with gossip: services are advertised in the
 * registry and found through it, so a compute node only needs a seed (ws) or the Redis URL.
 */
import { ConfigError } from '../src/errors.js';
import { RegistryLocator, type GossipNode } from '../src/cluster/index.js';
import type { ServiceLocator } from '../src/locator.js';
import { startApi } from '../actors/api/api-actor.js';
import { startComputeAgents, type SimulatedHostConfig } from '../actors/compute/start-agents.js';
import { ComputeDirectoryProtocol, ComputeProtocol } from '../actors/compute/protocol.js';
import { dataActor } from '../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol, dataClient } from '../actors/data/protocol.js';
import { DataStore } from '../actors/data/store/index.js';
import { seedManagement } from '../actors/data/store/seed.js';
import { startFabricAdmin } from '../actors/fabric-admin/admin-actor.js';
import { FabricAdminProtocol } from '../actors/fabric-admin/protocol.js';
import { FABRIC_MONITOR_DEFAULTS, fabricTestConfig, type FabricMonitorConfig } from '../actors/fabric-monitor/config.js';
import { IsolationWatcher } from '../actors/fabric-monitor/isolation.js';
import { startFabricMonitor } from '../actors/fabric-monitor/monitor-actor.js';
import { FabricMonitorProtocol } from '../actors/fabric-monitor/protocol.js';
import { startNetwork } from '../actors/network/start.js';
import { NetworkProtocol } from '../actors/network/protocol.js';
import { startOrchestrator } from '../actors/orchestrator/start.js';
import { OrchestratorProtocol, type OrchestratorCaller } from '../actors/orchestrator/protocol.js';
import type { OrchestratorConfig } from '../actors/orchestrator/config.js';
import { startStorage } from '../actors/storage/start.js';
import { StorageProtocol } from '../actors/storage/protocol.js';
import { ROLE_SETS, type CliConfig } from './cli-options.js';
import type { ComponentEnv, Started } from './components.js';
import { discoveryOf, signalsOf } from './fabric-signals.js';
import { writeCredentials } from './lab.js';

/** The fabric timings of a --heartbeat-profile. */
export function fabricProfile(profile: CliConfig['heartbeatProfile']): FabricMonitorConfig {
  return profile === 'test' ? fabricTestConfig() : { ...FABRIC_MONITOR_DEFAULTS };
}

/** Orchestrator timings of a profile: in `test`, a step sent to a dead node fails in seconds, not a minute. */
export function orchestratorProfile(profile: CliConfig['heartbeatProfile']): Partial<OrchestratorConfig> {
  return profile === 'test' ? { stepTimeoutMs: 10_000, resendIntervalMs: 1_000, configRefreshMs: 1_000 } : {};
}

/** Which distributed assembly a role list asks for, if any. */
export function assemblyFor(roles: readonly string[]): 'management' | 'compute' | undefined {
  const same = (set: readonly string[]): boolean => set.length === roles.length && set.every((r) => roles.includes(r));
  if (same(ROLE_SETS.management!)) return 'management';
  if (same(ROLE_SETS.compute!)) return 'compute';
  return undefined;
}

function requireGossip(env: ComponentEnv, role: string): GossipNode {
  if (env.gossip === undefined) {
    throw new ConfigError(`--role=${role} needs --transport ws or redis (the all-in-one lab is the default role on one process)`);
  }
  return env.gossip;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Spawns a component's actor and advertises its service. */
function offer(gossip: GossipNode, name: string, version: string): void {
  gossip.advertise(name, version);
}

/**
 * `--role=management`: opens (or seeds, on an empty data dir, like the lab but without hosts) the
 * database, starts every management component, advertises their services, and writes credentials.json.
 */
export async function startManagement(env: ComponentEnv): Promise<Started> {
  const gossip = requireGossip(env, 'management');
  const { node, config, log } = env;
  const system = node.system;
  const store = DataStore.open({ dataDir: config.dataDir });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch((err: unknown) => log.warn('component stop failed', { error: String(err) }));
    store.close();
  };
  try {
    const seed = seedManagement(store);
    const locator = new RegistryLocator(gossip.registry, system);
    system.spawn(DATA_PATH, dataActor({ store }));
    offer(gossip, DataProtocol.name, DataProtocol.version);
    stops.push(() => system.stop(DATA_PATH));
    const network = startNetwork(system, { locator });
    offer(gossip, NetworkProtocol.name, NetworkProtocol.version);
    stops.push(network.stop);
    const storage = startStorage(system, { locator });
    offer(gossip, StorageProtocol.name, StorageProtocol.version);
    stops.push(storage.stop);
    const orchestrator = await startOrchestrator(system, { locator, config: orchestratorProfile(config.heartbeatProfile) });
    offer(gossip, OrchestratorProtocol.name, OrchestratorProtocol.version);
    stops.push(orchestrator.stop);
    const fabric = fabricProfile(config.heartbeatProfile);
    const monitor = startFabricMonitor(system, { locator, config: fabric, signals: signalsOf(gossip), haCaller: adminCaller(locator, seed.adminUserId) });
    offer(gossip, FabricMonitorProtocol.name, FabricMonitorProtocol.version);
    stops.push(monitor.stop);
    const admin = startFabricAdmin(system, { locator, discovery: discoveryOf(gossip, node.transport) });
    offer(gossip, FabricAdminProtocol.name, FabricAdminProtocol.version);
    stops.push(admin.stop);
    const api = await startApi(system, { locator, host: config.bind, port: config.port, server: { logger: log } });
    stops.push(api.stop);
    const credentials = writeCredentials(config.dataDir, { endpoint: api.endpoint, apiKey: seed.apiKey, secretKey: seed.secretKey });
    say(seed.created ? `seeded a new management database in ${config.dataDir}: one Advanced zone, no hosts yet (compute nodes join)`
      : `reusing the management database in ${config.dataDir}`);
    say(`endpoint: ${api.endpoint}`);
    say(`credentials: ${credentials}`);
    return { name: 'management', stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The seeded admin as the identity of HA jobs (resolved once, when the first HA job needs it). */
function adminCaller(locator: ServiceLocator, adminUserId: string): () => Promise<OrchestratorCaller> {
  const data = dataClient((body) => locator.ref(DataProtocol).ask('call', body, { timeoutMs: 15_000 }));
  let cached: Promise<OrchestratorCaller> | undefined;
  return () => {
    cached ??= data.users.callerFor(adminUserId).catch((err: unknown) => { cached = undefined; throw err; });
    return cached;
  };
}

/** This process's simulated host, from --node-name, the capacity flags and the placement hints. */
export function hostOf(config: CliConfig): SimulatedHostConfig {
  return { name: config.nodeName, zone: config.zone ?? '', pod: config.pod ?? '', cluster: config.cluster ?? '',
    cpuCores: config.cpuCores, cpuSpeedMhz: config.cpuSpeed, memoryMiB: config.memory };
}

export interface ComputeRoleOptions {
  /** The hosts this node runs. Default: one, from the command line (`hostOf`). Benchmarks run many. */
  hosts?: SimulatedHostConfig[];
  fabric?: FabricMonitorConfig;
}

/**
 * `--role=compute`: the compute agent of this host, advertised as `compute/<host>` (a keyed service: the
 * metadata holds one entry however many hosts the node runs); heartbeats go to
 * whichever node serves the fabric monitor; a node that finds itself alone fences its hosts.
 */
export async function startCompute(env: ComponentEnv, o: ComputeRoleOptions = {}): Promise<Started> {
  const gossip = requireGossip(env, 'compute');
  const { node, config, log } = env;
  const fabric = o.fabric ?? fabricProfile(config.heartbeatProfile);
  const hosts = o.hosts ?? [hostOf(config)];
  const locator = new RegistryLocator(gossip.registry, node.system);
  const agents = await startComputeAgents(node.system, hosts, {
    heartbeat: { intervalMs: fabric.heartbeatIntervalMs, send: (r) => { locator.ref(FabricMonitorProtocol).tell('heartbeat', r); } },
  });
  offer(gossip, ComputeDirectoryProtocol.name, ComputeDirectoryProtocol.version);
  // One metadata entry for every host of this node (issue 18): the hosts are read from the node itself.
  gossip.advertiseKeys(ComputeProtocol.name, ComputeProtocol.version, hosts.map((h) => h.name));
  const isolation = new IsolationWatcher({
    clock: node.system.clock, log, isolationFenceMs: fabric.isolationFenceMs, checkIntervalMs: Math.max(50, fabric.checkIntervalMs),
    liveOthers: () => gossip.membership.members({ includeSelf: false, status: ['alive'] }).length,
    fence: async (reason) => { await Promise.all(agents.hostNames().map((h) => agents.ref(h).ask('fence', { reason }))); },
  });
  isolation.start();
  log.info('compute node started', { hosts: hosts.length, heartbeatMs: fabric.heartbeatIntervalMs });
  return {
    name: 'compute',
    stop: async () => {
      isolation.stop();
      gossip.withdrawKeys(ComputeProtocol.name);
      await agents.stop();
    },
  };
}

/** Starts the assembly the roles name (see assemblyFor). */
export function startAssembly(kind: 'management' | 'compute', env: ComponentEnv): Promise<Started> {
  return kind === 'management' ? startManagement(env) : startCompute(env);
}

