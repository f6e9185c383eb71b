/**
 * The fabric components for the all-in-one lab: a compute component whose agents send heartbeats to
 * the fabric monitor, the monitor itself (no gossip in one process: its investigations ask the agents
 * directly, which answer unless a simulator PingCommand mock says otherwise) and the fabric admin.
 * `fabricLabComponents()` is the orchestration lab's list with the compute component replaced and the
 * two fabric components inserted before the API.
 */
import { NoInstanceError } from '../src/errors.js';
import type { ServiceLocator } from '../src/locator.js';
import { COMPUTE_SERVICE, computeAgentPath } from '../actors/compute/protocol.js';
import { startComputeAgents, type ComputeAgents, type SimulatedHostConfig } from '../actors/compute/start-agents.js';
import { DataProtocol, dataClient } from '../actors/data/protocol.js';
import { startFabricAdmin } from '../actors/fabric-admin/admin-actor.js';
import { FabricAdminProtocol } from '../actors/fabric-admin/protocol.js';
import { FABRIC_MONITOR_DEFAULTS, resolveFabricConfig, type FabricMonitorConfig } from '../actors/fabric-monitor/config.js';
import { startFabricMonitor } from '../actors/fabric-monitor/monitor-actor.js';
import { FabricMonitorProtocol, type FabricMonitorProtocolType } from '../actors/fabric-monitor/protocol.js';
import type { OrchestratorCaller } from '../actors/orchestrator/protocol.js';
import type { ActorRef } from '../src/actor-types.js';
import type { LabComponent, LabEnv } from './components.js';
import { fullLabComponents, type OrchestrationLabOptions } from './lab-orchestration.js';

export interface FabricLabOptions extends OrchestrationLabOptions {
  /** Fabric timings (heartbeats, timeouts, grace periods). Default FABRIC_MONITOR_DEFAULTS. */
  fabric?: Partial<FabricMonitorConfig>;
  /** Receives the lab's compute agents (tests act on the simulated hosts behind the database's back). */
  onAgents?: (agents: ComputeAgents) => void;
  /** Receives the fabric monitor (tests read its stats). */
  onMonitor?: (ref: ActorRef<FabricMonitorProtocolType>) => void;
}

async function seededHosts(env: LabEnv): Promise<SimulatedHostConfig[]> {
  return env.seed.hostids.map((id) => {
    const h = env.store.hosts.get(id);
    return { name: h.name, uuid: h.id, zone: h.zoneid, pod: h.podid ?? '', cluster: h.clusterid ?? '',
      cpuCores: h.cpunumber, cpuSpeedMhz: h.cpuspeed, memoryMiB: Math.floor(h.memorytotal / (1024 * 1024)) };
  });
}

/** The seeded admin, as the identity of HA jobs. */
function adminCaller(locator: ServiceLocator, adminUserId: string): () => Promise<OrchestratorCaller> {
  const data = dataClient((body) => locator.ref(DataProtocol).ask('call', body, { timeoutMs: 15_000 }));
  return () => data.users.callerFor(adminUserId);
}

export function fabricComponents(o: FabricLabOptions = {}): { compute: LabComponent; monitor: LabComponent; admin: LabComponent } {
  const config = resolveFabricConfig({ ...FABRIC_MONITOR_DEFAULTS, ...o.fabric });
  const compute: LabComponent = {
    name: 'compute',
    async start(env) {
      const hosts = await seededHosts(env);
      const agents = await startComputeAgents(env.node.system, hosts, {
        heartbeat: {
          intervalMs: config.heartbeatIntervalMs,
          send: (r) => {
            try {
              env.locator.ref(FabricMonitorProtocol).tell('heartbeat', r);
            } catch (err) {
              if (!(err instanceof NoInstanceError)) throw err; // a lab without a monitor: nobody listens
            }
          },
        },
      });
      for (const h of hosts) env.locator.bindInstance(COMPUTE_SERVICE, h.name, { node: env.node.id, path: computeAgentPath(h.name) });
      o.onAgents?.(agents);
      return { name: 'compute', stop: () => agents.stop() };
    },
  };
  const monitor: LabComponent = {
    name: 'fabric-monitor',
    async start({ node, locator, seed }) {
      const s = startFabricMonitor(node.system, { locator, config, haCaller: adminCaller(locator, seed.adminUserId) });
      locator.bind(FabricMonitorProtocol.name, { node: node.id, path: s.path });
      o.onMonitor?.(s.ref);
      return { name: 'fabric-monitor', stop: s.stop };
    },
  };
  const admin: LabComponent = {
    name: 'fabric-admin',
    async start({ node, locator }) {
      const s = startFabricAdmin(node.system, { locator });
      locator.bind(FabricAdminProtocol.name, { node: node.id, path: s.path });
      return { name: 'fabric-admin', stop: s.stop };
    },
  };
  return { compute, monitor, admin };
}

/** Every lab component: the orchestration lab with heartbeating agents and the fabric components before the API. */
export function fabricLabComponents(o: FabricLabOptions = {}): LabComponent[] {
  const f = fabricComponents(o);
  const list = fullLabComponents(o).map((c) => (c.name === 'compute' ? f.compute : c));
  const api = list.findIndex((c) => c.name === 'api');
  const at = api < 0 ? list.length : api;
  return [...list.slice(0, at), f.monitor, f.admin, ...list.slice(at)];
}
