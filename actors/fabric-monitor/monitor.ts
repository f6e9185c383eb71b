import type { TimerHandle } from '../../src/clock.js';
import type { HeartbeatReport } from '../compute/protocol.js';
import { hostEvent, type MonitorDeps } from './deps.js';
import { DuplicateDetector } from './duplicates.js';
import { HaWorker } from './ha.js';
import { HostTable, type Tracked } from './host-table.js';
import { HostLifecycle } from './lifecycle.js';
import { PoolCapacityBook } from './pool-capacity.js';
import { reconcile } from './power-sync.js';
import type { FabricMonitorStats, TrackedHost } from './protocol.js';

/**
 * The fabric monitor's logic, independent of the actor that hosts it: heartbeats in, the host Status
 * machine and power-state reconciliation out, a periodic check that investigates silent hosts and
 * drives HA. One asynchronous step per host at a time (`busy`): a heartbeat arriving meanwhile is
 * kept (the latest one per host) and handled when the step ends. Nothing here blocks the actor's
 * mailbox: handlers record and return, the work runs in the background.
 */
export class FabricMonitor {
  readonly table: HostTable;
  readonly ha: HaWorker;
  private readonly life: HostLifecycle;
  private readonly pools: PoolCapacityBook;
  private readonly duplicates = new DuplicateDetector();
  private readonly pending = new Map<string, HeartbeatReport>();
  /** Heartbeats of hosts not in the table yet, by host uuid, looked up together at the next check. */
  private readonly unknown = new Map<string, HeartbeatReport>();
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private startedAt = 0;
  private refreshedAt = 0;
  private checking = false;
  private stopped = false;

  constructor(private readonly d: MonitorDeps) {
    this.table = new HostTable(d.config.maxHosts);
    this.ha = new HaWorker(d);
    this.life = new HostLifecycle(d, this.table, this.ha, this.duplicates);
    this.pools = new PoolCapacityBook(d, (id) => this.table.get(id)?.state);
  }

  /** Loads the hosts, follows the membership's verdicts and starts the periodic check. */
  async start(): Promise<void> {
    this.startedAt = this.d.clock.now();
    this.unsubscribe = this.d.signals?.onChange((name, verdict) => {
      const t = this.table.named(name);
      if (t !== undefined && verdict !== 'alive') t.investigateNow = true;
    });
    this.timer = this.d.clock.setInterval(() => { void this.check(); }, this.d.config.checkIntervalMs);
    await this.refresh();
  }

  stats(): FabricMonitorStats {
    return this.d.stats;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.unsubscribe?.();
  }

  /** One page of the tracked hosts in id order (see the protocol's `hosts`). */
  hosts(after: string | undefined, limit: number): { hosts: TrackedHost[]; next?: string } {
    const sorted = this.table.all().filter((t) => after === undefined || t.id > after).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = sorted.slice(0, limit).map((t) => {
      const h: TrackedHost = { id: t.id, name: t.name, state: t.state, runningVms: t.running.size, fenced: t.fenced };
      if (t.lastHeartbeat !== undefined) h.lastHeartbeat = t.lastHeartbeat;
      if (t.bootId !== undefined) h.bootId = t.bootId;
      return h;
    });
    return sorted.length > limit ? { hosts: page, next: page[page.length - 1]!.id } : { hosts: page };
  }

  /** A heartbeat: recorded at once (so the silence check sees it), handled in the background. */
  heartbeat(report: HeartbeatReport): void {
    if (this.stopped) return;
    this.d.stats.heartbeats++;
    this.apply(report);
  }

  private apply(report: HeartbeatReport): void {
    const t = (report.hostUuid === undefined ? undefined : this.table.get(report.hostUuid)) ?? this.table.named(report.hostName);
    if (t === undefined) {
      this.d.stats.unknownHeartbeats++;
      this.learn(report);
      return;
    }
    t.lastHeartbeat = this.d.clock.now();
    const running = new Set(Object.keys(report.powerStates).filter((k) => report.powerStates[k] === 'PowerOn'));
    if (t.state !== 'Down' && t.state !== 'Removed') {
      for (const dup of this.duplicates.observe(t.id, running, t.lastHeartbeat)) void this.duplicate(t, dup.vm, dup.other);
    }
    if (t.busy) { this.pending.set(t.id, report); return; }
    void this.handle(t, report, running);
  }

  /** Fences and evacuates a host on the admin's demand (forced deleteHost). */
  async evacuate(hostid: string, reason: string): Promise<{ restarted: number; stopped: number }> {
    let t = this.table.get(hostid);
    if (t === undefined) {
      await this.refresh();
      t = this.table.get(hostid);
    }
    if (t === undefined) return { restarted: 0, stopped: 0 };
    return this.life.evacuate(t, reason);
  }

  private async handle(t: Tracked, report: HeartbeatReport, running: Set<string>): Promise<void> {
    t.busy = true;
    try {
      const wasDown = await this.life.onHeartbeat(t, report);
      const changed = !sameSet(t.running, running);
      t.running = running;
      if (t.state === 'Up' && (wasDown || this.syncDue(t, changed))) {
        t.syncedAt = this.d.clock.now();
        await reconcile(this.d, this.ha, t, running, wasDown);
      }
      if (t.state === 'Up' && report.storage !== undefined) await this.pools.record(t, report.storage);
    } catch (err) {
      this.d.log.warn('heartbeat handling failed; the next one retries', { host: t.name, error: (err as Error).message });
    } finally {
      t.busy = false;
    }
    this.next(t);
  }

  /** Reconcile at most every powerSyncIntervalMs; an unchanged report with nothing in its grace period only every 5. */
  private syncDue(t: Tracked, changed: boolean): boolean {
    if (t.syncedAt === undefined) return true;
    const since = this.d.clock.now() - t.syncedAt;
    const every = this.d.config.powerSyncIntervalMs;
    return since >= every && (changed || t.missing.size > 0 || t.stray.size > 0 || since >= 5 * every);
  }

  /** Handles the heartbeat that arrived while `t` was busy, if any. */
  private next(t: Tracked): void {
    const report = this.pending.get(t.id);
    if (report === undefined || this.stopped) return;
    this.pending.delete(t.id);
    void this.handle(t, report, new Set(Object.keys(report.powerStates).filter((k) => report.powerStates[k] === 'PowerOn')));
  }

  /**
   * A heartbeat from a host not in the table: it may have been admitted since the last refresh. Its
   * uuid (given to the agent at admission) is looked up at the next check, with the others that
   * arrived meanwhile: one read of those hosts, not of the whole table (5,000 hosts being admitted
   * would otherwise reread every host every second). A report without a uuid is from a host not
   * admitted yet; its next heartbeat after admission carries one.
   */
  private learn(report: HeartbeatReport): void {
    if (report.hostUuid === undefined || this.unknown.size >= this.d.config.maxHosts) return;
    this.unknown.set(report.hostUuid, report);
  }

  private async lookUpUnknown(): Promise<void> {
    if (this.unknown.size === 0) return;
    const reports = [...this.unknown.values()];
    this.unknown.clear();
    // Bounded by the table's room (maxHosts); read chunk by chunk.
    const rows = await this.d.data.hosts.all({ type: 'Routing', ids: reports.map((r) => r.hostUuid!) });
    const now = this.d.clock.now();
    for (const r of rows) this.table.upsert(r, now);
    for (const report of reports) {
      const t = this.table.get(report.hostUuid!);
      if (t !== undefined && !t.busy) this.apply(report);
    }
  }

  private async refresh(): Promise<void> {
    this.refreshedAt = this.d.clock.now();
    // Every routing host, read chunk by chunk; bounded by maxHosts in the table (and maxAllRows).
    const rows = await this.d.data.hosts.all({ type: 'Routing' });
    this.table.sync(rows, this.d.clock.now());
  }

  /** The periodic check: refresh now and then, look at every idle host, advance HA. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const now = this.d.clock.now();
      if (now - this.refreshedAt >= this.d.config.heartbeatIntervalMs) await this.refresh();
      await this.lookUpUnknown();
      const graceEnd = this.startedAt + Math.max(this.d.config.startupGraceMs, this.d.config.heartbeatTimeoutMs);
      await Promise.all(this.table.all().filter((t) => !t.busy).map(async (t) => {
        t.busy = true;
        try {
          await this.life.check(t, now, graceEnd);
        } catch (err) {
          this.d.log.warn('host check failed; retried at the next check', { host: t.name, error: (err as Error).message });
        } finally {
          t.busy = false;
        }
        this.next(t);
      }));
      await this.ha.tick();
    } catch (err) {
      this.d.log.warn('fabric check failed', { error: (err as Error).message });
    } finally {
      this.checking = false;
    }
  }

  private async duplicate(t: Tracked, vm: string, otherId: string): Promise<void> {
    this.d.stats.duplicates++;
    const other = this.table.get(otherId)?.name ?? otherId;
    await hostEvent(this.d, 'VM.DUPLICATE', 'ERROR', `VM ${vm} is reported running on hosts ${t.name} and ${other} at once`,
      { type: 'VirtualMachine', id: vm });
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
