import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorDefinition, ActorRef } from '../../src/actor-types.js';
import { createRealClock, type Clock } from '../../src/clock.js';
import { InvalidParameterError, ResourceInUseError, isRetryable } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { ServiceLocator } from '../../src/locator.js';
import { ComputeProtocol } from '../compute/protocol.js';
import type { Fence } from '../../src/lease.js';
import { DataProtocol, dataClient, fencedDataClient, type DataApi, type DataCall, waitingDataCall } from '../data/protocol.js';
import { FabricMonitorProtocol } from '../fabric-monitor/protocol.js';
import { OrchestratorProtocol } from '../orchestrator/protocol.js';
import { admit, type AdmissionDeps } from './admission.js';
import { cancelMaintenance, prepareMaintenance, type MaintenanceDeps } from './maintenance.js';
import { FABRIC_ADMIN_PATH, FabricAdminProtocol, type AdmitRequest, type FabricAdminProtocolType } from './protocol.js';

/** Compute agents as the membership finds them (the registry's `compute/<host>` services). */
export interface ComputeDiscovery {
  /** Host names with a live agent now. */
  hosts(): string[];
  /** Called when an agent appears (a node joined or restarted); returns the unsubscribe function. */
  onAdded(listener: (hostName: string) => void): () => void;
}

export interface FabricAdminOptions {
  locator: ServiceLocator;
  /** Without it, hosts are admitted only by addHost. */
  discovery?: ComputeDiscovery;
  /** Admit every discovered agent automatically. Default true. */
  autoAdmit?: boolean;
  /** Reported as the host's `version`. Default 4.20.0. */
  version?: string;
  /** Deadline of each ask to an agent or the monitor, ms. Default 10,000. */
  askTimeoutMs?: number;
  /** Attempts at admitting a discovered node whose agent cannot be reached yet, and the pause between them, ms. Default 10, 500. */
  admitAttempts?: number;
  admitRetryMs?: number;
  /** Waits between data retries (a data service restarting). Default the real clock. */
  clock?: Clock;
  /** The acting admin's lease: its data writes are refused once another instance acts. */
  fence?: Fence;
  /** Poll interval of maintenance migrations, ms. Default 200. */
  maintenancePollMs?: number;
  /** Longest wait for a host's migrations before maintenance fails, ms. Default 600,000. */
  maintenanceTimeoutMs?: number;
}

export interface FabricAdminState {
  admitted: Set<string>;
}

const DATA_TIMEOUT_MS = 15_000;

/**
 * The fabric admin: admits compute nodes as hosts (each discovered agent, once per appearance, and
 * addHost's explicit requests), runs maintenance mode and host removal. Admissions of one host name
 * are serialised, so a discovery and an addHost racing for it never create two hosts. A host removed
 * with deleteHost is not admitted again automatically while this actor runs (addHost brings it back).
 */
export function fabricAdminActor(o: FabricAdminOptions): ActorDefinition<FabricAdminProtocolType, FabricAdminState> {
  const timeoutMs = o.askTimeoutMs ?? 10_000;
  const retries = o.admitAttempts ?? 10;
  const retryMs = o.admitRetryMs ?? 500;
  const call = waitingDataCall((body: DataCall) => o.locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), o.clock ?? createRealClock());
  const data: DataApi = o.fence === undefined ? dataClient(call) : fencedDataClient(call, o.fence);
  const adm: AdmissionDeps = { data, compute: (host, type, body) => o.locator.ref(ComputeProtocol, host).ask(type, body, { timeoutMs }) };
  const chains = new Map<string, Promise<unknown>>();
  const removed = new Set<string>();
  let unsubscribe: (() => void) | undefined;

  const serial = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const run = (chains.get(name) ?? Promise.resolve()).then(fn);
    const tail: Promise<unknown> = run.then(() => undefined, () => undefined).finally(() => { if (chains.get(name) === tail) chains.delete(name); });
    chains.set(name, tail);
    return run;
  };
  const admitOne = (state: FabricAdminState, r: AdmitRequest) => serial(r.hostName, async () => {
    const { host } = await admit(adm, r, o.version ?? '4.20.0');
    state.admitted.add(r.hostName);
    removed.delete(r.hostName);
    return host;
  });
  const discovered = (state: FabricAdminState, log: Logger, clock: Clock, hostName: string, attempt = 1): void => {
    if (o.autoAdmit === false || removed.has(hostName)) return;
    admitOne(state, { hostName }).then((h) => log.info('compute node admitted', { host: hostName, id: h.id, state: h.state }), (err: unknown) => {
      // A node just learned through gossip may not be reachable yet: retryable failures are tried again.
      if (isRetryable(err) && attempt < retries) {
        clock.setTimeout(() => discovered(state, log, clock, hostName, attempt + 1), retryMs);
        return;
      }
      log.warn('compute node not admitted', { host: hostName, error: (err as Error).message });
      void data.events.create('system', { type: 'HOST.ADD', level: 'ERROR', description: `compute node ${hostName} was not admitted: ${(err as Error).message}`,
        resourcetype: 'Host' }).catch(() => undefined);
    });
  };
  const maintenance = (ownerNode: string, clock: MaintenanceDeps['clock'], log: Logger): MaintenanceDeps => ({
    data, clock, log, ownerNode, pollMs: o.maintenancePollMs ?? 200, timeoutMs: o.maintenanceTimeoutMs ?? 600_000,
    submit: (req) => o.locator.ref(OrchestratorProtocol).ask('submit', req, { timeoutMs: 20_000 }),
  });

  return {
    protocol: FabricAdminProtocol,
    init: () => ({ admitted: new Set() }),
    started: (ctx) => {
      unsubscribe?.();
      unsubscribe = o.discovery?.onAdded((h) => discovered(ctx.state, ctx.log, ctx.clock, h));
      for (const h of o.discovery?.hosts() ?? []) discovered(ctx.state, ctx.log, ctx.clock, h);
    },
    stopping: () => { unsubscribe?.(); unsubscribe = undefined; },
    handlers: {
      admit: async (r, ctx) => ({ ...(await admitOne(ctx.state, r)) }),
      prepareMaintenance: ({ hostid, caller }, ctx) => prepareMaintenance(maintenance(`fabric-admin@${ctx.self.node}`, ctx.clock, ctx.log), hostid, caller),
      cancelMaintenance: ({ hostid, caller }, ctx) => cancelMaintenance(maintenance(`fabric-admin@${ctx.self.node}`, ctx.clock, ctx.log), hostid, caller),
      deleteHost: async ({ hostid, forced }) => {
        const host = await data.hosts.get(hostid);
        // Only how many: the count covers every VM of the host (the forced path reads them all in evacuate).
        const vms = (await data.vms.list('system', { hostid, listall: true, page: 1, pagesize: 1 })).count;
        if (vms > 0 && !forced) {
          throw new ResourceInUseError(`Unable to delete host ${host.name}: ${vms} VMs are on it; migrate them away ` +
            '(prepareHostForMaintenance) or delete it with forced=true');
        }
        if (!forced && host.state === 'Up' && host.resourcestate !== 'Maintenance') {
          throw new InvalidParameterError(`Unable to delete host ${host.name}: it is Up; put it in maintenance first (prepareHostForMaintenance) or use forced=true`);
        }
        if (vms > 0) {
          await o.locator.ref(FabricMonitorProtocol).ask('evacuate', { hostid, reason: 'deleteHost forced=true' }, { timeoutMs });
        }
        await data.hosts.transition(hostid, 'Remove');
        removed.add(host.name);
        return { success: true };
      },
      discovered: (_b, ctx) => ({ hosts: (o.discovery?.hosts() ?? []).map((h) => ({ hostName: h, admitted: ctx.state.admitted.has(h) })) }),
    },
  };
}

export interface StartedFabricAdmin {
  readonly ref: ActorRef<FabricAdminProtocolType>;
  readonly path: string;
  stop(): Promise<void>;
}

/** Spawns the fabric admin at FABRIC_ADMIN_PATH (advertise or bind its service name to that path). */
export function startFabricAdmin(system: ActorSystem, options: FabricAdminOptions): StartedFabricAdmin {
  const ref = system.spawn(FABRIC_ADMIN_PATH, fabricAdminActor(options));
  return { ref, path: FABRIC_ADMIN_PATH, stop: () => system.stop(FABRIC_ADMIN_PATH) };
}
