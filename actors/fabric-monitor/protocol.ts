import { ask, defineProtocol, tell } from '../../src/protocol.js';
import { t, type Infer } from '../../src/schema.js';
import { HeartbeatReportSchema } from '../compute/protocol.js';

/**
 * The fabric monitor's protocol (service `fabric-monitor`, actor at FABRIC_MONITOR_PATH). Compute
 * agents tell it their heartbeats; it keeps the hosts' Status (Connecting, Up, Alert, Down,
 * Disconnected, Removed) in the database, reconciles VM power states with what hosts report, and runs
 * host HA. The asks are for diagnostics, tests and the bench.
 */

export const FABRIC_MONITOR_SERVICE = 'fabric-monitor';
export const FABRIC_MONITOR_PATH = '/fabric-monitor';

export const TrackedHostSchema = t.object({
  id: t.string(),
  name: t.string(),
  /** Status as the monitor last wrote it. */
  state: t.string(),
  /** Monitor clock ms of the last heartbeat; absent: none since the monitor started. */
  lastHeartbeat: t.optional(t.number()),
  bootId: t.optional(t.string()),
  /** VMs the last heartbeat listed as running. */
  runningVms: t.number(),
  /** True once the host has been fenced (by its agent, or taken as fenced by the dead-node rule). */
  fenced: t.boolean(),
});
export type TrackedHost = Infer<typeof TrackedHostSchema>;

export const FabricMonitorStatsSchema = t.object({
  heartbeats: t.number(),
  /** Heartbeats from hosts the database does not know (not admitted yet, or removed). */
  unknownHeartbeats: t.number(),
  investigations: t.number(),
  hostsDown: t.number(),
  fenced: t.number(),
  haRestarts: t.number(),
  haStops: t.number(),
  /** VMs marked Stopped because their host stopped reporting them. */
  powerOffs: t.number(),
  /** Copies of VMs stopped on a host the database does not place them on. */
  strayStops: t.number(),
  /** Times one VM was seen running on two hosts at once (should stay 0). */
  duplicates: t.number(),
});
export type FabricMonitorStats = Infer<typeof FabricMonitorStatsSchema>;

/** Most tracked hosts in one `hosts` reply (about 150 bytes each: well under a 1 MiB frame). */
export const MAX_TRACKED_PAGE = 1_000;

export const FabricMonitorProtocol = defineProtocol(FABRIC_MONITOR_SERVICE, '1.0', {
  /** One agent heartbeat (PingRoutingCommand): liveness plus the VMs running on the host. */
  heartbeat: tell(HeartbeatReportSchema),
  /**
   * The hosts the monitor tracks, by id, a page at a time (it may track 100,000: one reply must fit a
   * frame): up to `limit` (default and most MAX_TRACKED_PAGE) after id `after`; `next` when there are more.
   */
  hosts: ask(t.object({ after: t.optional(t.string()), limit: t.optional(t.number({ int: true, min: 1, max: 1_000 })) }),
    t.object({ hosts: t.array(TrackedHostSchema, { maxItems: 1_000 }), next: t.optional(t.string()) })),
  /** Counters since the monitor started. */
  stats: ask(t.object({}), FabricMonitorStatsSchema),
  /**
   * Handles a host the admin removes or evacuates by force (deleteHost forced=true): fences it when
   * its agent answers, then stops its VMs in the database and restarts the HA ones elsewhere.
   */
  evacuate: ask(t.object({ hostid: t.string(), reason: t.string({ maxLength: 1024 }) }),
    t.object({ restarted: t.number(), stopped: t.number() })),
});

export type FabricMonitorProtocolType = typeof FabricMonitorProtocol;
