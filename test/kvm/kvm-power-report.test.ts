/**
 * The kvm driver's power report against a stand-in virsh (no libvirt, no QEMU): domains started or
 * destroyed behind the driver's back (`virsh start` / `virsh destroy` on the host) show in and leave the
 * report, so that the fabric monitor can reconcile them with the database.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecFn } from '../../actors/compute/kvm/command-runner.js';
import { CommandError } from '../../actors/compute/kvm/command-runner.js';
import { domainXml } from '../../actors/compute/kvm/domain-xml.js';
import { KVM_DEFAULTS } from '../../actors/compute/kvm/kvm-config.js';
import { KvmDriver } from '../../actors/compute/kvm/kvm-driver.js';
import type { VmSpec } from '../../actors/compute/protocol.js';
import { SimulatedClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';

const op = { key: 'k', deadline: undefined };

const spec = (n: number): VmSpec => ({
  uuid: `vm-${n}`, name: `i-2-${n}-VM`, cpuCores: 1, cpuSpeedMhz: 500, memoryMiB: 128,
  nics: [{ deviceId: 0, mac: `02:00:00:00:01:0${n}`, ip: `10.1.1.${10 + n}`, netmask: '255.255.255.0', gateway: '10.1.1.1', broadcastUri: 'vlan://100', isDefault: true }],
  volumes: [{ uuid: `root-${n}`, deviceId: 0, type: 'ROOT', sizeBytes: 0, isNew: true }],
});
/** The XML the driver writes for `s` (what an operator defines again with `virsh define`). */
const xmlOf = (s: VmSpec): string => domainXml({ spec: s, type: 'qemu', disks: [{ file: `/p/root-${s.uuid}.qcow2`, dev: 'vda' }],
  nics: [{ bridge: 'csdbr100', mac: s.nics[0]!.mac }], consoleLog: `/d/console/${s.name}.log`, tbCacheMiB: 32 });

describe('kvm driver: power report of domains started or destroyed out of band', () => {
  let dir: string;
  /** The stand-in libvirtd's domains: name → XML and whether it runs. */
  let domains: Map<string, { xml: string; running: boolean }>;
  let verbs: string[];
  let d: KvmDriver;
  /** When set, `virsh list` reads the domains at once but answers only when this settles. */
  let listGate: Promise<void> | undefined;

  const exec: ExecFn = async (file, args) => {
    if (file !== 'virsh') return ''; // ip, dnsmasq: the bridge and DHCP are not what is checked here (but the leases file is)
    const [verb, name] = [args[3]!, args[4]];
    verbs.push(name === undefined ? verb : `${verb} ${name}`);
    const dom = name === undefined ? undefined : domains.get(name);
    switch (verb) {
      case 'nodeinfo': return 'CPU(s):              2\nCPU frequency:       2000 MHz\nMemory size:         4194304 KiB\n';
      case 'version': return 'Running hypervisor: QEMU 8.2.2\n';
      case 'list': {
        const out = [...domains].filter(([, x]) => x.running).map(([n]) => `${n}\n`).join('');
        if (listGate !== undefined) await listGate;
        return out;
      }
      case 'reset':
        if (dom === undefined) throw new CommandError(`virsh reset ${name} failed`, `error: failed to get domain '${name}'`);
        dom.running = true;
        return '';
      case 'dumpxml':
        if (dom === undefined) throw new CommandError(`virsh dumpxml ${name} failed`, `error: failed to get domain '${name}'`);
        return dom.xml;
      case 'destroy':
        if (dom?.running !== true) throw new CommandError(`virsh destroy ${name} failed`, 'error: domain is not running');
        dom.running = false;
        return '';
      case 'undefine':
        if (dom === undefined) throw new CommandError(`virsh undefine ${name} failed`, `error: failed to get domain '${name}'`);
        // A running domain undefined becomes transient: it runs on and goes when it stops.
        if (dom.running) dom.xml = dom.xml.replace('<domain', '<domain transient="yes"'); else domains.delete(name!);
        return '';
      default: throw new Error(`unexpected virsh ${args.slice(3).join(' ')}`);
    }
  };
  const leases = (): string => { try { return readFileSync(join(dir, 'data', 'dhcp', 'dhcp-csdbr100.hosts'), 'utf8'); } catch { return ''; } };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csd-kvm-power-'));
    domains = new Map();
    verbs = [];
    listGate = undefined;
    d = new KvmDriver({ host: { hostName: 'k1', zone: 'z', pod: 'p', cluster: 'c' }, clock: new SimulatedClock(), log: silentLogger, exec, events: false,
      config: { ...KVM_DEFAULTS, storageDir: join(dir, 'primary'), dataDir: join(dir, 'data'), underlay: 'uplink' } });
    await d.init();
  });

  afterEach(async () => {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a domain of ours started behind its back, with its DHCP lease, and a forced stop destroys it', async () => {
    expect(await d.queryPowerStates()).to.deep.equal({});
    // `virsh define <data-dir>/domains/i-2-7-VM.xml && virsh start i-2-7-VM` on the host.
    domains.set('i-2-7-VM', { xml: xmlOf(spec(7)), running: true });
    expect(await d.queryPowerStates()).to.deep.equal({ 'vm-7': 'PowerOn' });
    expect(await d.reportPowerStates(), 'what the heartbeat carries').to.deep.equal({ 'vm-7': 'PowerOn' });
    expect(leases()).to.include('02:00:00:00:01:07,10.1.1.17');
    expect((await d.describeHost()).allocated.vms).to.equal(1);
    // Taken once: the next report reads no XML again.
    verbs = [];
    await d.queryPowerStates();
    expect(verbs).to.deep.equal(['list --name']);
    // What the fabric monitor sends for a copy the database does not place here.
    expect(await d.stop('vm-7', true, op)).to.deep.equal({ wasRunning: true });
    expect(verbs).to.include.members(['destroy i-2-7-VM', 'undefine i-2-7-VM']);
    expect(domains.has('i-2-7-VM')).to.equal(false);
    expect(await d.queryPowerStates()).to.deep.equal({});
    expect(leases()).to.not.include('02:00:00:00:01:07');
  });

  it('drops a guest destroyed behind its back from the report, undefines it and frees its lease', async () => {
    domains.set('i-2-8-VM', { xml: xmlOf(spec(8)), running: true });
    await d.queryPowerStates();
    expect(leases()).to.include('02:00:00:00:01:08,10.1.1.18');
    domains.get('i-2-8-VM')!.running = false; // `virsh destroy i-2-8-VM`
    expect(await d.queryPowerStates()).to.deep.equal({});
    expect(domains.has('i-2-8-VM'), 'undefined').to.equal(false);
    expect(leases()).to.not.include('02:00:00:00:01:08');
  });

  it('leaves out domains that carry no cloudstackd spec, reading each one once while it runs', async () => {
    domains.set('someone-elses', { xml: "<domain type='kvm'><name>someone-elses</name></domain>", running: true });
    expect(await d.queryPowerStates()).to.deep.equal({});
    expect(await d.queryPowerStates()).to.deep.equal({});
    expect(verbs.filter((v) => v === 'dumpxml someone-elses')).to.have.length(1);
    // Stopped and started again (perhaps redefined meanwhile): read again.
    domains.get('someone-elses')!.running = false;
    await d.queryPowerStates();
    domains.get('someone-elses')!.running = true;
    await d.queryPowerStates();
    expect(verbs.filter((v) => v === 'dumpxml someone-elses')).to.have.length(2);
  });

  it('runs one poll pass at a time: reports asked together agree and take a domain once', async () => {
    domains.set('i-2-9-VM', { xml: xmlOf(spec(9)), running: true });
    const [a, b, c] = await Promise.all([d.queryPowerStates(), d.queryPowerStates(), d.queryPowerStates()]);
    expect([a, b, c]).to.deep.equal([{ 'vm-9': 'PowerOn' }, { 'vm-9': 'PowerOn' }, { 'vm-9': 'PowerOn' }]);
    expect(verbs.filter((v) => v === 'dumpxml i-2-9-VM')).to.have.length(1);
  });

  it('keeps a guest whose operation ended after a poll read the list (the list said nothing of it then)', async () => {
    domains.set('i-2-5-VM', { xml: xmlOf(spec(5)), running: true });
    expect(await d.queryPowerStates()).to.deep.equal({ 'vm-5': 'PowerOn' });
    // A poll reads the list while the guest is between states, and answers late.
    domains.get('i-2-5-VM')!.running = false;
    let release: () => void = () => undefined;
    listGate = new Promise<void>((r) => { release = r; });
    const report = d.queryPowerStates();
    await new Promise((r) => setImmediate(r));
    listGate = undefined;
    await d.reboot('vm-5', op); // ends (running again) after that read
    release();
    expect(await report).to.deep.equal({ 'vm-5': 'PowerOn' });
    expect(verbs, 'not undefined as powered off').to.not.include('undefine i-2-5-VM');
    expect(await d.queryPowerStates()).to.deep.equal({ 'vm-5': 'PowerOn' });
  });
});
