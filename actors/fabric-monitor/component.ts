/**
 * The fabric monitor: host heartbeats, the host state machine, investigations, fencing and HA. Several
 * instances may run; exactly one acts, holding the `fabric-monitor` lease (its writes are fenced by it),
 * and only the acting one publishes the service, so heartbeats reach it. Standbys take over within
 * about one lease time after the acting one dies, rebuilding the host table from the database.
 */
import type { ComponentDescriptor } from '../../src/component.js';
import type { ActorRef } from '../../src/actor-types.js';
import { LEASE_DEFAULTS, LEASE_TEST_TIMINGS, type LeaseTimings } from '../../src/lease.js';
import { runLeasedSingleton } from '../../src/leased-singleton.js';
import { DataProtocol, dataClient, leaseStoreOf, waitingDataCall } from '../data/protocol.js';
import { FABRIC_MONITOR_DEFAULTS, fabricTestConfig, type FabricMonitorConfig } from './config.js';
import type { MonitorDeps } from './deps.js';
import { startFabricMonitor } from './monitor-actor.js';
import { FabricMonitorProtocol, type FabricMonitorProtocolType } from './protocol.js';
import { signalsOf } from './signals.js';

export interface FabricMonitorComponentOptions {
  /** Overrides over the profile's timings. */
  readonly config?: Partial<FabricMonitorConfig>;
  /** Overrides over the profile's lease timings (the acting instance's lease). */
  readonly lease?: Partial<LeaseTimings>;
  /** Replaces the located dependencies (tests). */
  readonly deps?: (base: MonitorDeps) => MonitorDeps;
}

export interface FabricMonitorHandle {
  /** True while this instance is the acting monitor. */
  active(): boolean;
  /** The acting monitor actor on this node (undefined on a standby). */
  ref(): ActorRef<FabricMonitorProtocolType> | undefined;
}

/** The monitor's timings of a profile. */
export function fabricProfile(profile: 'default' | 'test'): FabricMonitorConfig {
  return profile === 'test' ? fabricTestConfig() : { ...FABRIC_MONITOR_DEFAULTS };
}

/** Deadline of the data calls the component itself makes (leases, the HA identity), ms. */
const DATA_TIMEOUT_MS = 10_000;

export const fabricMonitorComponent: ComponentDescriptor<FabricMonitorComponentOptions, FabricMonitorHandle> = {
  name: 'fabric-monitor',
  summary: 'host heartbeats and states, investigations, fencing and HA (one acting instance under a lease)',
  provides: [FabricMonitorProtocol],
  needs: [DataProtocol.name],
  instances: 'leased',
  async start({ system, services, options, profile, clock, log }) {
    const config = { ...fabricProfile(profile), ...options.config };
    const timings = { ...(profile === 'test' ? LEASE_TEST_TIMINGS : LEASE_DEFAULTS), ...options.lease };
    const data = dataClient(waitingDataCall((body) => services.locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), clock));
    const signals = signalsOf(services);
    let ref: ActorRef<FabricMonitorProtocolType> | undefined;
    const singleton = runLeasedSingleton({
      lease: 'fabric-monitor', owner: `${system.nodeId}/${clock.now()}`, supersede: `${system.nodeId}/`, store: leaseStoreOf(data), timings, clock, log,
      activate: async (fence) => {
        const s = startFabricMonitor(system, { locator: services.locator, config, signals, fence,
          haCaller: () => data.users.rootAdminCaller(), ...(options.deps === undefined ? {} : { deps: options.deps }) });
        ref = s.ref;
        services.publish(FabricMonitorProtocol);
        return async () => {
          services.withdraw(FabricMonitorProtocol);
          ref = undefined;
          await s.stop();
        };
      },
    });
    return { handle: { active: () => singleton.active(), activations: () => singleton.activations, ref: () => ref }, stop: () => singleton.stop() };
  },
};
