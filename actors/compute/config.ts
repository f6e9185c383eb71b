/**
 * Every default of the compute component in one place, with its unit and the reason for its value.
 * Options given to the factories override these; `computeTestConfig()` is the profile tests use.
 */
export interface ComputeConfig {
  /** Time between an agent's heartbeats, ms. 10 s as CloudStack's simulator test configs (ping.interval=10). */
  heartbeatIntervalMs: number;
  /** Time a simulated VM operation takes, ms, drawn uniformly in [minMs, maxMs]. Small, so a lab is quick. */
  latency: { minMs: number; maxMs: number };
  /** Longest simulator `wait:<ms>` honoured, ms: a typo in a mock cannot hang an agent for days. */
  maxMockWaitMs: number;
  /** Idempotency keys remembered per host: covers the orchestrator's retries of recent steps. */
  maxRememberedCommands: number;
  /** Most VMs one simulated host holds in any state (the simulator enforces no CPU/RAM capacity). */
  maxVmsPerHost: number;
  /** Most simulator mocks installed at once. */
  maxMocks: number;
  /** VMs per host whose highest command epoch is remembered for fencing: more than a host runs. */
  maxFencedVms: number;
  /** VM commands a host runs at once: 5, as CloudStack's agent (agent.properties `workers=5`). */
  maxConcurrentCommands: number;
  /** VM commands that may wait for one of those slots; past it a command is refused (retryable). */
  maxWaitingCommands: number;
}

export const COMPUTE_DEFAULTS: Readonly<ComputeConfig> = Object.freeze({
  heartbeatIntervalMs: 10_000,
  latency: Object.freeze({ minMs: 0, maxMs: 5 }),
  maxMockWaitMs: 600_000,
  maxRememberedCommands: 256,
  maxVmsPerHost: 1_000,
  maxMocks: 1_000,
  maxFencedVms: 10_000,
  maxConcurrentCommands: 5,
  maxWaitingCommands: 1_000,
});

/** Short heartbeats and no latency, for tests. */
export function computeTestConfig(): ComputeConfig {
  return { ...COMPUTE_DEFAULTS, heartbeatIntervalMs: 100, latency: { minMs: 0, maxMs: 0 } };
}

/**
 * How a compute node keeps in touch with the fabric monitor. They must agree with the monitor's own
 * profile (its heartbeat timeout is a few intervals; its fenceWaitMs is longer than isolationFenceMs,
 * so a VM is restarted elsewhere only after an isolated node has powered it off).
 */
export interface ComputeNodeTimings {
  /** Time between heartbeats, ms. 10 s, as CloudStack's simulator test configs (ping.interval=10). */
  heartbeatIntervalMs: number;
  /** How long a node that sees no fabric monitor waits before fencing its own hosts, ms. 10 s. */
  isolationFenceMs: number;
  /** How often the node looks for isolation, ms. 1 s. */
  isolationCheckMs: number;
}

export const COMPUTE_NODE_DEFAULTS: Readonly<ComputeNodeTimings> = Object.freeze({
  heartbeatIntervalMs: 10_000, isolationFenceMs: 10_000, isolationCheckMs: 1_000,
});

/** The test profile: as the fabric monitor's test profile (heartbeats every 250 ms, isolation after 1 s). */
export const COMPUTE_NODE_TEST_TIMINGS: Readonly<ComputeNodeTimings> = Object.freeze({
  heartbeatIntervalMs: 250, isolationFenceMs: 1_000, isolationCheckMs: 100,
});
