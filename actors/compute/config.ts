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
}

export const COMPUTE_DEFAULTS: Readonly<ComputeConfig> = Object.freeze({
  heartbeatIntervalMs: 10_000,
  latency: Object.freeze({ minMs: 0, maxMs: 5 }),
  maxMockWaitMs: 600_000,
  maxRememberedCommands: 256,
  maxVmsPerHost: 1_000,
  maxMocks: 1_000,
});

/** Short heartbeats and no latency, for tests. */
export function computeTestConfig(): ComputeConfig {
  return { ...COMPUTE_DEFAULTS, heartbeatIntervalMs: 100, latency: { minMs: 0, maxMs: 0 } };
}
