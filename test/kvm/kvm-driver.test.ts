/**
 * The kvm driver against a real libvirtd (in a network namespace of its own) booting a real guest under
 * TCG: template downloaded once with its checksum, root disk a linked clone, a data disk, the NIC on a
 * VXLAN bridge with the allocated address served by dnsmasq, ACPI stop, re-adoption by a second driver
 * (an agent restart), fencing. The guest reports on its serial console, which the test reads.
 * Skips without root or the packages (.ci/install-hypervisor.sh), except under CI where it fails.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { KVM_DEFAULTS } from '../../actors/compute/kvm/kvm-config.js';
import { KvmDriver } from '../../actors/compute/kvm/kvm-driver.js';
import type { VmSpec } from '../../actors/compute/protocol.js';
import { createRealClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { guestImage, KvmHosts, missingHypervisorTool, type KvmHost } from '../helpers/kvm-host.js';
import { waitFor } from '../helpers/wait.js';

const op = { key: 'k', deadline: undefined };

describe('kvm driver: real guests through libvirt', function () {
  this.timeout(120_000);
  let hosts: KvmHosts | undefined;
  let h: KvmHost;
  let server: Server | undefined;
  let templateUrl = '';
  let checksum = '';
  let requests = 0;
  const drivers: KvmDriver[] = [];

  const driver = (): KvmDriver => {
    const d = new KvmDriver({ host: { hostName: 'h1', zone: 'z', pod: 'p', cluster: 'c' }, clock: createRealClock(), log: silentLogger,
      config: { ...KVM_DEFAULTS, uri: h.uri, storageDir: join(h.dir, 'primary'), dataDir: join(h.dir, 'data'), underlay: h.underlay, netns: h.netns,
        pollIntervalMs: 500, stopTimeoutMs: 15_000 } });
    drivers.push(d);
    return d;
  };
  const spec = (n: number, withData: boolean): VmSpec => ({
    uuid: `vm-${n}`, name: `i-2-${n}-VM`, cpuCores: 1, cpuSpeedMhz: 500, memoryMiB: 128,
    nics: [{ deviceId: 0, mac: `02:00:00:00:01:${String(n).padStart(2, '0')}`, ip: `10.1.1.${10 + n}`, netmask: '255.255.255.0', gateway: '10.1.1.1',
      broadcastUri: 'vlan://4001', isDefault: true }],
    volumes: [{ uuid: `root-${n}`, deviceId: 0, type: 'ROOT', sizeBytes: 0, isNew: true },
      ...(withData ? [{ uuid: `data-${n}`, deviceId: 1, type: 'DATADISK' as const, sizeBytes: 64 * 1024 * 1024, isNew: true }] : [])],
    template: { url: templateUrl, checksum, format: 'QCOW2' },
  });
  const consoleOf = (d: KvmDriver, name: string): string => { try { return readFileSync(d.consolePath(name), 'utf8'); } catch { return ''; } };

  before(async function () {
    const missing = missingHypervisorTool();
    if (missing !== undefined) {
      if (process.env.CI === 'true') throw new Error(`real-VM tests need ${missing}: run .ci/install-hypervisor.sh`);
      process.stdout.write(`      (skipped: needs ${missing}; run .ci/install-hypervisor.sh)\n`);
      this.skip();
    }
    const image = await guestImage();
    const file = join(image, 'template.qcow2');
    checksum = `{SHA-256}${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    server = createServer((_req, res) => { requests++; res.writeHead(200, { 'content-length': statSync(file).size }); createReadStream(file).pipe(res); });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    templateUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/template.qcow2`;
    hosts = new KvmHosts();
    h = await hosts.add('h1', 1);
  });

  after(async () => {
    for (const d of drivers) await d.close();
    await hosts?.dispose();
    server?.close();
  });

  it('boots a guest from a linked clone of the downloaded template, with its data disk and its allocated address by DHCP', async () => {
    const d = driver();
    const vm = spec(1, true);
    expect(await d.start(vm, op)).to.deep.equal({ alreadyRunning: false });
    await waitFor(() => /CSD-GUEST-IP eth0 10\.1\.1\.11/.test(consoleOf(d, vm.name)), 60_000, 'the guest configured 10.1.1.11 by DHCP', 200);
    await waitFor(() => /CSD-GUEST-DISKS vda vdb/.test(consoleOf(d, vm.name)), 20_000, 'the guest sees its root and data disks', 200);
    expect(await d.reportPowerStates()).to.deep.equal({ 'vm-1': 'PowerOn' });
    expect(requests).to.equal(1);
    const info = JSON.parse(await (await import('node:child_process')).execFileSync('qemu-img', ['info', '--output=json', '-U', d.pool.volumePath('root-1')], { encoding: 'utf8' })) as { 'backing-filename'?: string };
    expect(info['backing-filename']).to.match(/templates\/[0-9a-f]+\.qcow2$/);
    // A running guest's root disk is no template source (CloudStack requires the VM stopped); nothing is written.
    const refused = await d.templateFile({ volumeUuid: 'root-1' }, 'tpl-live').then(() => undefined, (e: Error) => e);
    expect(refused?.message).to.match(/in use by VM vm-1 .*stop the VM/);
    expect(existsSync(d.pool.createdTemplatePath('tpl-live'))).to.equal(false);
    const host = await d.describeHost();
    expect(host.allocated).to.deep.equal({ vms: 1, cpuCores: 1, cpuMhz: 500, memoryMiB: 128 });
    expect(host.memoryMiB).to.be.greaterThan(128);
    expect((await d.consoleTail(vm.name, 1)).split('\n')).to.have.length(1);
    expect(d.timings()['virsh start']?.calls).to.equal(1);
  });

  it('is re-adopted by a restarted agent without a restart, and stops by ACPI leaving no domain', async () => {
    await drivers[0]!.close();
    const d = driver();
    await d.init();
    const vm = spec(1, true);
    expect(await d.reportPowerStates()).to.deep.equal({ 'vm-1': 'PowerOn' });
    expect(await d.start(vm, op)).to.deep.equal({ alreadyRunning: true });
    expect(consoleOf(d, vm.name).match(/CSD-GUEST-BOOTED/g)).to.have.length(1);
    expect(await d.stop(vm.uuid, false, op)).to.deep.equal({ wasRunning: true });
    expect(consoleOf(d, vm.name)).to.include('CSD-GUEST-ACPI-POWEROFF');
    expect((await h.virsh('list', '--all', '--name')).trim()).to.equal('');
    expect(await d.reportPowerStates()).to.deep.equal({});
    expect(await hosts!.qemuCount('h1')).to.equal(0);
    // Started again: the same disks (kept while stopped), the same template copy (no second download).
    await d.start(vm, op);
    await waitFor(() => (consoleOf(d, vm.name).match(/CSD-GUEST-BOOTED/g) ?? []).length === 2, 60_000, 'the second boot', 200);
    expect(requests).to.equal(1);
    expect(await d.stop(vm.uuid, true, op)).to.deep.equal({ wasRunning: true });
    for (const id of ['root-1', 'data-1']) {
      expect(await d.deleteVolume(id)).to.equal(true);
      expect(existsSync(d.pool.volumePath(id))).to.equal(false);
    }
  });

  it('sees a guest that powers itself off, and fencing destroys every guest', async () => {
    const d = drivers[1]!;
    const a = spec(2, false);
    const b = spec(3, false);
    await d.start(a, op);
    await d.start(b, op);
    expect(Object.keys(await d.reportPowerStates()).sort()).to.deep.equal(['vm-2', 'vm-3']);
    await h.virsh('destroy', a.name); // behind the driver's back, as a crash would
    await waitFor(async () => (await d.reportPowerStates())['vm-2'] === undefined, 10_000, 'vm-2 seen off', 100);
    const fenced = await d.fence('test');
    expect(fenced.stoppedVms).to.deep.equal(['vm-3']);
    expect(await hosts!.qemuCount('h1')).to.equal(0);
    expect(await d.checkHealth()).to.equal('fenced');
    let refused: unknown;
    await d.start(a, op).catch((e: unknown) => { refused = e; });
    expect(String(refused)).to.match(/fenced/);
  });
});
