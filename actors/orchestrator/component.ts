/**
 * The orchestration engine: every asynchronous command as a durable, resumable job. Any number of
 * instances share the work: each job is held under a lease by one of them, jobs of one VM run one at a
 * time across all of them, and the jobs of a lost instance are taken over by the others.
 */
import type { ComponentDescriptor, TimingProfile } from '../../src/component.js';
import type { Random } from '../../src/random.js';
import { COMPUTE_SERVICE } from '../compute/protocol.js';
import { DataProtocol } from '../data/protocol.js';
import { ORCHESTRATOR_DEFAULTS, orchestratorTestConfig, type OrchestratorConfig } from './config.js';
import { OrchestratorProtocol } from './protocol.js';
import { startOrchestrator, type StartedOrchestrator } from './start.js';

export interface OrchestratorComponentOptions {
  /** Overrides over the profile's timings. */
  readonly config?: Partial<OrchestratorConfig>;
  /** Host shuffling and passwords. Default OS-seeded. */
  readonly random?: Random;
}

/**
 * The orchestrator's timings of a profile. `test` has the short leases and scans of the test profile,
 * but step deadlines of 10 s, not orchestratorTestConfig's 1.5 s: it is the profile of whole clouds in
 * child processes on a loaded machine, where 30 deploys queue at the storage component for seconds.
 */
export function orchestratorProfile(profile: TimingProfile): OrchestratorConfig {
  return profile === 'test'
    ? { ...orchestratorTestConfig(), stepTimeoutMs: 10_000, resendIntervalMs: 1_000, configRefreshMs: 1_000 }
    : { ...ORCHESTRATOR_DEFAULTS };
}

export const orchestratorComponent: ComponentDescriptor<OrchestratorComponentOptions, StartedOrchestrator> = {
  name: 'orchestrator',
  summary: 'async jobs (deploy, start, stop, migrate, volumes, networks, HA restarts) under leases with fencing',
  provides: [OrchestratorProtocol],
  needs: [DataProtocol.name],
  instances: 'many',
  async start({ system, services, options, profile }) {
    const config = { ...orchestratorProfile(profile), ...options.config };
    // Jobs route to compute/<host>: resolve the hosts (advertised as a keyed service) before the first job needs one.
    services.registry.followKeys(COMPUTE_SERVICE);
    const s = await startOrchestrator(system, { locator: services.locator, config,
      ...(options.random === undefined ? {} : { random: options.random }) });
    services.publish(OrchestratorProtocol);
    return { handle: s, stop: async () => { services.withdraw(OrchestratorProtocol); await s.stop(); } };
  },
};
