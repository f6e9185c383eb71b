/**
 * The kvm driver on a real libvirtd (one test "host" in a namespace, TCG guests), 3 interleaved rounds,
 * medians: the driver's start (template clone + bridge/DHCP + define + start) beside raw `virsh define`
 * + `virsh start` of the same kind of domain in the same run (the baseline); start to the guest's boot
 * marker on its console; ACPI stop and forced stop (destroy). One guest at a time.
 * Skipped (with a line on stderr) without root or the packages of .ci/install-hypervisor.sh.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KVM_DEFAULTS } from '../actors/compute/kvm/kvm-config.js';
import { KvmDriver } from '../actors/compute/kvm/kvm-driver.js';
import { domainXml } from '../actors/compute/kvm/domain-xml.js';
import type { VmSpec } from '../actors/compute/protocol.js';
import { createRealClock } from '../src/clock.js';
import { silentLogger } from '../src/logger.js';
import { guestImage, KvmHosts, missingHypervisorTool } from '../test/helpers/kvm-host.js';
import { sleep } from '../test/helpers/wait.js';
import { line, progress, type Emit } from './lib.js';

const ROUNDS = 3;
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const op = { key: 'bench', deadline: undefined };

export async function runKvmBench(emit: Emit): Promise<void> {
  const missing = missingHypervisorTool();
  if (missing !== undefined) { progress(`kvm: skipped, needs ${missing} (.ci/install-hypervisor.sh)`); return; }
  const image = await guestImage();
  const hosts = new KvmHosts();
  const driver: { d?: KvmDriver } = {};
  try {
    const h = await hosts.add('b1', 1);
    const template = join(h.dir, 'template.qcow2');
    copyFileSync(join(image, 'template.qcow2'), template);
    const d = new KvmDriver({ host: { hostName: 'b1', zone: 'z', pod: 'p', cluster: 'c' }, clock: createRealClock(), log: silentLogger,
      config: { ...KVM_DEFAULTS, uri: h.uri, storageDir: join(h.dir, 'primary'), dataDir: join(h.dir, 'data'), underlay: h.underlay, netns: h.netns } });
    driver.d = d;
    const spec = (i: number): VmSpec => ({ uuid: `bench-${i}`, name: `i-2-${i}-VM`, cpuCores: 1, cpuSpeedMhz: 500, memoryMiB: 128,
      nics: [{ deviceId: 0, mac: `02:00:00:00:02:${String(i).padStart(2, '0')}`, ip: `10.1.2.${10 + i}`, netmask: '255.255.255.0', gateway: '10.1.2.1',
        broadcastUri: 'vlan://4002', isDefault: true }],
      volumes: [{ uuid: `bench-root-${i}`, deviceId: 0, type: 'ROOT', sizeBytes: 0 }],
      template: { url: `file://${template}`, format: 'QCOW2' } });
    // The driver downloads templates over http(s); the bench places the copy where the pool keeps it.
    const { createHash } = await import('node:crypto');
    execFileSync('mkdir', ['-p', join(h.dir, 'primary', 'templates')]);
    copyFileSync(template, join(h.dir, 'primary', 'templates', `${createHash('sha256').update(`file://${template}`).digest('hex').slice(0, 24)}.qcow2`));
    await d.init();

    const raw: number[] = []; const drv: number[] = []; const boot: number[] = []; const acpi: number[] = []; const destroy: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Baseline: the same kind of domain, its disk cloned beforehand, defined and started by virsh alone.
      const rawSpec = spec(50 + r);
      const disk = join(h.dir, `raw-${r}.qcow2`);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', template, '-F', 'qcow2', disk]);
      await d.networks.plug(rawSpec.nics[0]!);
      const xml = join(h.dir, `raw-${r}.xml`);
      writeFileSync(xml, domainXml({ spec: rawSpec, type: 'qemu', disks: [{ file: disk, dev: 'vda' }], nics: [{ bridge: 'csdbr4002', mac: rawSpec.nics[0]!.mac }],
        consoleLog: join(h.dir, `raw-${r}.log`), tbCacheMiB: 32 }));
      let t0 = performance.now();
      await h.virsh('define', xml);
      await h.virsh('start', rawSpec.name);
      raw.push(performance.now() - t0);
      await h.virsh('destroy', rawSpec.name);
      await h.virsh('undefine', rawSpec.name);

      const vm = spec(r + 1);
      t0 = performance.now();
      await d.start(vm, op);
      drv.push(performance.now() - t0);
      for (;;) {
        let text = '';
        try { text = readFileSync(d.consolePath(vm.name), 'utf8'); } catch { /* not yet */ }
        if (text.includes('CSD-GUEST-BOOTED')) break;
        await sleep(20);
      }
      boot.push(performance.now() - t0);
      await sleep(1_500); // acpid is running by now
      t0 = performance.now();
      await d.stop(vm.uuid, false, op);
      acpi.push(performance.now() - t0);
      await d.start(vm, op);
      await sleep(500);
      t0 = performance.now();
      await d.stop(vm.uuid, true, op);
      destroy.push(performance.now() - t0);
      await d.deleteVolumes([vm.volumes[0]!.uuid]);
    }
    // The agent's own cost per running guest: this process's CPU over a window with the driver following
    // N idle guests (events + polling), beside the same window with none; and QEMU's RSS per idle guest.
    const WINDOW_MS = 5_000;
    const N = 3;
    const cpuOver = async (): Promise<number> => { const c0 = process.cpuUsage(); await sleep(WINDOW_MS); const c = process.cpuUsage(c0); return (c.user + c.system) / 1_000; };
    const idleCpuMs = await cpuOver();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < N; i++) await d.start(spec(20 + i), op);
    await sleep(8_000); // booted and idle
    const busyCpuMs = await cpuOver();
    const rssPerVmKiB = (process.memoryUsage().rss - rss0) / 1024 / N;
    const qemuRss = (await hosts.qemuRssKiB('b1')).map((k) => k / 1024);
    for (let i = 0; i < N; i++) { await d.stop(`bench-${20 + i}`, true, op); await d.deleteVolumes([`bench-root-${20 + i}`]); }
    emit(line(`kvm: driver CPU per idle guest (${N} guests, ${WINDOW_MS / 1000} s)`, Math.max(0, busyCpuMs - idleCpuMs) / N, 'ms', 'driver CPU with no guest, same window', idleCpuMs));
    progress(`kvm: driver process RSS change per guest (GC noise dominates) ${rssPerVmKiB.toFixed(0)} KiB; QEMU RSS per idle guest ${qemuRss.map((m) => m.toFixed(0)).join(', ')} MiB`);
    const base = median(raw);
    emit(line('kvm: driver start (clone+net+define+start)', median(drv), 'ms', 'virsh define+start alone', base));
    emit(line('kvm: start to guest boot marker', median(boot), 'ms', 'virsh define+start alone', base));
    emit(line('kvm: stop by ACPI (guest powers off)', median(acpi), 'ms', 'virsh define+start alone', base));
    emit(line('kvm: forced stop (destroy+undefine)', median(destroy), 'ms', 'virsh define+start alone', base));
    const t = d.timings();
    for (const k of ['virsh define', 'virsh start', 'virsh destroy']) {
      const s = t[k];
      if (s !== undefined) progress(`kvm: ${k} through the driver: ${s.calls} calls, mean ${(s.totalMs / s.calls).toFixed(1)} ms, max ${s.maxMs} ms`);
    }
  } finally {
    await driver.d?.close();
    await hosts.dispose();
  }
}
