import type { Clock } from '../../src/clock.js';
import { CloudstackdError, IllegalStateError, InvalidParameterError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Caller, DataApi } from '../data/protocol.js';
import type { JobRequest, SubmitReply } from '../orchestrator/protocol.js';

const CMD = 'org.apache.cloudstack.api.command.admin.host';
export const PREPARE_MAINTENANCE_CMD = `${CMD}.PrepareForMaintenanceCmd`;
export const CANCEL_MAINTENANCE_CMD = `${CMD}.CancelMaintenanceCmd`;

export interface MaintenanceDeps {
  readonly data: DataApi;
  readonly clock: Clock;
  readonly log: Logger;
  submit(req: JobRequest): Promise<SubmitReply>;
  /** async_job.owner_node of maintenance jobs (not the orchestrator's, so it never picks them up). */
  readonly ownerNode: string;
  /** How often the migration jobs are polled, ms. */
  readonly pollMs: number;
  /** Longest wait for the migrations before the maintenance job fails, ms. */
  readonly timeoutMs: number;
}

type Host = Awaited<ReturnType<DataApi['hosts']['get']>>;

function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimeout(resolve, ms); });
}

async function runningOn(data: DataApi, hostid: string) {
  // Every running VM of the host (a host with 600 VMs migrates all 600): bounded by what one host holds.
  return data.vms.all('system', { hostid, listall: true, state: 'Running' });
}

/**
 * prepareHostForMaintenance: the host leaves allocation at once (PrepareForMaintenance is not
 * Enabled, so the planner skips it), then a job migrates every running VM to another host through the
 * orchestrator and ends with the host in Maintenance — or ErrorInMaintenance, saying which VMs could
 * not move. Returns the job id.
 */
export async function prepareMaintenance(d: MaintenanceDeps, hostid: string, caller: Caller): Promise<{ jobid: string }> {
  const host = await d.data.hosts.get(hostid);
  const vms = await runningOn(d.data, hostid);
  if (vms.length > 0 && host.state !== 'Up') {
    throw new InvalidParameterError(`host ${host.name} is ${host.state}: its ${vms.length} running VMs cannot be migrated away; wait until it is Up`);
  }
  await d.data.hosts.resourceTransition(hostid, 'AdminAskMaintenance');
  const job = await d.data.jobs.create(caller, { cmd: PREPARE_MAINTENANCE_CMD, instancetype: 'Host', instanceid: hostid, ownernode: d.ownerNode });
  void evacuate(d, job.jobid, host, caller).catch((err: unknown) => {
    d.log.error('maintenance job could not record its outcome; it stays pending', { job: job.jobid, error: String(err) });
  });
  return { jobid: job.jobid };
}

/** cancelHostMaintenance: back to Enabled (a job, as in CloudStack, completed at once). */
export async function cancelMaintenance(d: MaintenanceDeps, hostid: string, caller: Caller): Promise<{ jobid: string }> {
  const job = await d.data.jobs.create(caller, { cmd: CANCEL_MAINTENANCE_CMD, instancetype: 'Host', instanceid: hostid, ownernode: d.ownerNode });
  try {
    const host = await d.data.hosts.resourceTransition(hostid, 'AdminCancelMaintenance');
    await d.data.jobs.complete(job.jobid, { status: 1, resultcode: 0, result: { host } });
  } catch (err) {
    await d.data.jobs.complete(job.jobid, { status: 2, resultcode: 431, result: { errorcode: 431,
      errortext: err instanceof IllegalStateError ? `host ${hostid} is not in maintenance: ${err.message}` : String((err as Error).message) } });
  }
  return { jobid: job.jobid };
}

async function evacuate(d: MaintenanceDeps, jobid: string, host: Host, caller: Caller): Promise<void> {
  const failures: string[] = [];
  const until = d.clock.now() + d.timeoutMs;
  const jobs: { name: string; jobid: string }[] = [];
  for (const vm of await runningOn(d.data, host.id)) {
    try {
      jobs.push({ name: vm.name, jobid: (await d.submit({ op: 'migrateVm', caller, vmid: vm.id })).jobid });
    } catch (err) {
      failures.push(`${vm.name}: ${(err as Error).message}`);
    }
  }
  for (const j of jobs) {
    for (;;) {
      const s = await d.data.jobs.get('system', j.jobid);
      if (s.jobstatus === 2) failures.push(`${j.name}: ${(s.jobresult as { errortext?: string } | undefined)?.errortext ?? 'migration failed'}`);
      if (s.jobstatus !== 0) break;
      if (d.clock.now() > until) { failures.push(`${j.name}: the migration did not finish within ${d.timeoutMs} ms`); break; }
      await delay(d.clock, d.pollMs);
    }
  }
  const left = await runningOn(d.data, host.id);
  if (left.length > 0 && failures.length === 0) failures.push(`${left.map((v) => v.name).join(', ')} still running on the host`);
  try {
    if (failures.length === 0) {
      const done = await d.data.hosts.resourceTransition(host.id, 'InternalEnterMaintenance');
      await d.data.jobs.complete(jobid, { status: 1, resultcode: 0, result: { host: done } });
      return;
    }
    await d.data.hosts.resourceTransition(host.id, 'UnableToMigrate');
  } catch (err) {
    if (!(err instanceof CloudstackdError)) throw err;
    failures.push(`the host's maintenance state changed meanwhile (${err.message}); was the maintenance cancelled?`);
  }
  await d.data.jobs.complete(jobid, { status: 2, resultcode: 530, result: { errorcode: 530,
    errortext: `Failed to prepare host ${host.name} for maintenance: ${failures.join('; ')}` } });
}
