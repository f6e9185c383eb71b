import type { StorageReport } from '../compute/protocol.js';
import type { MonitorDeps } from './deps.js';

/**
 * Primary storage capacity from what the hosts measure (CloudStack's GetStorageStatsCommand, here riding
 * on the heartbeat). A KVM host keeps its volumes in its own directory, while the management side books
 * them on the pool of its cluster (or zone), so a pool's figures are built from its hosts' reports:
 *
 *   disksizetotal = the sum of the total bytes of the distinct file systems under its hosts' storage
 *   directories; disksizeused = the sum of their used bytes (what `df` shows as Used).
 *
 * "Distinct" is by the agent's `fsid` (machine id and device): hosts whose directories share one file
 * system (several test hosts on one machine) count it once; hosts on separate machines add up. A shared
 * mount seen by several machines would be counted once per machine: this driver does not share files
 * between hosts, so such a pool is not supported. Only hosts that are Up count, and a pool is written at
 * most every `poolStatsIntervalMs` (CloudStack's storage.stats.interval), and only when its figures
 * changed. Pools no reporting host reaches (the simulator's) keep the figures the admin booked.
 */
export class PoolCapacityBook {
  private readonly reports = new Map<string, { zoneid: string; clusterid: string | undefined; report: StorageReport }>();
  private readonly bookedAt = new Map<string, number>();
  private readonly booking = new Set<string>();

  /** `stateOf`: the host's Status as the monitor knows it, undefined once it is no longer tracked. */
  constructor(private readonly d: MonitorDeps, private readonly stateOf: (hostId: string) => string | undefined) {}

  /** Records an Up host's report and books the pools it reaches when their turn has come. */
  async record(host: { id: string; zoneid: string | undefined; clusterid: string | undefined }, report: StorageReport): Promise<void> {
    if (host.zoneid === undefined) return;
    this.reports.set(host.id, { zoneid: host.zoneid, clusterid: host.clusterid, report });
    const key = `${host.zoneid}/${host.clusterid ?? ''}`;
    const now = this.d.clock.now();
    if (this.booking.has(key) || now - (this.bookedAt.get(key) ?? -Infinity) < this.d.config.poolStatsIntervalMs) return;
    this.booking.add(key);
    this.bookedAt.set(key, now);
    try {
      await this.book(host.zoneid, host.clusterid);
    } catch (err) {
      this.d.log.warn('could not book the primary storage capacity the hosts report; the next heartbeat retries', { error: (err as Error).message });
      this.bookedAt.delete(key);
    } finally {
      this.booking.delete(key);
    }
  }

  private async book(zoneid: string, clusterid: string | undefined): Promise<void> {
    for (const id of [...this.reports.keys()]) if (this.stateOf(id) === undefined) this.reports.delete(id); // removed hosts
    const pools = [
      ...(clusterid === undefined ? [] : (await this.d.data.storage.listPools({ clusterid, pagesize: POOL_PAGE })).items),
      ...(await this.d.data.storage.listPools({ zoneid, scope: 'ZONE', pagesize: POOL_PAGE })).items,
    ];
    for (const pool of pools) {
      const reach = pool.scope === 'ZONE' ? (r: { zoneid: string }) => r.zoneid === pool.zoneid
        : (r: { clusterid: string | undefined }) => r.clusterid !== undefined && r.clusterid === pool.clusterid;
      const { total, used } = sumDistinct([...this.reports].filter(([id, r]) => this.stateOf(id) === 'Up' && reach(r)).map(([, r]) => r.report));
      if (total === 0 || (pool.disksizetotal === total && pool.disksizeused === used)) continue;
      await this.d.data.storage.updatePool(pool.id, { capacitybytes: total, usedbytes: used });
    }
  }
}

/** Pools read per call: one cluster or zone rarely has more than a few. */
const POOL_PAGE = 500;

/** Totals over distinct file systems (the last report of each fsid wins). */
export function sumDistinct(reports: readonly StorageReport[]): { total: number; used: number } {
  const byFs = new Map<string, StorageReport>();
  for (const r of reports) byFs.set(r.fsid, r);
  let total = 0;
  let used = 0;
  for (const r of byFs.values()) { total += r.totalBytes; used += r.usedBytes; }
  return { total, used };
}
