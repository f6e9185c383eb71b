/**
 * The compute component: the agents of the hypervisor hosts this node runs (one on a real host; many
 * simulated ones in a lab or a bench), advertised in the registry as `compute/<host>` so that the
 * fabric admin discovers and admits them. Heartbeats go to whichever node acts as fabric monitor. A
 * node cut off from every fabric monitor fences its own hosts (unless the monitor runs in this very
 * process, where a stall stops both alike).
 */
import type { ComponentDescriptor } from '../../src/component.js';
import { NoInstanceError } from '../../src/errors.js';
import { FabricMonitorProtocol } from '../fabric-monitor/protocol.js';
import { COMPUTE_NODE_DEFAULTS, COMPUTE_NODE_TEST_TIMINGS, type ComputeNodeTimings } from './config.js';
import { IsolationWatcher } from './isolation.js';
import type { KvmDriverConfig } from './kvm/kvm-config.js';
import { KvmDriver } from './kvm/kvm-driver.js';
import { ComputeDirectoryProtocol, ComputeProtocol } from './protocol.js';
import { startComputeAgents, type ComputeAgents, type ComputeAgentsOptions, type SimulatedHostConfig } from './start-agents.js';

export interface ComputeComponentOptions {
  /** The hosts this node runs. */
  readonly hosts: readonly SimulatedHostConfig[];
  /** Fence this node's hosts when no fabric monitor is seen for isolationFenceMs. Default true. */
  readonly selfFence?: boolean;
  /** Overrides over the profile's timings. */
  readonly timings?: Partial<ComputeNodeTimings>;
  /** Agent settings (simulator latency, mocks, random source, drivers). */
  readonly agents?: Omit<ComputeAgentsOptions, 'heartbeat'>;
  /** Run the hosts on libvirt (real guests) instead of the simulator. */
  readonly kvm?: KvmDriverConfig;
}

export const computeComponent: ComponentDescriptor<ComputeComponentOptions, ComputeAgents> = {
  name: 'compute',
  summary: 'the hypervisor agents of this node: VM power operations, power-state reports, heartbeats',
  provides: [ComputeDirectoryProtocol],
  needs: [FabricMonitorProtocol.name],
  instances: 'many',
  async start({ system, services, options, profile, log, clock }) {
    const timings = { ...(profile === 'test' ? COMPUTE_NODE_TEST_TIMINGS : COMPUTE_NODE_DEFAULTS), ...options.timings };
    const kvm = options.kvm;
    const agents = await startComputeAgents(system, options.hosts, {
      ...options.agents,
      ...(kvm === undefined ? {} : {
        createDriver: (h) => new KvmDriver({ host: { hostName: h.name, zone: h.zone, pod: h.pod, cluster: h.cluster }, clock, log, config: kvm }),
      }),
      heartbeat: {
        intervalMs: timings.heartbeatIntervalMs,
        send: (r) => {
          try {
            services.locator.ref(FabricMonitorProtocol).tell('heartbeat', r);
          } catch (err) {
            if (!(err instanceof NoInstanceError)) throw err; // no monitor yet: the next beat tries again
          }
        },
      },
    });
    services.publish(ComputeDirectoryProtocol);
    for (const h of options.hosts) services.publish(ComputeProtocol, h.name);
    const isolation = options.selfFence === false ? undefined : new IsolationWatcher({
      clock, log, isolationFenceMs: timings.isolationFenceMs, checkIntervalMs: timings.isolationCheckMs,
      // Only members seen alive count: a suspected one may be gone, and waiting out its suspicion
      // would let this node fence later than the monitor assumes (fenceWaitMs).
      liveOthers: () => services.members().filter((m) => !m.local && m.status === 'alive').length,
      fence: async (reason) => { await Promise.all(agents.hostNames().map((h) => agents.ref(h).ask('fence', { reason }))); },
    });
    isolation?.start();
    log.debug('compute node started', { hosts: options.hosts.length, heartbeatMs: timings.heartbeatIntervalMs });
    return {
      handle: agents,
      stop: async () => {
        isolation?.stop();
        for (const h of agents.hostNames()) services.withdraw(ComputeProtocol, h);
        services.withdraw(ComputeDirectoryProtocol);
        await agents.stop();
      },
    };
  },
};
