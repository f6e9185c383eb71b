import { ConfigError } from '../../src/errors.js';

/**
 * Every timing of host monitoring and HA in one place, with its unit and the reason for its value.
 * `fabricTestConfig()` is the profile of tests and of `--heartbeat-profile test` (about 20-40x faster).
 *
 * How the timings fit together (a compute process that dies, with the default profile):
 * - gossip notices first (src/gossip/config.ts: a crashed member is declared dead in about 3 s) and
 *   the monitor investigates at once; the heartbeat timeout is the second signal, for a host whose
 *   process is alive but whose hypervisor stopped answering;
 * - the host is Down as soon as the investigation says so; its VMs are restarted once it is fenced,
 *   by its agent or, when the agent cannot be reached, by the rule of `fenceWaitMs` below.
 */
export interface FabricMonitorConfig {
  /** Time between an agent's heartbeats, ms. CloudStack's simulator test configs use ping.interval 10 s. */
  heartbeatIntervalMs: number;
  /**
   * A host silent this long is investigated, ms. 2.5 heartbeat intervals, as CloudStack's ping.timeout
   * multiplier (2.5): one lost heartbeat is never enough.
   */
  heartbeatTimeoutMs: number;
  /** How often hosts are checked for silence and HA work is retried, ms. */
  checkIntervalMs: number;
  /** Deadline of the direct ping of an investigation and of a fence command, ms. */
  pingTimeoutMs: number;
  /**
   * Power-state grace period, ms: a VM the database says Running that its host's reports do not list
   * becomes Stopped only after this long (a report produced before the start finished may arrive
   * after it); the same grace applies before a copy the database does not place on a host is stopped.
   * Three heartbeat intervals.
   */
  powerStateGraceMs: number;
  /**
   * The most often one host's reports are reconciled with the database, ms. A report whose running set
   * did not change (and that has no VM in its grace period) is reconciled only every 5 intervals: the
   * reconciliation reads the host's VMs, the heaviest work of a heartbeat (CloudStack 4.20 batched its
   * power-state sync for the same reason).
   */
  powerSyncIntervalMs: number;
  /**
   * How long a compute node that sees no other live member waits before it fences its own hosts
   * (the isolation response; used on compute nodes), ms.
   */
  isolationFenceMs: number;
  /**
   * How long after a host is Down an agent that cannot be reached is taken as fenced, ms, when gossip
   * confirms its node dead. A live but isolated node fences itself after isolationFenceMs, so this
   * must be longer (validated), with room for the two sides noticing the isolation at different times.
   */
  fenceWaitMs: number;
  /** How long a host stays Disconnected (its node left gracefully) before it is investigated, ms. */
  disconnectedWaitMs: number;
  /** After the monitor starts, how long known hosts get to send their first heartbeat, ms. */
  startupGraceMs: number;
  /**
   * Pause before an HA restart that failed (no capacity, say) is tried again, ms. CloudStack waits
   * restart.retry.interval (600 s); a minute is enough for a simulated cloud.
   */
  haRetryIntervalMs: number;
  /** HA restarts tried per VM before HA gives up on it (and says so in an event). */
  haMaxAttempts: number;
  /**
   * Most of the hosts that may be lost at once for the monitor to still declare any of them Down.
   * Losing more at once is more likely the management node's own isolation: they go to Alert and no
   * HA runs. 0.5: a host is Down only while at least half of the others still answer.
   */
  maxLostFraction: number;
  /**
   * How often a pool's capacity and usage are rewritten from its hosts' storage reports, at most, ms.
   * CloudStack's storage.stats.interval is 60 s: the figures move slowly, and each write is a database
   * update per pool.
   */
  poolStatsIntervalMs: number;
  /** Most hosts tracked; heartbeats of more are refused (logged), so memory stays bounded. */
  maxHosts: number;
}

export const FABRIC_MONITOR_DEFAULTS: Readonly<FabricMonitorConfig> = Object.freeze({
  heartbeatIntervalMs: 10_000,
  heartbeatTimeoutMs: 25_000,
  checkIntervalMs: 1_000,
  pingTimeoutMs: 5_000,
  powerStateGraceMs: 30_000,
  powerSyncIntervalMs: 10_000,
  isolationFenceMs: 10_000,
  fenceWaitMs: 30_000,
  disconnectedWaitMs: 60_000,
  startupGraceMs: 30_000,
  haRetryIntervalMs: 60_000,
  haMaxAttempts: 5,
  maxLostFraction: 0.5,
  poolStatsIntervalMs: 60_000,
  maxHosts: 100_000,
});

/** Timings for tests and `--heartbeat-profile test`: a dead host is handled in a few seconds. */
export function fabricTestConfig(): FabricMonitorConfig {
  return {
    ...FABRIC_MONITOR_DEFAULTS,
    heartbeatIntervalMs: 250,
    heartbeatTimeoutMs: 1_500,
    checkIntervalMs: 100,
    pingTimeoutMs: 600,
    powerStateGraceMs: 1_200,
    powerSyncIntervalMs: 300,
    isolationFenceMs: 1_000,
    fenceWaitMs: 3_000,
    disconnectedWaitMs: 2_000,
    startupGraceMs: 3_000,
    haRetryIntervalMs: 1_000,
    poolStatsIntervalMs: 500,
  };
}

/** Merges options over the defaults and refuses contradictions with a message naming the option. */
export function resolveFabricConfig(options: Partial<FabricMonitorConfig> = {}): FabricMonitorConfig {
  const c = { ...FABRIC_MONITOR_DEFAULTS, ...options };
  for (const [k, v] of Object.entries(c)) {
    if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(`fabric monitor option ${k} must be a positive number (got ${String(v)})`);
  }
  if (c.heartbeatTimeoutMs <= c.heartbeatIntervalMs) {
    throw new ConfigError(`fabric monitor option heartbeatTimeoutMs (${c.heartbeatTimeoutMs}) must be longer than heartbeatIntervalMs (${c.heartbeatIntervalMs})`);
  }
  if (c.fenceWaitMs <= c.isolationFenceMs) {
    throw new ConfigError(`fabric monitor option fenceWaitMs (${c.fenceWaitMs}) must be longer than isolationFenceMs (${c.isolationFenceMs}): ` +
      'an isolated host must have fenced itself before its VMs are restarted elsewhere');
  }
  if (c.maxLostFraction > 1) throw new ConfigError(`fabric monitor option maxLostFraction must be at most 1 (got ${c.maxLostFraction})`);
  if (!Number.isInteger(c.haMaxAttempts) || !Number.isInteger(c.maxHosts)) {
    throw new ConfigError('fabric monitor options haMaxAttempts and maxHosts must be whole numbers');
  }
  return c;
}
