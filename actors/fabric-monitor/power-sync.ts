import type { HaWorker } from './ha.js';
import { findVm, hostEvent, type MonitorDeps } from './deps.js';
import type { Tracked } from './host-table.js';

/** VM states owned by a job in progress: power reports do not override them (the job decides). */
const TRANSITIONAL: ReadonlySet<string> = new Set(['Starting', 'Stopping', 'Migrating', 'Expunging']);

let strayKeys = 0;

/**
 * Power-state reconciliation (CloudStack's VM sync) for one report of host `t`:
 * - a VM the database says is Running here but that the report does not list is marked Stopped once
 *   it has been missing for powerStateGraceMs (and restarted when it has HA: VM HA);
 * - a VM the report lists but the database does not place here (another host, Stopped, gone) is
 *   stopped on this host once it has been there for the grace period — at once when `strict` (a host
 *   coming back after it was declared Down: whatever it still runs was handled elsewhere).
 * VMs in a transitional state are left to the job that moves them.
 */
export async function reconcile(d: MonitorDeps, ha: HaWorker, t: Tracked, running: ReadonlySet<string>, strict: boolean): Promise<void> {
  const now = d.clock.now();
  const grace = d.config.powerStateGraceMs;
  // Every VM placed on the host (a host beyond 500 VMs is reconciled whole); bounded by what one host holds.
  const placed = await d.data.vms.all('system', { hostid: t.id, listall: true });
  const here = new Set<string>();
  for (const vm of placed) {
    here.add(vm.id);
    if (vm.state !== 'Running' || running.has(vm.id)) { t.missing.delete(vm.id); continue; }
    const since = t.missing.get(vm.id) ?? now;
    t.missing.set(vm.id, since);
    if (now - since < grace) continue;
    t.missing.delete(vm.id);
    const r = await ha.stopAndSchedule(vm, t, `host ${t.name} has not reported it running for ${now - since} ms`);
    if (r !== 'skipped') d.stats.powerOffs++;
  }
  for (const id of [...t.missing.keys()]) if (!here.has(id)) t.missing.delete(id);
  for (const id of [...t.stray.keys()]) if (!running.has(id)) t.stray.delete(id);
  for (const id of running) {
    if (here.has(id)) { t.stray.delete(id); continue; }
    const since = t.stray.get(id) ?? now;
    t.stray.set(id, since);
    if (!strict && now - since < grace) continue;
    await stopStray(d, t, id);
  }
}

/** Stops a copy of VM `id` on host `t` after checking, once more, that the database does not place it there. */
async function stopStray(d: MonitorDeps, t: Tracked, id: string): Promise<void> {
  const vm = await findVm(d.data, id);
  if (vm !== undefined && (TRANSITIONAL.has(vm.state) || (vm.hostid === t.id && vm.state === 'Running'))) {
    t.stray.delete(id);
    return;
  }
  // The key is unique per attempt: the agent remembers keys, and a later stray of the same VM must act again.
  await d.compute(t.name, 'stopVm', { key: `fabric-stray:${t.id}:${id}:${d.clock.now()}:${++strayKeys}`, vmUuid: id, forced: true },
    d.config.pingTimeoutMs);
  t.stray.delete(id);
  d.stats.strayStops++;
  const where = vm === undefined ? 'a VM the database does not know'
    : vm.hostid === undefined ? `VM ${vm.name}, which the database has ${vm.state} on no host` : `VM ${vm.name}, which the database has ${vm.state} on host ${vm.hostname ?? vm.hostid}`;
  await hostEvent(d, 'VM.STOP', 'WARN', `stopped a copy of ${where} found running on host ${t.name}`, { type: 'VirtualMachine', id });
}
