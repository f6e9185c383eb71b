import { ConflictError, IllegalStateError, NotFoundError, ResourceUnavailableError } from '../../src/errors.js';
import type { HeartbeatReport } from '../compute/protocol.js';
import { hostEvent, type MonitorDeps } from './deps.js';
import type { DuplicateDetector } from './duplicates.js';
import type { HaWorker } from './ha.js';
import type { HostTable, Tracked } from './host-table.js';
import { classifyProbeError, investigate, witness, type ProbeResult } from './investigation.js';

const GONE: ReadonlySet<string> = new Set(['failed', 'left', 'unknown']);

/**
 * The host Status machine as CloudStack runs it (reference 6.2), driven by heartbeats and by the
 * periodic check: Connecting → Up on the first heartbeat; Up → Alert when an investigation finds the
 * host cut off; Up → Disconnected when its node leaves; → Down when the investigation says so;
 * Down → Connecting → Up when it comes back. A Down host is fenced, then its VMs go to HA.
 */
export class HostLifecycle {
  constructor(private readonly d: MonitorDeps, private readonly table: HostTable, private readonly ha: HaWorker,
    private readonly duplicates: DuplicateDetector) {}

  /** Applies a heartbeat to the Status machine; true when the host was Down (reconcile strictly then). */
  async onHeartbeat(t: Tracked, r: HeartbeatReport): Promise<boolean> {
    const newBoot = t.bootId !== undefined && t.bootId !== r.bootId;
    const wasDown = t.state === 'Down';
    switch (t.state) {
      case 'Removed': return false;
      case 'Down': await this.returnFromDown(t, r); break;
      case 'Creating': await this.transition(t, 'AgentConnected'); await this.up(t, r); break;
      case 'Connecting': await this.up(t, r); break;
      case 'Alert': case 'Disconnected':
        await this.transition(t, 'Ping');
        t.disconnectedAt = undefined;
        if (r.health === 'fenced') await this.unfence(t);
        break;
      default:
        if (r.health === 'fenced') await this.unfence(t);
        await this.d.data.hosts.recordPing(t.id);
    }
    t.bootId = r.bootId;
    return wasDown || newBoot;
  }

  /** The periodic look at one host. `graceEnd`: until then, hosts not heard from yet are not silent. */
  async check(t: Tracked, now: number, graceEnd: number): Promise<void> {
    const c = this.d.config;
    const verdict = this.d.signals?.verdict(t.name);
    const gone = verdict === 'failed' || verdict === 'left';
    const silent = this.silent(t, now, graceEnd);
    try {
      switch (t.state) {
        case 'Up': case 'Connecting':
          if (verdict === 'left' && t.state === 'Up') {
            await this.transition(t, 'ShutdownRequested');
            t.disconnectedAt = now;
          } else if (silent || (t.investigateNow && gone)) await this.investigateHost(t);
          break;
        case 'Alert':
          if ((silent || gone) && (t.investigateNow || now - (t.investigatedAt ?? 0) >= c.heartbeatTimeoutMs)) await this.investigateHost(t);
          break;
        case 'Disconnected':
          t.disconnectedAt ??= now;
          if (now - t.disconnectedAt >= c.disconnectedWaitMs && (silent || gone)) {
            await this.transition(t, 'WaitedTooLong');
            await this.investigateHost(t);
          }
          break;
        case 'Down':
          if (now - (t.haScannedAt ?? 0) >= (t.fenced ? c.haRetryIntervalMs : c.checkIntervalMs)) await this.haForHost(t);
          break;
        default:
      }
    } finally {
      t.investigateNow = false;
    }
  }

  /** Fences `t` when its agent answers, then takes its running VMs through HA (forced deleteHost). */
  async evacuate(t: Tracked, reason: string): Promise<{ restarted: number; stopped: number }> {
    try {
      await this.d.compute(t.name, 'fence', { reason }, this.d.config.pingTimeoutMs);
      t.fenced = true;
    } catch (err) {
      const verdict = this.d.signals?.verdict(t.name);
      if (t.state === 'Up' && (verdict === undefined || !GONE.has(verdict))) {
        throw new ResourceUnavailableError(`cannot fence host ${t.name} (${(err as Error).message}): its VMs may still run; ` +
          'put it in maintenance first, or wait until it is Down', { cause: err });
      }
    }
    let restarted = 0;
    let stopped = 0;
    for (const vm of await this.runningOn(t)) {
      const r = await this.ha.stopAndSchedule(vm, t, `host ${t.name} is being removed (${reason})`);
      if (r === 'restart') restarted++;
      if (r !== 'skipped') stopped++;
    }
    return { restarted, stopped };
  }

  private silent(t: Tracked, now: number, graceEnd: number): boolean {
    const ref = t.lastHeartbeat ?? Math.max(graceEnd - this.d.config.heartbeatTimeoutMs, t.addedAt);
    return now - ref > this.d.config.heartbeatTimeoutMs;
  }

  private lost(t: Tracked, now: number): boolean {
    const v = this.d.signals?.verdict(t.name);
    return v === 'suspect' || v === 'failed' || v === 'left' || (t.lastHeartbeat !== undefined && now - t.lastHeartbeat > this.d.config.heartbeatTimeoutMs);
  }

  private async up(t: Tracked, r: HeartbeatReport): Promise<void> {
    if (r.health === 'fenced' || t.fenced) await this.unfence(t);
    await this.transition(t, 'Ready');
  }

  private async returnFromDown(t: Tracked, r: HeartbeatReport): Promise<void> {
    const runs = Object.values(r.powerStates).some((p) => p === 'PowerOn');
    if (r.bootId === t.downBootId && r.health !== 'fenced' && runs) {
      // The same boot as when it was declared Down: it kept running through a stall or an isolation it
      // did not notice. Whatever it runs may have been restarted elsewhere: power it all off first.
      await this.d.compute(t.name, 'fence', { reason: 'back after it was declared Down' }, this.d.config.pingTimeoutMs);
      t.fenced = true;
      await hostEvent(this.d, 'HA.FENCE', 'WARN', `host ${t.name} came back with the boot it had when it was declared Down; fenced before reconnecting`,
        { type: 'Host', id: t.id });
    }
    await this.transition(t, 'AgentConnected');
    await this.up(t, r);
    t.downAt = undefined;
    t.downBootId = undefined;
    t.haWaitReason = undefined;
  }

  private async unfence(t: Tracked): Promise<void> {
    await this.d.compute(t.name, 'unfence', {}, this.d.config.pingTimeoutMs);
    t.fenced = false;
  }

  private async investigateHost(t: Tracked): Promise<void> {
    this.d.stats.investigations++;
    const probe = await this.probe(t);
    const now = this.d.clock.now();
    const views = this.table.all().map((h) => ({ id: h.id, state: h.state, lost: this.lost(h, now) }));
    const finding = investigate({ probe, verdict: this.d.signals?.verdict(t.name), witness: witness(t.id, views, this.d.config.maxLostFraction) });
    t.investigatedAt = now;
    if (finding.status === 'Down') {
      await this.markDown(t, finding.reason);
    } else if (finding.status === 'Alert' && t.state !== 'Alert') {
      await this.transition(t, 'PingTimeout');
      await hostEvent(this.d, 'HOST.ALERT', 'WARN', `host ${t.name} is Alert: ${finding.reason}`, { type: 'Host', id: t.id });
    }
  }

  private async probe(t: Tracked): Promise<ProbeResult> {
    try {
      await this.d.compute(t.name, 'ping', {}, this.d.config.pingTimeoutMs);
      return 'answered';
    } catch (err) {
      return classifyProbeError(err);
    }
  }

  private async markDown(t: Tracked, reason: string): Promise<void> {
    await this.transition(t, 'HostDown');
    t.downAt = this.d.clock.now();
    t.downBootId = t.bootId;
    t.fenced = false;
    t.missing.clear();
    t.stray.clear();
    this.duplicates.forget(t.id);
    this.d.stats.hostsDown++;
    await hostEvent(this.d, 'HOST.DOWN', 'WARN', `host ${t.name} is Down: ${reason}`, { type: 'Host', id: t.id });
    await this.haForHost(t);
  }

  /** Fences a Down host (or waits, saying why), then takes its running VMs through HA. */
  private async haForHost(t: Tracked): Promise<void> {
    t.haScannedAt = this.d.clock.now();
    if (!t.fenced && !(await this.fence(t))) return;
    for (const vm of await this.runningOn(t)) await this.ha.stopAndSchedule(vm, t, `host ${t.name} is Down and fenced`);
  }

  private async runningOn(t: Tracked) {
    // Every running VM of the host, however many: bounded by what one host holds.
    return this.d.data.vms.all('system', { hostid: t.id, listall: true, state: 'Running' });
  }

  /**
   * Fencing: the agent powers the host's VMs off (the simulator can; a real driver would use
   * out-of-band power control). When the agent cannot be reached, the host counts as fenced only when
   * gossip has its node failed, left or never seen, and fenceWaitMs has passed since it went Down: a
   * process that is really gone took its simulated VMs with it, and one that is alive but isolated has
   * fenced itself by then (isolationFenceMs < fenceWaitMs). Otherwise HA waits and says why.
   */
  private async fence(t: Tracked): Promise<boolean> {
    const c = this.d.config;
    let why: string;
    try {
      const r = await this.d.compute(t.name, 'fence', { reason: 'host is Down: HA restarts its VMs elsewhere' }, c.pingTimeoutMs);
      return this.fenced(t, `host ${t.name} fenced by its agent (${r.stoppedVms.length} VMs powered off)`);
    } catch (err) {
      const verdict = this.d.signals?.verdict(t.name);
      const waited = this.d.clock.now() - (t.downAt ?? this.d.clock.now());
      if (classifyProbeError(err) === 'hypervisor-down') why = `its agent could not fence it: ${(err as Error).message}`;
      else if (verdict === undefined) why = 'its agent cannot be reached and there is no membership to confirm the node is dead';
      else if (!GONE.has(verdict)) why = `its agent does not answer but other members still see its node (${verdict})`;
      else if (waited >= c.fenceWaitMs) {
        return this.fenced(t, `host ${t.name} taken as fenced: its node is ${verdict} by gossip and its agent has not answered for ` +
          `${waited} ms (a live but isolated compute node fences itself after ${c.isolationFenceMs} ms)`);
      } else why = `waiting fenceWaitMs (${c.fenceWaitMs} ms) for an isolated node to have fenced itself`;
    }
    if (t.haWaitReason !== why.replace(/\d+/g, '')) {
      t.haWaitReason = why.replace(/\d+/g, '');
      await hostEvent(this.d, 'HA.FENCE', 'WARN', `HA waits for host ${t.name}: ${why}`, { type: 'Host', id: t.id });
    }
    return false;
  }

  private async fenced(t: Tracked, description: string): Promise<boolean> {
    t.fenced = true;
    t.haWaitReason = undefined;
    this.d.stats.fenced++;
    await hostEvent(this.d, 'HA.FENCE', 'INFO', description, { type: 'Host', id: t.id });
    return true;
  }

  /** Applies a Status event; when the database has moved on (another writer), the table follows it. */
  private async transition(t: Tracked, event: string): Promise<void> {
    try {
      t.state = (await this.d.data.hosts.transition(t.id, event)).state;
    } catch (err) {
      if (!(err instanceof IllegalStateError || err instanceof ConflictError || err instanceof NotFoundError)) throw err;
      if (err instanceof NotFoundError) { t.state = 'Removed'; return; }
      t.state = (await this.d.data.hosts.get(t.id)).state;
      this.d.log.debug('host status changed meanwhile', { host: t.name, event, now: t.state });
    }
  }
}
