import type { Node } from '../src/node.js';
import type { Logger } from '../src/logger.js';
import type { StaticLocator } from '../src/locator.js';
import { echoActor } from '../actors/echo/echo-actor.js';
import { ECHO_PATH, EchoProtocol } from '../actors/echo/protocol.js';
import type { GossipNode } from '../src/cluster/gossip-node.js';
import { startApi } from '../actors/api/api-actor.js';
import { dataActor } from '../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol } from '../actors/data/protocol.js';
import type { DataStore } from '../actors/data/store/index.js';
import type { SeedResult } from '../actors/data/store/seed.js';
import { startComputeAgents, type SimulatedHostConfig } from '../actors/compute/start-agents.js';
import { COMPUTE_SERVICE, computeAgentPath } from '../actors/compute/protocol.js';
import type { CliConfig } from './cli-options.js';

/** What a started component gives back: a way to stop it. */
export interface Started {
  name: string;
  stop(): Promise<void>;
}

export interface ComponentEnv {
  node: Node;
  config: CliConfig;
  log: Logger;
  /** Membership and registry on networked nodes: components advertise their services there. */
  gossip?: GossipNode | undefined;
}

type Starter = (env: ComponentEnv) => Promise<Started>;

/** How each component named by --role is started on a node. */
export const STARTERS: Record<string, Starter> = {
  echo: async ({ node, gossip }) => {
    node.system.spawn(ECHO_PATH, echoActor());
    gossip?.advertise(EchoProtocol.name, EchoProtocol.version);
    return { name: 'echo', stop: () => node.system.stop(ECHO_PATH) };
  },
};

/** What a component of the all-in-one lab gets. */
export interface LabEnv {
  readonly node: Node;
  /** Components bind their services here and find each other's by name (never by address). */
  readonly locator: StaticLocator;
  /** The lab's database; only the data component touches it. */
  readonly store: DataStore;
  /** What the lab was seeded with (ids of the zone, pod, cluster, hosts...). */
  readonly seed: SeedResult;
  /** Where the HTTP API listens. */
  readonly api: { readonly bind: string; readonly port: number };
  readonly log: Logger;
}

export interface LabStarted extends Started {
  /** The API's URL, from the component that serves it. */
  endpoint?: string;
}

export interface LabComponent {
  /** The role name (as in ROLE_SETS.all). */
  readonly name: string;
  start(env: LabEnv): Promise<LabStarted>;
}

/** The seeded hosts as simulator agents: one per host row, placed by the ids of its zone, pod and cluster. */
async function seededHosts(env: LabEnv): Promise<SimulatedHostConfig[]> {
  const out: SimulatedHostConfig[] = [];
  for (const id of env.seed.hostids) {
    const h = env.store.hosts.get(id);
    out.push({ name: h.name, uuid: h.id, zone: h.zoneid, pod: h.podid ?? '', cluster: h.clusterid ?? '',
      cpuCores: h.cpunumber, cpuSpeedMhz: h.cpuspeed, memoryMiB: Math.floor(h.memorytotal / (1024 * 1024)) });
  }
  return out;
}

const dataComponent: LabComponent = {
  name: 'data',
  async start({ node, locator, store }) {
    node.system.spawn(DATA_PATH, dataActor({ store }));
    locator.bind(DataProtocol.name, { node: node.id, path: DATA_PATH });
    return { name: 'data', stop: () => node.system.stop(DATA_PATH) };
  },
};

const computeComponent: LabComponent = {
  name: 'compute',
  async start(env) {
    const hosts = await seededHosts(env);
    // Heartbeats go to the fabric monitor, which plugs in here once it exists; until then the agents send none.
    const agents = await startComputeAgents(env.node.system, hosts);
    for (const h of hosts) env.locator.bindInstance(COMPUTE_SERVICE, h.name, { node: env.node.id, path: computeAgentPath(h.name) });
    return { name: 'compute', stop: () => agents.stop() };
  },
};

const apiComponent: LabComponent = {
  name: 'api',
  async start({ node, locator, api, log }) {
    const started = await startApi(node.system, { locator, host: api.bind, port: api.port, server: { logger: log } });
    return { name: 'api', endpoint: started.endpoint, stop: () => started.stop() };
  },
};

/**
 * The components of the all-in-one lab, started in this order and stopped in reverse. The API comes
 * last so that it takes requests only once what it calls is up. The orchestrator, network, storage,
 * fabric-monitor and fabric-admin components are built separately; each adds its LabComponent here,
 * before `api`, binding its service on the locator as `data` does.
 */
export const LAB_COMPONENTS: readonly LabComponent[] = [dataComponent, computeComponent, apiComponent];
