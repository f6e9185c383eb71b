/** The kvm driver's pure parts: domain XML and its metadata, events, VNIs and addresses, checksums, console tails, timings. */
import { expect } from 'chai';
import { CommandError, CommandRunner } from '../../actors/compute/kvm/command-runner.js';
import { parseEventLine } from '../../actors/compute/kvm/domain-events.js';
import { diskDev, domainXml, specFromXml } from '../../actors/compute/kvm/domain-xml.js';
import { consoleLogPath, tailLines } from '../../actors/compute/kvm/kvm-driver.js';
import { networkOf, prefixOf, vniOf } from '../../actors/compute/kvm/kvm-networks.js';
import { parseChecksum } from '../../actors/compute/kvm/kvm-pool.js';
import type { VmSpec } from '../../actors/compute/protocol.js';
import { SimulatedClock } from '../../src/clock.js';

const spec: VmSpec = {
  uuid: 'a1b2', name: 'i-2-7-VM', displayName: 'web <1> & "two"', cpuCores: 2, cpuSpeedMhz: 1000, memoryMiB: 256,
  nics: [{ deviceId: 0, mac: '02:AA:00:00:00:01', ip: '10.1.1.5', isDefault: true, broadcastUri: 'vlan://100' }],
  volumes: [{ uuid: 'r1', deviceId: 0, type: 'ROOT', sizeBytes: 0, isNew: true }],
};

describe('kvm driver parts', () => {
  it('writes TCG or KVM domain XML with escaped text, virtio disks and NICs, a logged serial console, and the spec in its metadata', () => {
    const xml = domainXml({ spec, type: 'qemu', disks: [{ file: '/p/r1.qcow2', dev: 'vda' }], nics: [{ bridge: 'csdbr100', mac: '02:AA:00:00:00:01' }],
      consoleLog: '/d/console/i-2-7-VM.log', tbCacheMiB: 32 });
    expect(xml).to.match(/^<domain type='qemu'>/);
    expect(xml).to.include('<title>web &lt;1&gt; &amp; &quot;two&quot;</title>');
    expect(xml).to.include("<tb-cache unit='MiB'>32</tb-cache>");
    expect(xml).to.include("<mac address='02:aa:00:00:00:01'/>");
    expect(xml).to.include("<log file='/d/console/i-2-7-VM.log' append='on'/>");
    expect(specFromXml(xml)).to.deep.equal(spec);
    const kvm = domainXml({ spec, type: 'kvm', disks: [], nics: [], consoleLog: '/x', tbCacheMiB: 32 });
    expect(kvm).to.match(/^<domain type='kvm'>/);
    expect(kvm).to.not.include('tb-cache');
    // libvirt writes the metadata back with double quotes
    expect(specFromXml(xml.replace(/'/g, '"'))).to.deep.equal(spec);
    expect(specFromXml('<domain><name>other</name></domain>')).to.equal(undefined);
  });

  it('names disks vda, vdb ... vdz, vdaa by device id', () => {
    expect([0, 1, 25, 26, 27].map(diskDev)).to.deep.equal(['vda', 'vdb', 'vdz', 'vdaa', 'vdab']);
  });

  it('parses virsh lifecycle events', () => {
    expect(parseEventLine("event 'lifecycle' for domain 'i-2-7-VM': Stopped Destroyed")).to.deep.equal({ domain: 'i-2-7-VM', event: 'Stopped', detail: 'Destroyed' });
    expect(parseEventLine("2026-01-01 10:00:00.000+0000: event 'lifecycle' for domain i-2-7-VM: Started Booted"))
      .to.deep.equal({ domain: 'i-2-7-VM', event: 'Started', detail: 'Booted' });
    expect(parseEventLine("event 'reboot' for domain 'x'")).to.equal(undefined);
  });

  it('takes the VNI from vlan:// or vxlan:// and computes prefixes and network addresses', () => {
    expect(vniOf('vlan://100')).to.equal(100);
    expect(vniOf('vxlan://5000')).to.equal(5000);
    expect(vniOf('vlan://untagged')).to.equal(undefined);
    expect(vniOf(undefined)).to.equal(undefined);
    expect(() => vniOf('vxlan://16777216')).to.throw(/outside/);
    expect(prefixOf('255.255.255.0')).to.equal(24);
    expect(prefixOf('255.255.240.0')).to.equal(20);
    expect(networkOf('10.1.17.200', 20)).to.equal('10.1.16.0');
  });

  it("reads CloudStack's checksum forms", () => {
    expect(parseChecksum('{SHA-256}ABCD')).to.deep.equal({ algorithm: 'sha256', hex: 'abcd' });
    expect(parseChecksum('{MD5}00ff')).to.deep.equal({ algorithm: 'md5', hex: '00ff' });
    expect(parseChecksum('a'.repeat(64))?.algorithm).to.equal('sha256');
    expect(parseChecksum('a'.repeat(32))?.algorithm).to.equal('md5');
    expect(parseChecksum('')).to.equal(undefined);
    expect(parseChecksum(undefined)).to.equal(undefined);
  });

  it('tails the console and refuses instance names that are not file names', () => {
    expect(tailLines('a\nb\nc\n', 2)).to.equal('b\nc');
    expect(tailLines('a', 5)).to.equal('a');
    expect(consoleLogPath('/d', 'i-2-7-VM')).to.equal('/d/console/i-2-7-VM.log');
    expect(() => consoleLogPath('/d', '../etc/passwd')).to.throw(/cannot name a console log/);
  });

  it('times each kind of command, failures included, and runs it in the namespace when asked', async () => {
    const clock = new SimulatedClock();
    const calls: string[][] = [];
    const runner = new CommandRunner(async (file, args) => {
      calls.push([file, ...args]);
      if (args.includes('bad')) throw new CommandError('bad', 'error: failed to get domain');
      return 'ok';
    }, clock, 1_000, 'ns1');
    expect(await runner.run('virsh', ['-c', 'u', 'start', 'x'], { kind: 'virsh start' })).to.equal('ok');
    await runner.run('virsh', ['-c', 'u', 'start', 'bad'], { kind: 'virsh start' }).catch(() => undefined);
    await runner.run('ip', ['link', 'show', 'br0'], { inNetns: true });
    expect(calls[2]).to.deep.equal(['ip', 'netns', 'exec', 'ns1', 'ip', 'link', 'show', 'br0']);
    expect(runner.timings()['virsh start']).to.deep.include({ calls: 2, failures: 1 });
    expect(runner.timings()['ip link']).to.deep.include({ calls: 1, failures: 0 });
  });
});
