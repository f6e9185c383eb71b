/**
 * Real KVM guests (TCG) three ways in one run, 3 interleaved rounds, medians (p50), one guest booting at
 * a time (a TCG boot costs about 1.5 CPU-s on the 2-core machine):
 * - raw: `virsh define` + `virsh start` of a domain whose disk was cloned beforehand; the boot marker
 *   on its console; `virsh shutdown` (ACPI) polled to "shut off"; `virsh destroy` + `virsh undefine`.
 *   These are the baselines.
 * - driver: the kvm driver in this process on a host of its own (template clone + bridge/DHCP + define +
 *   start; ACPI stop; forced stop = destroy + undefine). The driver's overhead beside raw virsh.
 * - API: the whole path, a management node and one KVM host running `cloudstackd --role=compute
 *   --hypervisor kvm` (test/helpers/kvm-cloud.ts, as the kvm-hosts test assembles it; default heartbeat
 *   profile), driven through csclient: deployVirtualMachine to the job's VM state Running and to the
 *   boot marker (from the deploy call); stopVirtualMachine (ACPI) to Stopped; startVirtualMachine of
 *   the stopped VM to Running; destroyVirtualMachine expunge=true of a running VM. Beside the raw
 *   baseline of the same step (start, boot, ACPI stop, destroy+undefine).
 * - The compute agent's own cost per running guest: its process's CPU (its own, plus the `virsh`
 *   programs it runs: bench/proc-stats.ts cpuTicksWithChildren) as ms per second over a window, and its
 *   RSS (median of samples in the window), with the 3 API VMs running and idle, beside 0 VMs after
 *   they were destroyed (same process age; a window before the rounds, printed on stderr, shows the
 *   heap still growing then, and the spread of the idle CPU figure). The difference divided by 3 is the
 *   per-VM figure (negative when it is below the noise), beside the 0-VM value. Each window's figures,
 *   and QEMU's own RSS per guest, are printed on stderr.
 * Skipped (with a line on stderr) without root or the packages of .ci/install-hypervisor.sh, or without
 * the build (dist/bin/cloudstackd.js). Takes about 3 minutes on an idle machine, 5 beside other work.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KVM_DEFAULTS } from '../actors/compute/kvm/kvm-config.js';
import { KvmDriver } from '../actors/compute/kvm/kvm-driver.js';
import { domainXml } from '../actors/compute/kvm/domain-xml.js';
import type { VmSpec } from '../actors/compute/protocol.js';
import { createRealClock } from '../src/clock.js';
import { silentLogger } from '../src/logger.js';
import { BOOT_MARKER, KvmCloud, type KvmCloudVm } from '../test/helpers/kvm-cloud.js';
import { guestImage, KvmHosts, missingHypervisorTool, type KvmHost } from '../test/helpers/kvm-host.js';
import { cliPath } from '../test/helpers/paths.js';
import { sleep, waitFor } from '../test/helpers/wait.js';
import { line, progress, type Emit } from './lib.js';
import { cpuTicks, cpuTicksWithChildren, rssKiB } from './proc-stats.js';

const ROUNDS = 3;
/** Guests running in the agent's per-VM window: the API rounds' VMs, restarted. */
const N = ROUNDS;
/** Length of each agent CPU/RSS window, ms: at 100 ticks/s a 10 s window resolves 1 ms/s of CPU. */
const WINDOW_MS = 10_000;
/** Wait before a window, ms: the last boot's DHCP and the agent's first heartbeats after it are done. */
const SETTLE_MS = 5_000;
/** After the boot marker the guest's init still starts acpid; an ACPI request before it is lost. */
const ACPID_MS = 1_500;
/** Pause between reads of the console log or `virsh domstate` while waiting, ms (bounds the figures' resolution). */
const POLL_MS = 20;
/** Linux clock ticks per second (/proc/<pid>/stat). */
const TICKS_PER_S = 100;
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const op = { key: 'bench', deadline: undefined };

/** Samples of each measured step, by path. */
type Samples = Record<string, number[]>;
const push = (s: Samples, k: string, v: number): void => { (s[k] ??= []).push(v); };

async function waitMarker(file: string): Promise<void> {
  await waitFor(() => { try { return readFileSync(file, 'utf8').includes(BOOT_MARKER); } catch { return false; } }, 60_000, `${BOOT_MARKER} in ${file}`, POLL_MS);
}

/** The in-process driver on host `h`, with the template placed where its pool keeps downloads. */
async function startDriver(h: KvmHost, image: string): Promise<{ d: KvmDriver; template: string }> {
  const template = join(h.dir, 'template.qcow2');
  copyFileSync(join(image, 'template.qcow2'), template);
  const d = new KvmDriver({ host: { hostName: h.name, zone: 'z', pod: 'p', cluster: 'c' }, clock: createRealClock(), log: silentLogger,
    config: { ...KVM_DEFAULTS, uri: h.uri, storageDir: join(h.dir, 'primary'), dataDir: join(h.dir, 'data'), underlay: h.underlay, netns: h.netns } });
  // The driver downloads templates over http(s); the bench places the copy where the pool keeps it.
  const { createHash } = await import('node:crypto');
  execFileSync('mkdir', ['-p', join(h.dir, 'primary', 'templates')]);
  copyFileSync(template, join(h.dir, 'primary', 'templates', `${createHash('sha256').update(`file://${template}`).digest('hex').slice(0, 24)}.qcow2`));
  await d.init();
  return { d, template };
}

const spec = (i: number, template: string): VmSpec => ({ uuid: `bench-${i}`, name: `i-2-${i}-VM`, cpuCores: 1, cpuSpeedMhz: 500, memoryMiB: 128,
  nics: [{ deviceId: 0, mac: `02:00:00:00:02:${String(i).padStart(2, '0')}`, ip: `10.1.2.${10 + i}`, netmask: '255.255.255.0', gateway: '10.1.2.1',
    broadcastUri: 'vlan://4002', isDefault: true }],
  volumes: [{ uuid: `bench-root-${i}`, deviceId: 0, type: 'ROOT', sizeBytes: 0, isNew: true }],
  template: { url: `file://${template}`, format: 'QCOW2' } });

/** Baseline round: the driver's kind of domain, disk cloned beforehand, run by virsh alone. */
async function rawRound(h: KvmHost, d: KvmDriver, template: string, r: number, s: Samples): Promise<void> {
  const rawSpec = spec(50 + r, template);
  const disk = join(h.dir, `raw-${r}.qcow2`);
  const log = join(h.dir, `raw-${r}.log`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', template, '-F', 'qcow2', disk]);
  await d.networks.plug(rawSpec.nics[0]!);
  const xml = join(h.dir, `raw-${r}.xml`);
  writeFileSync(xml, domainXml({ spec: rawSpec, type: 'qemu', disks: [{ file: disk, dev: 'vda' }], nics: [{ bridge: 'csdbr4002', mac: rawSpec.nics[0]!.mac }],
    consoleLog: log, tbCacheMiB: 32 }));
  const name = rawSpec.name;
  let t0 = performance.now();
  await h.virsh('define', xml);
  await h.virsh('start', name);
  push(s, 'raw start', performance.now() - t0);
  await waitMarker(log);
  push(s, 'raw boot', performance.now() - t0);
  await sleep(ACPID_MS);
  t0 = performance.now();
  await h.virsh('shutdown', name);
  await waitFor(async () => (await h.virsh('domstate', name)).trim() === 'shut off', 30_000, `${name} shut off after virsh shutdown`, POLL_MS);
  push(s, 'raw acpi', performance.now() - t0);
  await h.virsh('start', name);
  await sleep(500);
  t0 = performance.now();
  await h.virsh('destroy', name);
  await h.virsh('undefine', name);
  push(s, 'raw destroy', performance.now() - t0);
}

async function driverRound(d: KvmDriver, template: string, r: number, s: Samples): Promise<void> {
  const vm = spec(r + 1, template);
  let t0 = performance.now();
  await d.start(vm, op);
  push(s, 'driver start', performance.now() - t0);
  await waitMarker(d.consolePath(vm.name));
  push(s, 'driver boot', performance.now() - t0);
  await sleep(ACPID_MS);
  t0 = performance.now();
  await d.stop(vm.uuid, false, op);
  push(s, 'driver acpi', performance.now() - t0);
  await d.start(vm, op);
  await sleep(500);
  t0 = performance.now();
  await d.stop(vm.uuid, true, op);
  push(s, 'driver destroy', performance.now() - t0);
  await d.deleteVolumes([vm.volumes[0]!.uuid]);
}

/** A round through the API: deploy, boot, ACPI stop; the VM is left Stopped (restarted for the agent window). */
async function apiRound(cloud: KvmCloud, s: Samples): Promise<KvmCloudVm> {
  let t0 = performance.now();
  const v = await cloud.deploy(cloud.ids.tiny);
  push(s, 'api deploy', performance.now() - t0);
  await cloud.waitBootMarker(v, 1, POLL_MS);
  push(s, 'api boot', performance.now() - t0);
  await sleep(ACPID_MS);
  t0 = performance.now();
  await cloud.client.job('stopVirtualMachine', { id: v.id });
  push(s, 'api stop', performance.now() - t0);
  return v;
}

interface AgentWindow { cpuMsPerS: number; ownCpuMsPerS: number; rssKiB: number }

/** The agent's CPU (ms per second; with its programs, and its process alone) and median RSS (KiB) over WINDOW_MS. */
async function agentWindow(pid: number): Promise<AgentWindow> {
  const rss: number[] = [];
  const c0 = cpuTicksWithChildren(pid);
  const o0 = cpuTicks(pid);
  const t0 = performance.now();
  while (performance.now() - t0 < WINDOW_MS) { rss.push(rssKiB(pid)); await sleep(500); }
  const perS = (ticks: number): number => (ticks * 1000 / TICKS_PER_S) / ((performance.now() - t0) / 1000);
  return { cpuMsPerS: perS(cpuTicksWithChildren(pid) - c0), ownCpuMsPerS: perS(cpuTicks(pid) - o0), rssKiB: median(rss) };
}

const showWindow = (w: AgentWindow): string => `CPU ${w.cpuMsPerS.toFixed(1)} ms/s (process alone ${w.ownCpuMsPerS.toFixed(1)}), RSS ${(w.rssKiB / 1024).toFixed(1)} MiB`;

export async function runKvmBench(emit: Emit): Promise<void> {
  const missing = missingHypervisorTool() ?? (existsSync(cliPath()) ? undefined : `${cliPath()} (npm run build)`);
  if (missing !== undefined) { progress(`kvm: skipped, needs ${missing} (.ci/install-hypervisor.sh)`); return; }
  const image = await guestImage();
  const hosts = new KvmHosts();
  const cloud = new KvmCloud({ hosts: ['b1'], cluster: { profile: 'default', logLevel: 'error' } });
  const driver: { d?: KvmDriver } = {};
  try {
    const h = await hosts.add('d1', 1);
    const { d, template } = await startDriver(h, image);
    driver.d = d;
    await cloud.setup();
    progress(`kvm: management node and 1 KVM host Up (${cloud.agentsUpMs} ms after the agent started)`);
    const pid = cloud.agentPid('b1');
    await sleep(SETTLE_MS);
    const idleBefore = await agentWindow(pid);

    const s: Samples = {};
    const vms: KvmCloudVm[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await rawRound(h, d, template, r, s);
      await driverRound(d, template, r, s);
      vms.push(await apiRound(cloud, s));
    }
    // The stopped VMs started again, one boot at a time, then left running and idle for the agent's window.
    for (const v of vms) {
      const t0 = performance.now();
      await cloud.client.job('startVirtualMachine', { id: v.id });
      push(s, 'api start', performance.now() - t0);
      await cloud.waitBootMarker(v, 2, POLL_MS);
    }
    await sleep(SETTLE_MS);
    const busy = await agentWindow(pid);
    const qemuRss = (await cloud.kvm.qemuRssKiB('b1')).map((k) => k / 1024);
    for (const v of vms) {
      const t0 = performance.now();
      await cloud.client.job('destroyVirtualMachine', { id: v.id, expunge: true });
      push(s, 'api destroy', performance.now() - t0);
    }
    // 0 VMs again, the baseline: the process has the same age and has done the same work as in the window
    // with VMs (its heap grows over the first minutes: the window before the rounds reads lower RSS).
    await sleep(SETTLE_MS);
    const idle = await agentWindow(pid);

    const m = (k: string): number => median(s[k]!);
    const start = 'virsh define+start alone';
    const boot = 'virsh define+start to boot marker';
    const acpi = 'virsh shutdown to shut off';
    const destroy = 'virsh destroy+undefine alone';
    emit(line('kvm: driver start (clone+net+define+start)', m('driver start'), 'ms', start, m('raw start')));
    emit(line('kvm: API deploy to Running (agent, driver)', m('api deploy'), 'ms', start, m('raw start')));
    emit(line('kvm: API start of a stopped VM to Running', m('api start'), 'ms', start, m('raw start')));
    emit(line('kvm: driver start to guest boot marker', m('driver boot'), 'ms', boot, m('raw boot')));
    emit(line('kvm: API deploy to guest boot marker', m('api boot'), 'ms', boot, m('raw boot')));
    emit(line('kvm: driver stop by ACPI (guest powers off)', m('driver acpi'), 'ms', acpi, m('raw acpi')));
    emit(line('kvm: API stop (ACPI) to Stopped', m('api stop'), 'ms', acpi, m('raw acpi')));
    emit(line('kvm: driver forced stop (destroy+undefine)', m('driver destroy'), 'ms', destroy, m('raw destroy')));
    emit(line('kvm: API destroy+expunge of a running VM', m('api destroy'), 'ms', destroy, m('raw destroy')));
    emit(line(`kvm: agent CPU with ${N} running VMs`, busy.cpuMsPerS, 'ms/s', 'agent CPU with 0 VMs', idle.cpuMsPerS));
    emit(line('kvm: agent CPU per running VM', (busy.cpuMsPerS - idle.cpuMsPerS) / N, 'ms/s', 'agent CPU with 0 VMs', idle.cpuMsPerS));
    emit(line(`kvm: agent RSS with ${N} running VMs`, busy.rssKiB / 1024, 'MiB', 'agent RSS with 0 VMs', idle.rssKiB / 1024));
    emit(line('kvm: agent RSS per running VM', (busy.rssKiB - idle.rssKiB) / 1024 / N, 'MiB', 'agent RSS with 0 VMs', idle.rssKiB / 1024));
    progress(`kvm: samples (ms) ${Object.entries(s).map(([k, v]) => `${k} [${v.map((x) => x.toFixed(0)).join(' ')}]`).join('; ')}`);
    progress(`kvm: API over driver: deploy to Running ${(m('api deploy') / m('driver start')).toFixed(2)}x, to boot marker ${(m('api boot') / m('driver boot')).toFixed(2)}x, `
      + `ACPI stop ${(m('api stop') / m('driver acpi')).toFixed(2)}x, destroy ${(m('api destroy') / m('driver destroy')).toFixed(2)}x`);
    progress(`kvm: agent with 0 VMs before: ${showWindow(idleBefore)}; with ${N} VMs: ${showWindow(busy)}; with 0 VMs after: ${showWindow(idle)} `
      + `(a per-VM difference below the windows' spread is noise: the machine is shared)`);
    progress(`kvm: QEMU RSS per idle guest ${qemuRss.map((x) => x.toFixed(0)).join(', ')} MiB`);
    const t = d.timings();
    for (const k of ['virsh define', 'virsh start', 'virsh destroy']) {
      const x = t[k];
      if (x !== undefined) progress(`kvm: ${k} through the in-process driver: ${x.calls} calls, mean ${(x.totalMs / x.calls).toFixed(1)} ms, max ${x.maxMs} ms`);
    }
  } finally {
    await driver.d?.close();
    await cloud.dispose();
    await hosts.dispose();
  }
}
