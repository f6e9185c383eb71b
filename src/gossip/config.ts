import { ConfigError } from '../errors.js';

/**
 * Every gossip timing and limit, in one place (times in milliseconds). The defaults start from
 * hashicorp/memberlist's LAN profile (memberlistLanConfig() below reproduces it exactly) and change
 * what has to change to detect a crash fast at 1,000 nodes without ever declaring a healthy node
 * dead; see defaultConfig() for the reasoning.
 */
export interface GossipConfig {
  /** Cluster name label carried by every message; messages from another cluster are dropped. */
  cluster: string;
  /** Period between two probes (one member probed per period). Stretched by local health. */
  probeInterval: number;
  /** How long a direct ping waits for its ack before indirect probes start. Stretched by local health. */
  probeTimeout: number;
  /** Members asked to probe indirectly when the direct ping times out (they nack when they fail). */
  indirectChecks: number;
  /** Minimum suspicion window = suspicionMult × max(1, log10 N) × probeInterval (memberlist's rule). */
  suspicionMult: number;
  /** Maximum suspicion window (no confirmation yet) = this × the minimum window. */
  suspicionMaxTimeoutMult: number;
  /** Independent confirmations that shrink the window from its maximum to its minimum (Lifeguard k). */
  suspicionConfirmations: number;
  /** Floor of the minimum suspicion window whatever N is (the pause-tolerance floor, see defaultConfig). */
  suspicionFloor: number;
  /** Probe a member once more (directly and indirectly) when its suspicion expires, before declaring it dead. */
  verifyBeforeDead: boolean;
  /** Extra verification rounds when a failed one lacked helpers' nacks (the loss may be on this node's side). */
  verifyRetries: number;
  /** Local health score ceiling: timeouts are multiplied by (score + 1), score in [0, this − 1]. */
  awarenessMaxMultiplier: number;
  /** A timer firing later than this means this node was stalled: its own probe results are discarded. */
  stallThreshold: number;
  /** Period between two gossip rounds (only sent when there is something to say). */
  gossipInterval: number;
  /** Members each gossip round sends to. */
  gossipNodes: number;
  /** Dead members keep receiving gossip this long, so a wrongly declared one learns it and refutes. */
  gossipToTheDeadTime: number;
  /** Each update is sent retransmitMult × ceil(log10(N + 1)) times. */
  retransmitMult: number;
  /** When refuting a suspicion about itself, a node also sends its alive message directly to this many random members. */
  refuteFanout: number;
  /** Budget in bytes (JSON-estimated) for the updates piggybacked on one message. */
  maxPiggybackBytes: number;
  /** Most updates in one message (enforced on receive too). */
  maxUpdatesPerMessage: number;
  /** Most updates waiting in the broadcast queue; the most-transmitted are dropped first. */
  maxBroadcastQueue: number;
  /** Full-state exchange period with one random member; scaled up with N above 32 members (memberlist's pushPullScale). */
  pushPullInterval: number;
  /** Dead and left members are forgotten after this long. */
  deadRetention: number;
  /** Most members tracked (and accepted in one push-pull); bounds the gossip state size. */
  maxMembers: number;
  /** Largest metadata (JSON-estimated bytes) a member may advertise; larger updates are dropped. */
  maxMetadataBytes: number;
  /** Longest node id, role, address, service name or version string accepted. */
  maxStringLength: number;
  /** Most entries in one metadata list (roles, addresses, services, load figures). */
  maxMetaEntries: number;
  /** Most probes in flight at once, own and relayed for others (relay requests beyond it are ignored). */
  maxPendingProbes: number;
  /** While a node knows no other member, it re-contacts its seeds this often. */
  joinRetryInterval: number;
  /** join() rejects with a TimeoutError when no seed answered within this long (retries go on meanwhile). */
  joinTimeout: number;
  /** After leave(), the node keeps gossiping this long so that its "left" message spreads, then stops. */
  leaveDrainTime: number;
}

/** hashicorp/memberlist DefaultLANConfig(), for comparison (its suspicion window is 12–72 s at N = 1,000). */
export function memberlistLanConfig(): GossipConfig {
  return {
    ...defaultConfig(),
    probeInterval: 1000, probeTimeout: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxTimeoutMult: 6,
    suspicionConfirmations: 2, suspicionFloor: 0, verifyBeforeDead: false, verifyRetries: 0, refuteFanout: 0,
    gossipInterval: 200, gossipNodes: 3, retransmitMult: 4, pushPullInterval: 30_000, gossipToTheDeadTime: 30_000,
  };
}

/**
 * The defaults. What differs from memberlist's LAN profile and why (figures from bench/gossip.ts):
 *
 * A crash is detected after (a) the time until someone probes the crashed member — exponential with
 * mean probeInterval, because N probers each pick it once per N periods —, (b) one probe round, (c)
 * the suspicion window, and (d) spreading the verdict. memberlist's window alone, 4 × log10(1000) ×
 * 1 s = 12 s (72 s without confirmations), misses a 3 s target by itself. But the window cannot
 * simply be cut: a healthy node that stops answering for 2 s (a GC pause, a stalled event loop) looks
 * exactly like a crashed one for those 2 s, and with many probers it collects confirmations just as
 * fast. So the design fixes the floor by the pause it must survive and removes every other delay:
 *
 * - suspicionFloor + a probe round before it + the verification round after it exceed the 2 s pause
 *   (the first suspicion can come one probe round into the pause; the verification probe reaches the
 *   node as it wakes up). The log10 N term is kept (suspicionMult = 1) for clusters far above 1,000.
 * - verifyBeforeDead: the node whose suspicion expires probes the member once more, directly and
 *   through indirectChecks helpers, carrying the suspicion (buddy rule) so that it refutes at once.
 *   This replaces "hope the refutation reached me by gossip" by asking the member itself, which is
 *   what keeps false "dead" verdicts at zero under 10–20 % message loss with a short window.
 * - probeInterval 500 ms halves (a) and (b); probeTimeout 200 ms is still 100× a LAN round trip and
 *   is stretched by local health on a slow node. indirectChecks 4 makes a lossy path less likely to
 *   fail every route at once.
 * - gossipInterval 100 ms halves (d); gossip is only sent when there is an update to carry.
 * - suspicionConfirmations 2 and suspicionMaxTimeoutMult 3: one lone suspicion (a lossy link, a slow
 *   prober) waits 3× the floor; a second independent prober, which arrives within about a second
 *   at any N, brings it to the floor.
 * - refuteFanout 6: a refutation is also sent directly to a few members so that it overtakes the
 *   suspicion it answers.
 * Message load stays flat in N: one probe per member per period, gossip fanout fixed.
 */
export function defaultConfig(): GossipConfig {
  return {
    cluster: 'cloudstackd',
    probeInterval: 500,
    probeTimeout: 200,
    indirectChecks: 4,
    suspicionMult: 1,
    suspicionMaxTimeoutMult: 3,
    suspicionConfirmations: 2,
    suspicionFloor: 1250,
    verifyBeforeDead: true,
    verifyRetries: 1,
    awarenessMaxMultiplier: 8,
    stallThreshold: 100,
    gossipInterval: 100,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    retransmitMult: 4,
    refuteFanout: 6,
    maxPiggybackBytes: 4096,
    maxUpdatesPerMessage: 64,
    maxBroadcastQueue: 4096,
    pushPullInterval: 30_000,
    deadRetention: 60_000,
    maxMembers: 10_000,
    maxMetadataBytes: 4096,
    maxStringLength: 256,
    maxMetaEntries: 128,
    maxPendingProbes: 1024,
    joinRetryInterval: 1000,
    joinTimeout: 10_000,
    leaveDrainTime: 1000,
  };
}

/** Timers about 5× shorter than the defaults, for tests on real clocks. */
export function testConfig(): GossipConfig {
  const d = defaultConfig();
  return {
    ...d,
    probeInterval: 100, probeTimeout: 40, suspicionFloor: 250, stallThreshold: 30, gossipInterval: 20,
    gossipToTheDeadTime: 6000, pushPullInterval: 6000, deadRetention: 12_000, joinRetryInterval: 200,
    joinTimeout: 2000, leaveDrainTime: 200,
  };
}

const POSITIVE: (keyof GossipConfig)[] = [
  'probeInterval', 'probeTimeout', 'suspicionMult', 'suspicionMaxTimeoutMult', 'awarenessMaxMultiplier',
  'stallThreshold', 'gossipInterval', 'gossipNodes', 'retransmitMult', 'maxPiggybackBytes', 'maxUpdatesPerMessage',
  'maxBroadcastQueue', 'pushPullInterval', 'deadRetention', 'maxMembers', 'maxMetadataBytes', 'maxStringLength',
  'maxMetaEntries', 'maxPendingProbes', 'joinRetryInterval', 'joinTimeout',
];
const NON_NEGATIVE: (keyof GossipConfig)[] = [
  'indirectChecks', 'suspicionConfirmations', 'suspicionFloor', 'verifyRetries', 'gossipToTheDeadTime', 'refuteFanout', 'leaveDrainTime',
];
const INTEGER: (keyof GossipConfig)[] = [
  'indirectChecks', 'suspicionConfirmations', 'verifyRetries', 'awarenessMaxMultiplier', 'gossipNodes', 'refuteFanout',
  'maxUpdatesPerMessage', 'maxBroadcastQueue', 'maxMembers', 'maxMetaEntries', 'maxPendingProbes',
];

/** Defaults overlaid with `overrides`, validated once; contradictory options throw a ConfigError naming them. */
export function resolveConfig(overrides: Partial<GossipConfig> = {}, base: GossipConfig = defaultConfig()): GossipConfig {
  const cfg: GossipConfig = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  const bad = (name: string, why: string): never => {
    throw new ConfigError(`gossip option ${name} ${why}`, { details: { option: name } });
  };
  for (const k of POSITIVE) if (!(typeof cfg[k] === 'number' && Number.isFinite(cfg[k]) && cfg[k] > 0)) bad(k, 'must be a positive number');
  for (const k of NON_NEGATIVE) if (!(typeof cfg[k] === 'number' && Number.isFinite(cfg[k]) && cfg[k] >= 0)) bad(k, 'must be a number ≥ 0');
  for (const k of INTEGER) if (!Number.isInteger(cfg[k])) bad(k, 'must be an integer');
  if (typeof cfg.cluster !== 'string' || cfg.cluster.length === 0 || cfg.cluster.length > cfg.maxStringLength) {
    bad('cluster', `must be a non-empty string of at most maxStringLength (${cfg.maxStringLength}) characters`);
  }
  if (cfg.probeTimeout >= cfg.probeInterval) bad('probeTimeout', `(${cfg.probeTimeout} ms) must be shorter than probeInterval (${cfg.probeInterval} ms): indirect probes need the rest of the period`);
  if (cfg.suspicionMaxTimeoutMult < 1) bad('suspicionMaxTimeoutMult', 'must be ≥ 1');
  if (cfg.maxPiggybackBytes < 256) bad('maxPiggybackBytes', 'must be at least 256 bytes to carry one update');
  if (cfg.maxMetadataBytes > cfg.maxPiggybackBytes) bad('maxMetadataBytes', `(${cfg.maxMetadataBytes}) must not exceed maxPiggybackBytes (${cfg.maxPiggybackBytes}), or an alive update could never be sent`);
  if (typeof cfg.verifyBeforeDead !== 'boolean') bad('verifyBeforeDead', 'must be a boolean');
  return cfg;
}

/** Minimum and maximum suspicion windows for a cluster of `n` live members. */
export function suspicionTimeouts(cfg: GossipConfig, n: number): { min: number; max: number } {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  const min = Math.max(cfg.suspicionFloor, cfg.suspicionMult * scale * cfg.probeInterval);
  return { min, max: cfg.suspicionMaxTimeoutMult * min };
}

/** How many times each update is sent in a cluster of `n` live members. */
export function retransmitLimit(cfg: GossipConfig, n: number): number {
  return cfg.retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** Push-pull period for `n` live members: longer as the cluster grows, since each exchange carries all of it. */
export function pushPullInterval(cfg: GossipConfig, n: number): number {
  const threshold = 32;
  if (n <= threshold) return cfg.pushPullInterval;
  const mult = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return cfg.pushPullInterval * mult;
}
