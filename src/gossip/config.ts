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
  /** Refutations and death verdicts are also sent at once, directly, to this many random members (besides gossip). */
  urgentFanout: number;
  /** Budget in bytes (JSON-estimated) for the updates piggybacked on one message. */
  maxPiggybackBytes: number;
  /** Most updates in one message (enforced on receive too). */
  maxUpdatesPerMessage: number;
  /** Most updates waiting in the broadcast queue; the most-transmitted are dropped first. */
  maxBroadcastQueue: number;
  /** Full-state exchange period with one random member; scaled up with N above 32 members (memberlist's pushPullScale). */
  pushPullInterval: number;
  /** Dead and left members are forgotten after this long (until then a dead one may come back). */
  deadRetention: number;
  /** Every this often, a full-state exchange is tried with one member recorded dead, so that partitions heal. */
  reconnectInterval: number;
  /** Most members tracked (and accepted in one push-pull); bounds the gossip state size. */
  maxMembers: number;
  /** Budget in bytes (JSON-estimated) of one push-pull state; keep it under the transport's frame limit. */
  maxStateBytes: number;
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
    suspicionConfirmations: 2, suspicionFloor: 0, verifyBeforeDead: false, verifyRetries: 0, urgentFanout: 0,
    gossipInterval: 200, gossipNodes: 3, retransmitMult: 4, pushPullInterval: 30_000, gossipToTheDeadTime: 30_000,
  };
}

/**
 * The defaults, and why they differ from memberlist's LAN profile.
 *
 * A crash is declared after (a) the wait until some member probes the crashed one — exponential with
 * mean probeInterval, because N probers each pick it once per N periods —, (b) one probe round, (c)
 * the suspicion window, (d) the verification round, and (e) the spread of the verdict. memberlist's
 * window alone is 4 × log10(1000) × 1 s = 12 s at N = 1,000 (72 s before confirmations arrive).
 *
 * The window cannot simply be cut: a healthy node that stops answering for 2 s (a GC pause, a stalled
 * event loop) looks exactly like a crashed one for those 2 s, and with many probers it collects
 * independent confirmations just as fast as a dead one. Worse, with message loss a suspicion can be
 * raised just before the pause starts (a lost ack), so the clock starts before the pause does. So:
 *
 * - The pause tolerance fixes (c) + (d): suspicionFloor (1.8 s) + the verification round (one
 *   probeInterval, 0.3 s) = 2.1 s from the first suspicion to the earliest verdict, which outlasts a
 *   2 s pause even when the suspicion came up to 0.1 s before it. suspicionMult 2 keeps memberlist's log10 N rule, equal
 *   to the floor at N = 1,000 and longer above, where gossip takes longer to spread a refutation.
 * - verifyBeforeDead: the member whose window expires probes the suspect once more, directly and
 *   through helpers, carrying the suspicion (buddy rule) so that a live one refutes at once; a failed
 *   round whose helpers' nacks went missing is repeated (verifyRetries). This asks the suspect itself
 *   instead of hoping its refutation arrived by gossip, and is what keeps false deaths at zero at
 *   10 % loss with a short window.
 * - The accused is told directly when a probe fails (and again when it is still accused at an
 *   incarnation it already refuted), so a refutation takes one round trip, not a gossip spread.
 * - Everything else is made short, since only (a), (b) and (e) are left: probeInterval 300 ms
 *   (probeTimeout 120 ms is still ~100 LAN round trips, and local health stretches both on a slow
 *   node), gossipInterval 100 ms, and verdicts and refutations also go straight to urgentFanout members.
 * - indirectChecks 4: on a lossy network a healthy member is suspected only when all 4 relayed paths
 *   fail too (~1 % of probes at 10 % loss instead of ~4 % with 3).
 * - suspicionConfirmations 2, suspicionMaxTimeoutMult 3: a lone suspicion (a lossy link, a slow
 *   prober) gets 3× the window; two independent probers, which arrive within about a second at any N,
 *   bring it to the floor.
 *
 * Measured by bench/gossip.ts on the simulator: crash-to-dead p50 2.7 s and p99 3.3 s per member at
 * N = 1,000 (memberlist's LAN timing: 14.3 s); no false death in 30 simulated minutes at N = 20 and
 * 200 with 0 % and 10 % loss and one node pausing 2 s in every 10 s. At 20 % loss there was one
 * (N = 20: lost packets raised a suspicion 0.16 s before a pause, beyond the 0.1 s margin); raising
 * suspicionFloor buys margin at the same cost in detection time. The price is message load: about
 * 6.7 messages per member per second at rest instead of memberlist's ~2, flat in N.
 */
export function defaultConfig(): GossipConfig {
  return {
    cluster: 'cloudstackd',
    probeInterval: 300,
    probeTimeout: 120,
    indirectChecks: 4,
    suspicionMult: 2,
    suspicionMaxTimeoutMult: 3,
    suspicionConfirmations: 2,
    suspicionFloor: 1800,
    verifyBeforeDead: true,
    verifyRetries: 1,
    awarenessMaxMultiplier: 8,
    stallThreshold: 100,
    gossipInterval: 100,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    retransmitMult: 4,
    urgentFanout: 6,
    maxPiggybackBytes: 4096,
    maxUpdatesPerMessage: 64,
    maxBroadcastQueue: 4096,
    pushPullInterval: 30_000,
    deadRetention: 10 * 60_000,
    reconnectInterval: 10_000,
    maxMembers: 10_000,
    maxStateBytes: 768 * 1024,
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
    probeInterval: 60, probeTimeout: 24, suspicionFloor: 360, stallThreshold: 40, gossipInterval: 20,
    gossipToTheDeadTime: 6000, pushPullInterval: 6000, deadRetention: 120_000, reconnectInterval: 2000, joinRetryInterval: 200,
    joinTimeout: 2000, leaveDrainTime: 200,
  };
}

const POSITIVE: (keyof GossipConfig)[] = [
  'probeInterval', 'probeTimeout', 'suspicionMult', 'suspicionMaxTimeoutMult', 'awarenessMaxMultiplier',
  'stallThreshold', 'gossipInterval', 'gossipNodes', 'retransmitMult', 'maxPiggybackBytes', 'maxUpdatesPerMessage',
  'maxBroadcastQueue', 'pushPullInterval', 'deadRetention', 'reconnectInterval', 'maxMembers', 'maxStateBytes', 'maxMetadataBytes', 'maxStringLength',
  'maxMetaEntries', 'maxPendingProbes', 'joinRetryInterval', 'joinTimeout',
];
const NON_NEGATIVE: (keyof GossipConfig)[] = [
  'indirectChecks', 'suspicionConfirmations', 'suspicionFloor', 'verifyRetries', 'gossipToTheDeadTime', 'urgentFanout', 'leaveDrainTime',
];
const INTEGER: (keyof GossipConfig)[] = [
  'indirectChecks', 'suspicionConfirmations', 'verifyRetries', 'awarenessMaxMultiplier', 'gossipNodes', 'urgentFanout',
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
  if (cfg.maxStateBytes < cfg.maxMetadataBytes + 256) bad('maxStateBytes', `(${cfg.maxStateBytes}) must leave room for at least this node's own metadata (maxMetadataBytes ${cfg.maxMetadataBytes})`);
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
