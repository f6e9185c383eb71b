/**
 * The service framework: keeps the desired deployment (in the data service), reconciles it through the
 * launchers, restarts what fails with backoff, stops a crash loop with an alert, and auto-scales
 * stateless components. Several instances may run; one acts, holding the `service-framework` lease
 * (fencing epoch: its writes are refused once another has taken over), and only it publishes the
 * service. A standby that takes over adopts what the launchers report: it launches only what is missing.
 */
import type { ComponentDescriptor } from '../../src/component.js';
import { LEASE_DEFAULTS, LEASE_TEST_TIMINGS, type LeaseTimings } from '../../src/lease.js';
import { runLeasedSingleton } from '../../src/leased-singleton.js';
import { DataProtocol, dataClient, fencedDataClient, leaseStoreOf, waitingDataCall } from '../data/protocol.js';
import { frameworkActor } from './framework-actor.js';
import { startFramework, type Framework } from './framework.js';
import { SERVICE_FRAMEWORK_PATH, ServiceFrameworkProtocol } from './protocol.js';
import { checkRestartOptions, RESTART_DEFAULTS, type RestartOptions } from '../../src/restart-backoff.js';

export interface ServiceFrameworkOptions {
  /** Overrides over the profile's lease timings. */
  readonly lease?: Partial<LeaseTimings>;
  /** Time between reconcile rounds, ms. Default 1,000; 250 in the test profile. */
  readonly roundMs?: number;
  /** Overrides over RESTART_DEFAULTS (backoff and crash-loop detection). */
  readonly restart?: Partial<RestartOptions>;
}

export interface ServiceFrameworkHandle {
  active(): boolean;
  framework(): Framework | undefined;
}

const DATA_TIMEOUT_MS = 10_000;
const LAUNCHER_TIMEOUT_MS = 5_000;

export const serviceFrameworkComponent: ComponentDescriptor<ServiceFrameworkOptions, ServiceFrameworkHandle> = {
  name: 'service-framework',
  summary: 'launches, restarts and scales the other components through the launchers (one acting instance under a lease)',
  provides: [ServiceFrameworkProtocol],
  needs: [DataProtocol.name],
  instances: 'leased',
  async start({ system, services, options, profile, clock, log }) {
    const timings = { ...(profile === 'test' ? LEASE_TEST_TIMINGS : LEASE_DEFAULTS), ...options.lease };
    const restart = checkRestartOptions({ ...RESTART_DEFAULTS, ...options.restart });
    const roundMs = options.roundMs ?? (profile === 'test' ? 250 : 1_000);
    const call = waitingDataCall((body) => services.locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), clock);
    let current: Framework | undefined;
    const singleton = runLeasedSingleton({
      lease: 'service-framework', owner: `${system.nodeId}/${clock.now()}`, supersede: `${system.nodeId}/`,
      store: leaseStoreOf(dataClient(call)), timings, clock, log,
      activate: async (fence) => {
        const framework = startFramework({
          system, services, data: fencedDataClient(call, fence), clock, log, epoch: fence.epoch,
          signals: { figure: (instance, metric) => services.members().find((m) => m.id === instance)?.load[metric] },
        }, { roundMs, launcherTimeoutMs: LAUNCHER_TIMEOUT_MS, restart });
        current = framework;
        system.spawn(SERVICE_FRAMEWORK_PATH, frameworkActor(framework));
        services.publish(ServiceFrameworkProtocol);
        return async () => {
          services.withdraw(ServiceFrameworkProtocol);
          await framework.stop();
          await system.stop(SERVICE_FRAMEWORK_PATH);
          current = undefined;
        };
      },
    });
    return { handle: { active: () => singleton.active(), activations: () => singleton.activations, framework: () => current }, stop: () => singleton.stop() };
  },
};
