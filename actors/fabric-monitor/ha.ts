import { ConflictError, IllegalStateError } from '../../src/errors.js';
import type { DataApi } from '../data/protocol.js';
import { findVm, hostEvent, type MonitorDeps } from './deps.js';

type Vm = Awaited<ReturnType<DataApi['vms']['get']>>;

interface HaWork {
  vmid: string;
  name: string;
  /** The host the VM was lost with (for events). */
  fromHost: string;
  attempts: number;
  /** The orchestrator job of the current attempt. */
  job: string | undefined;
  nextAt: number;
}

/**
 * VM HA: a VM lost with its host (or found stopped by its host's power reports) is marked Stopped in
 * the database — the host is fenced or the VM is reported off, so nothing runs it — and, when its
 * service offering has HA, restarted through the orchestrator's normal start path (a startVm job,
 * whose planner only considers Up and Enabled hosts, so the lost host is never chosen while it is
 * Down). A failed restart (no capacity, say) is retried after haRetryIntervalMs, up to haMaxAttempts.
 */
export class HaWorker {
  private readonly work = new Map<string, HaWork>();
  private ticking = false;

  constructor(private readonly d: MonitorDeps) {}

  /** VMs waiting to be restarted or whose restart job is running. */
  pending(): number {
    return this.work.size;
  }

  /**
   * Marks `vm` Stopped (compare-and-set on Running, so a job that moved it meanwhile wins) and schedules
   * its restart when it has HA. Returns what it did.
   */
  async stopAndSchedule(vm: Vm, host: { id: string; name: string }, why: string): Promise<'restart' | 'stopped' | 'skipped'> {
    try {
      await this.d.data.vmOps.transition('system', vm.id, 'FollowAgentPowerOffReport', { expect: 'Running',
        event: { type: 'VM.STOP', level: 'WARN', description: `VM ${vm.name} marked Stopped: ${why}` } });
    } catch (err) {
      if (err instanceof ConflictError || err instanceof IllegalStateError) return 'skipped';
      throw err;
    }
    this.d.stats.haStops++;
    if (!vm.haenable) return 'stopped';
    this.schedule(vm.id, vm.name, host.name);
    return 'restart';
  }

  /** Schedules the restart of a Stopped VM (once per VM). */
  schedule(vmid: string, name: string, fromHost: string): void {
    if (this.work.has(vmid)) return;
    this.work.set(vmid, { vmid, name, fromHost, attempts: 0, job: undefined, nextAt: this.d.clock.now() });
  }

  /** Advances every item that is due: submits its start job, or follows the job it has. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.d.clock.now();
      for (const w of [...this.work.values()]) {
        if (w.nextAt > now) continue;
        try {
          if (w.job === undefined) await this.submit(w);
          else await this.follow(w);
        } catch (err) {
          this.d.log.warn('HA step failed; it is retried', { vm: w.vmid, error: (err as Error).message });
          w.nextAt = this.d.clock.now() + this.d.config.haRetryIntervalMs;
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private async submit(w: HaWork): Promise<void> {
    const vm = await findVm(this.d.data, w.vmid);
    if (vm === undefined || vm.state !== 'Stopped') {
      // Someone started, destroyed or expunged it meanwhile: nothing left to do.
      this.work.delete(w.vmid);
      return;
    }
    const caller = await this.d.haCaller();
    const reply = await this.d.submit({ op: 'startVm', caller, vmid: w.vmid });
    w.job = reply.jobid;
    w.attempts++;
    w.nextAt = this.d.clock.now() + this.d.config.checkIntervalMs;
  }

  private async follow(w: HaWork): Promise<void> {
    const job = await this.d.data.jobs.get('system', w.job!);
    if (job.jobstatus === 0) {
      w.nextAt = this.d.clock.now() + this.d.config.checkIntervalMs;
      return;
    }
    if (job.jobstatus === 1) {
      this.work.delete(w.vmid);
      this.d.stats.haRestarts++;
      const vm = await findVm(this.d.data, w.vmid);
      await hostEvent(this.d, 'HA.VM.RESTART', 'INFO', `HA restarted VM ${w.name} on host ${vm?.hostname ?? '?'} after host ${w.fromHost} was lost`,
        { type: 'VirtualMachine', id: w.vmid });
      return;
    }
    const text = (job.jobresult as { errortext?: string } | undefined)?.errortext ?? `job ${w.job} failed`;
    w.job = undefined;
    if (w.attempts >= this.d.config.haMaxAttempts) {
      this.work.delete(w.vmid);
      await hostEvent(this.d, 'HA.VM.RESTART', 'ERROR', `HA gave up restarting VM ${w.name} after ${w.attempts} attempts: ${text}`,
        { type: 'VirtualMachine', id: w.vmid });
      return;
    }
    w.nextAt = this.d.clock.now() + this.d.config.haRetryIntervalMs;
    await hostEvent(this.d, 'HA.VM.RESTART', 'WARN', `HA could not restart VM ${w.name} (attempt ${w.attempts} of ` +
      `${this.d.config.haMaxAttempts}); retrying in ${this.d.config.haRetryIntervalMs} ms: ${text}`, { type: 'VirtualMachine', id: w.vmid });
  }
}
