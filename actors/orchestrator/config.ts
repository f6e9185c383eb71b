import { ConfigError } from '../../src/errors.js';
import { LEASE_DEFAULTS, LEASE_TEST_TIMINGS, checkLeaseTimings, type LeaseTimings } from '../../src/lease.js';

/**
 * Every default of the orchestrator in one place, with its unit and why. Options given to
 * `orchestratorActor` override these; `orchestratorTestConfig()` is the profile tests use.
 * Cloud-wide settings an operator changes at run time (vm.allocation.algorithm, start.retry) are read
 * from the data service's configuration instead, at most every `configRefreshMs`.
 */
export interface OrchestratorConfig {
  /**
   * Deadline of one job step sent to another component (start a VM on a host, create a volume,
   * implement a network), ms. A step still running then fails with TimeoutError and the job fails
   * cleanly. 60 s: a simulated start takes milliseconds, a real hypervisor seconds.
   */
  stepTimeoutMs: number;
  /** Deadline of one data service call, ms. SQLite answers in microseconds; 15 s only covers a stall. */
  dataTimeoutMs: number;
  /** Interval at which a step sent to another node is resent (same id, deduplicated there), ms. */
  resendIntervalMs: number;
  /** Times a failed compensation is tried before the job gives up on it (and says so), and the pause between tries, ms. */
  compensationAttempts: number;
  compensationBackoffMs: number;
  /**
   * Hosts the planner asks the data service for per attempt; it reserves the first that still has room.
   * 20: enough to spread concurrent deploys, small enough that the query stays cheap on 25,000 hosts.
   */
  hostCandidates: number;
  /**
   * How long a command to a host's compute agent waits for a route to it when the registry has none at
   * the moment (nothing was sent), ms, before the host counts as failed for this attempt. A route can
   * be missing for a moment while gossip settles (a stalled member coming back, a node's keys being
   * read again); 2 s rides that out, and a host really gone costs an attempt only that much more.
   */
  computeRouteWaitMs: number;
  /** Jobs running at once; more wait in order (a VM's jobs also wait for each other). */
  maxConcurrentJobs: number;
  /** Jobs waiting for a slot; one more is refused with ResourceUnavailableError (534) until some finish. */
  maxQueuedJobs: number;
  /**
   * What a restarted orchestrator does with the jobs its previous incarnation left pending: resume them
   * from their journal (true), or undo what they did and fail them with 530 "interrupted" (false).
   */
  resumeOnRestart: boolean;
  /** How long cloud-wide settings (allocation algorithm, start retries) are cached, ms. */
  configRefreshMs: number;
  /**
   * The lease each running job is held under (see LEASE_DEFAULTS for why 10 s / 2 s / 1 s): the time a
   * dead orchestrator's jobs stay still before another instance takes them over, against the stall an
   * orchestrator survives without losing them.
   */
  jobLease: LeaseTimings;
  /**
   * How often every orchestrator looks for pending jobs whose lease ran out, ms. Takeover time is about
   * jobLease.ttlMs + this. 1 s: one indexed query per second per instance.
   */
  takeoverScanMs: number;
  /**
   * A failed job whose compensations cannot reach a component (the data service restarting, say) is
   * left pending and resumed later instead of being completed with resources still held — at most this
   * many times (journal generations), so one that can never be undone still ends. 20.
   */
  maxResumes: number;
  /**
   * Jobs write and command under their lease's fence (true). False only to measure what fencing costs
   * (npm run bench): without it a stalled orchestrator's late writes are no longer refused.
   */
  fenceWrites: boolean;
  /** Most orphaned jobs taken over per scan (the rest wait for the next one), so one scan stays short. */
  takeoverBatch: number;
  /**
   * How often a job waiting for an older job of the same VM held by another instance checks again, ms.
   * Jobs of this instance are woken at once; 100 ms bounds the wait behind another instance's job.
   */
  turnPollMs: number;
}

export const ORCHESTRATOR_DEFAULTS: Readonly<OrchestratorConfig> = Object.freeze({
  stepTimeoutMs: 60_000,
  dataTimeoutMs: 15_000,
  resendIntervalMs: 2_000,
  compensationAttempts: 5,
  compensationBackoffMs: 200,
  hostCandidates: 20,
  computeRouteWaitMs: 2_000,
  maxConcurrentJobs: 1_000,
  maxQueuedJobs: 100_000,
  resumeOnRestart: true,
  configRefreshMs: 5_000,
  jobLease: LEASE_DEFAULTS,
  takeoverScanMs: 1_000,
  takeoverBatch: 100,
  maxResumes: 20,
  fenceWrites: true,
  turnPollMs: 100,
});

/** Short deadlines for tests: a step that hangs fails within about a second. */
export function orchestratorTestConfig(): OrchestratorConfig {
  return { ...ORCHESTRATOR_DEFAULTS, stepTimeoutMs: 1_500, dataTimeoutMs: 5_000, resendIntervalMs: 500,
    compensationBackoffMs: 20, computeRouteWaitMs: 1_000, configRefreshMs: 0, jobLease: LEASE_TEST_TIMINGS, takeoverScanMs: 250, turnPollMs: 20 };
}

/** Merges options over the defaults and refuses nonsense with a message naming the option. */
export function resolveConfig(options: Partial<OrchestratorConfig> = {}): OrchestratorConfig {
  const c = { ...ORCHESTRATOR_DEFAULTS, ...options };
  const positive: (keyof OrchestratorConfig)[] = ['stepTimeoutMs', 'dataTimeoutMs', 'resendIntervalMs', 'compensationAttempts',
    'hostCandidates', 'maxConcurrentJobs', 'maxQueuedJobs', 'takeoverScanMs', 'takeoverBatch', 'turnPollMs', 'maxResumes'];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(`orchestrator option ${k} must be a positive number (got ${String(v)})`);
  }
  if (!(c.compensationBackoffMs >= 0) || !(c.configRefreshMs >= 0) || !(c.computeRouteWaitMs >= 0)) {
    throw new ConfigError('orchestrator options compensationBackoffMs, configRefreshMs and computeRouteWaitMs must be >= 0');
  }
  if (c.resendIntervalMs >= c.stepTimeoutMs) {
    throw new ConfigError(`orchestrator option resendIntervalMs (${c.resendIntervalMs}) must be shorter than stepTimeoutMs (${c.stepTimeoutMs})`);
  }
  checkLeaseTimings(c.jobLease, 'orchestrator option jobLease');
  return c;
}
