import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorContext, ActorDefinition, ActorRef } from '../../src/actor-types.js';
import type { Clock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createRandom, type Random } from '../../src/random.js';
import { COMPUTE_DEFAULTS } from './config.js';
import { createComputeAgent, type ComputeAgent, type ComputeHostConfig } from './agent.js';
import type { HypervisorDriver } from './hypervisor-driver.js';
import {
  COMPUTE_ROOT, ComputeDirectoryProtocol, ComputeProtocol, computeAgentPath, type ComputeProtocolType, type HeartbeatReport,
} from './protocol.js';
import { SimulatorDriver } from './simulator-driver.js';
import { SimulatorMockTable } from './simulator-mocks.js';

/** A simulated host: where it sits and what it offers. */
export interface SimulatedHostConfig extends ComputeHostConfig {
  cpuCores: number;
  cpuSpeedMhz: number;
  memoryMiB: number;
}

export interface ComputeAgentsOptions {
  /**
   * Heartbeats of every agent. The first beats are spread evenly over one interval (agents added
   * later start at a random point of it) so that many hosts do not report in one burst.
   * Without this option the agents send no heartbeats.
   */
  heartbeat?: { intervalMs?: number; send(report: HeartbeatReport): void | Promise<void> };
  /** Per-operation latency of the simulated hosts, ms. Default 0–5 (COMPUTE_DEFAULTS). */
  latency?: { minMs: number; maxMs: number };
  /** Draws latencies, heartbeat offsets and boot ids. Default: OS-seeded. */
  random?: Random;
  /** The mock table every simulated host of this process shares. Default: a new one. */
  mocks?: SimulatorMockTable;
  /** Longest simulator `wait:<ms>` honoured, ms. Default 600,000. */
  maxMockWaitMs?: number;
  /** Idempotency keys remembered per host. Default 256. */
  maxRememberedCommands?: number;
  /** Most VMs a simulated host holds. Default 1,000. */
  maxVmsPerHost?: number;
  /** Builds each host's driver. Default: a SimulatorDriver sharing `mocks`. */
  createDriver?: (host: SimulatedHostConfig, shared: { clock: Clock; mocks: SimulatorMockTable; random: Random }) => HypervisorDriver;
}

/** The compute agents of one node, under the directory actor at /compute. */
export interface ComputeAgents {
  readonly mocks: SimulatorMockTable;
  hostNames(): string[];
  ref(hostName: string): ActorRef<ComputeProtocolType>;
  driver(hostName: string): HypervisorDriver | undefined;
  agent(hostName: string): ComputeAgent | undefined;
  /** Adds a host and starts its agent. */
  add(host: SimulatedHostConfig): ActorRef<ComputeProtocolType>;
  /** Stops a host's agent and closes its driver (its VMs are gone). */
  remove(hostName: string): Promise<void>;
  /** Stops every agent and the directory, and closes the drivers. */
  stop(): Promise<void>;
}

interface HostEntry {
  driver: HypervisorDriver;
  agent: ComputeAgent;
}

/**
 * Runs N hypervisor hosts in one process (the lab runs a few; benchmarks a thousand): a directory
 * actor at /compute and one agent per host at /compute/<name>, each with its own driver and one
 * heartbeat timer. If the directory is ever restarted it respawns the agents over the same drivers,
 * so VMs survive. One call per actor system.
 */
export async function startComputeAgents(system: ActorSystem, hosts: readonly SimulatedHostConfig[], options: ComputeAgentsOptions = {}): Promise<ComputeAgents> {
  const random = options.random ?? createRandom();
  const mocks = options.mocks ?? new SimulatorMockTable();
  const entries = new Map<string, HostEntry>();
  /** Heartbeat interval, ms. Default COMPUTE_DEFAULTS.heartbeatIntervalMs (10 s). */
  const interval = options.heartbeat?.intervalMs ?? COMPUTE_DEFAULTS.heartbeatIntervalMs;
  let dir: ActorContext<null> | undefined;
  const spawn = (name: string, e: HostEntry): void => { dir?.spawn(name, e.agent.definition); };

  const build = (host: SimulatedHostConfig, initialDelayMs: number): HostEntry => {
    if (entries.has(host.name)) throw new ConfigError(`host ${host.name} already has an agent on node ${system.nodeId}`);
    const driver = options.createDriver?.(host, { clock: system.clock, mocks, random }) ?? simulatorFor(system.clock, host, mocks, random, options);
    const hb = options.heartbeat;
    const agent = createComputeAgent({
      host, driver, random,
      ...(hb === undefined ? {} : { heartbeat: { intervalMs: interval, initialDelayMs, send: hb.send } }),
      ...(options.maxRememberedCommands === undefined ? {} : { maxRememberedCommands: options.maxRememberedCommands }),
    });
    const entry = { driver, agent };
    entries.set(host.name, entry);
    return entry;
  };

  hosts.forEach((h, i) => build(h, Math.floor((i * interval) / Math.max(1, hosts.length))));

  let ready!: () => void;
  const started = new Promise<void>((resolve) => { ready = resolve; });
  const directory: ActorDefinition<typeof ComputeDirectoryProtocol, null> = {
    protocol: ComputeDirectoryProtocol,
    init: () => null,
    started: (ctx) => {
      dir = ctx;
      try { for (const [name, e] of entries) spawn(name, e); } finally { ready(); }
    },
    restarted: (ctx) => { dir = ctx; for (const [name, e] of entries) spawn(name, e); },
    handlers: {
      listHosts: ({ after, limit }) => {
        const all = [...entries.keys()];
        const from = after ?? 0;
        const to = from + (limit ?? 1_000);
        return to < all.length ? { hosts: all.slice(from, to), next: to } : { hosts: all.slice(from) };
      },
    },
  };
  system.spawn(COMPUTE_ROOT, directory);
  await started; // the directory has spawned the agents

  const ref = (name: string): ActorRef<ComputeProtocolType> => system.ref(computeAgentPath(name), ComputeProtocol);
  return {
    mocks,
    hostNames: () => [...entries.keys()],
    ref,
    driver: (name) => entries.get(name)?.driver,
    agent: (name) => entries.get(name)?.agent,
    add(host) {
      const e = build(host, random.int(Math.max(1, Math.floor(interval))));
      spawn(host.name, e);
      return ref(host.name);
    },
    async remove(name) {
      const e = entries.get(name);
      if (e === undefined) return;
      entries.delete(name);
      await system.stop(computeAgentPath(name));
      await e.driver.close();
    },
    async stop() {
      await system.stop(COMPUTE_ROOT);
      for (const e of entries.values()) await e.driver.close();
      entries.clear();
    },
  };
}

function simulatorFor(clock: Clock, host: SimulatedHostConfig, mocks: SimulatorMockTable, random: Random, o: ComputeAgentsOptions): SimulatorDriver {
  return new SimulatorDriver({
    host: { hostName: host.name, zone: host.zone, pod: host.pod, cluster: host.cluster, ...(host.uuid === undefined ? {} : { hostUuid: host.uuid }) },
    capacity: { cpuCores: host.cpuCores, cpuSpeedMhz: host.cpuSpeedMhz, memoryMiB: host.memoryMiB },
    clock, mocks, random,
    ...(o.latency === undefined ? {} : { latency: o.latency }),
    ...(o.maxMockWaitMs === undefined ? {} : { maxMockWaitMs: o.maxMockWaitMs }),
    ...(o.maxVmsPerHost === undefined ? {} : { maxVms: o.maxVmsPerHost }),
  });
}
