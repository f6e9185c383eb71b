import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorDefinition, ActorRef } from '../../src/actor-types.js';
import type { Fence } from '../../src/lease.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { Caller } from '../data/protocol.js';
import { resolveFabricConfig, type FabricMonitorConfig } from './config.js';
import { locatedDeps, type MonitorDeps } from './deps.js';
import type { FabricSignals } from './investigation.js';
import { FabricMonitor } from './monitor.js';
import { FABRIC_MONITOR_PATH, FabricMonitorProtocol, MAX_TRACKED_PAGE, type FabricMonitorProtocolType } from './protocol.js';

export interface FabricMonitorOptions {
  /** Finds the data service, the orchestrator and the compute agents (keyed by host name). */
  locator: ServiceLocator;
  /** The identity HA jobs run as: a root admin of the cloud. */
  haCaller(): Promise<Caller>;
  /** The membership's verdicts on the hosts' nodes (absent in the all-in-one lab). */
  signals?: FabricSignals;
  config?: Partial<FabricMonitorConfig>;
  /** Replaces the located dependencies (tests). */
  deps?: (base: MonitorDeps) => MonitorDeps;
  /** The acting monitor's lease (its data writes carry it). */
  fence?: Fence;
}

export interface FabricMonitorState {
  monitor: FabricMonitor;
}

/**
 * The fabric monitor as an actor. Heartbeats are tells handled without waiting (the work runs in the
 * background, one step per host at a time), so one actor keeps up with thousands of hosts; the
 * periodic check runs on the actor's clock. A restart rebuilds the monitor from the database.
 */
export function fabricMonitorActor(options: FabricMonitorOptions): ActorDefinition<FabricMonitorProtocolType, FabricMonitorState> {
  const config = resolveFabricConfig(options.config);
  let current: FabricMonitor | undefined;
  return {
    protocol: FabricMonitorProtocol,
    // Heartbeats may come in bursts from many hosts; a full mailbox drops the oldest (the next beat repeats it).
    mailbox: { capacity: 100_000, overflow: 'drop-oldest' },
    init: (ctx) => {
      current?.stop();
      const base = locatedDeps({ locator: options.locator, clock: ctx.clock, log: ctx.log, config, haCaller: options.haCaller,
        signals: options.signals, fence: options.fence });
      current = new FabricMonitor(options.deps?.(base) ?? base);
      return { monitor: current };
    },
    started: async (ctx) => {
      await ctx.state.monitor.start().catch((err: unknown) => {
        // The data service may not be up yet: the periodic check loads the hosts when it is.
        ctx.log.warn('fabric monitor started without the host list', { error: (err as Error).message });
      });
    },
    restarted: async (ctx) => { await ctx.state.monitor.start(); },
    stopping: (ctx) => { ctx.state.monitor.stop(); },
    handlers: {
      heartbeat: (report, ctx) => { ctx.state.monitor.heartbeat(report); },
      hosts: ({ after, limit }, ctx) => ctx.state.monitor.hosts(after, limit ?? MAX_TRACKED_PAGE),
      stats: (_b, ctx) => ({ ...ctx.state.monitor.stats() }),
      evacuate: ({ hostid, reason }, ctx) => ctx.state.monitor.evacuate(hostid, reason),
    },
  };
}

export interface StartedFabricMonitor {
  readonly ref: ActorRef<FabricMonitorProtocolType>;
  readonly path: string;
  stop(): Promise<void>;
}

/** Spawns the monitor at FABRIC_MONITOR_PATH (advertise or bind its service name to that path). */
export function startFabricMonitor(system: ActorSystem, options: FabricMonitorOptions): StartedFabricMonitor {
  const ref = system.spawn(FABRIC_MONITOR_PATH, fabricMonitorActor(options));
  return { ref, path: FABRIC_MONITOR_PATH, stop: () => system.stop(FABRIC_MONITOR_PATH) };
}
