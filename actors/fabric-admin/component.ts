/**
 * The fabric admin: admits discovered compute nodes as hosts, runs maintenance mode and host removal.
 * Several instances may run; one acts, holding the `fabric-admin` lease, and only it publishes the
 * service, so that one admission decides each host and one maintenance runs per host.
 */
import type { ComponentDescriptor } from '../../src/component.js';
import { LEASE_DEFAULTS, LEASE_TEST_TIMINGS, type LeaseTimings } from '../../src/lease.js';
import { runLeasedSingleton } from '../../src/leased-singleton.js';
import { DataProtocol, dataClient, leaseStoreOf, waitingDataCall } from '../data/protocol.js';
import { startFabricAdmin, type FabricAdminOptions } from './admin-actor.js';
import { discoveryOf } from './discovery.js';
import { FabricAdminProtocol } from './protocol.js';

export interface FabricAdminComponentOptions {
  /** Admission and maintenance settings (see FabricAdminOptions). */
  readonly admin?: Omit<FabricAdminOptions, 'locator' | 'discovery' | 'fence' | 'clock'>;
  /** Overrides over the profile's lease timings (the acting instance's lease). */
  readonly lease?: Partial<LeaseTimings>;
}

export interface FabricAdminHandle {
  active(): boolean;
}

const DATA_TIMEOUT_MS = 10_000;

export const fabricAdminComponent: ComponentDescriptor<FabricAdminComponentOptions, FabricAdminHandle> = {
  name: 'fabric-admin',
  summary: 'admission of compute nodes, maintenance mode, host removal (one acting instance under a lease)',
  provides: [FabricAdminProtocol],
  needs: [DataProtocol.name],
  instances: 'leased',
  async start({ system, services, options, profile, clock, log, transport }) {
    const timings = { ...(profile === 'test' ? LEASE_TEST_TIMINGS : LEASE_DEFAULTS), ...options.lease };
    const data = dataClient(waitingDataCall((body) => services.locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), clock));
    const discovery = discoveryOf(services, transport);
    const singleton = runLeasedSingleton({
      lease: 'fabric-admin', owner: `${system.nodeId}/${clock.now()}`, supersede: `${system.nodeId}/`, store: leaseStoreOf(data), timings, clock, log,
      activate: async (fence) => {
        const s = startFabricAdmin(system, { ...options.admin, locator: services.locator, discovery, fence, clock });
        services.publish(FabricAdminProtocol);
        return async () => { services.withdraw(FabricAdminProtocol); await s.stop(); };
      },
    });
    return { handle: { active: () => singleton.active(), activations: () => singleton.activations }, stop: () => singleton.stop() };
  },
};
