/**
 * The guest networks of one KVM host: a Linux bridge per network, joined to the other hosts by a VXLAN
 * device with the network's VNI over the underlay interface (CloudStack's VXLAN isolation, as its
 * modifyvxlan.sh sets it up: multicast group 239.x.y.z from the VNI), and dnsmasq on the bridge serving
 * each guest on this host the address the network component allocated (static leases, nobody else).
 * Everything is idempotent, so a restarted agent finds its bridges and dnsmasq processes as it left them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../src/clock.js';
import { InvalidParameterError } from '../../../src/errors.js';
import type { NicSpec } from '../protocol.js';
import type { CommandRunner } from './command-runner.js';

/** How guest networks are isolated on this host. 802.1Q VLANs need the kernel's 8021q; VXLAN is used regardless. */
export type Isolation = 'vxlan' | 'none';

interface Net { vni: number | undefined; bridge: string; leases: Map<string, string>; gateway?: string; prefix?: number; netmask?: string }

export class KvmNetworks {
  private readonly nets = new Map<string, Net>();
  private readonly pending = new Map<string, Promise<Net>>();
  /** Whether the kernel has 802.1Q (said in the log; VXLAN is what isolates here either way). */
  readonly has8021q = existsSync('/proc/net/vlan');

  constructor(private readonly run: CommandRunner, private readonly dir: string, private readonly underlay: string | undefined,
    private readonly clock: Clock) {}

  /** The bridge a NIC plugs into, made ready (bridge, VXLAN, DHCP) with the NIC's static lease. */
  async plug(nic: NicSpec): Promise<string> {
    const vni = vniOf(nic.broadcastUri);
    const key = vni === undefined ? 'untagged' : String(vni);
    let p = this.pending.get(key);
    if (p === undefined) {
      p = this.ensure(vni, nic);
      this.pending.set(key, p);
      p.catch(() => this.pending.delete(key));
    }
    const net = await p;
    if (nic.ip !== undefined && net.gateway !== undefined && net.leases.get(nic.mac.toLowerCase()) !== nic.ip) {
      net.leases.set(nic.mac.toLowerCase(), nic.ip);
      await this.writeLeases(net);
    }
    return net.bridge;
  }

  /** Forgets a NIC's lease (the VM left this host). */
  async unplug(nic: NicSpec): Promise<void> {
    const vni = vniOf(nic.broadcastUri);
    const net = this.nets.get(vni === undefined ? 'untagged' : String(vni));
    if (net?.leases.delete(nic.mac.toLowerCase()) !== true) return;
    // dnsmasq keeps a released guest's lease (an hour) and would refuse its address to the next guest
    // that is given it: start it afresh, with no lease database. The other guests' leases are static.
    const f = this.files(net);
    await this.stopDhcp(f.pid);
    await rm(f.leases, { force: true });
    if (net.netmask !== undefined) await this.startDhcp(net, net.netmask);
  }

  private async stopDhcp(pidFile: string): Promise<void> {
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!(pid > 0)) return;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    // Up to 1 s for it to exit (it frees the DHCP port); a zombie awaiting its reaper counts as alive.
    for (let i = 0; i < 50 && await this.dhcpAlive(pidFile); i++) await new Promise<void>((r) => { this.clock.setTimeout(r, 20); });
  }

  /** The isolation in use for a NIC's network. */
  isolationOf(nic: NicSpec): Isolation {
    return vniOf(nic.broadcastUri) === undefined ? 'none' : 'vxlan';
  }

  private async ensure(vni: number | undefined, nic: NicSpec): Promise<Net> {
    const bridge = vni === undefined ? 'csdbr0' : `csdbr${vni}`;
    if (!await this.linkExists(bridge)) {
      await this.ip(['link', 'add', bridge, 'type', 'bridge']);
      await this.ip(['link', 'set', bridge, 'up']);
    }
    if (vni !== undefined) {
      if (this.underlay === undefined) throw new InvalidParameterError(`network with VNI ${vni} needs an underlay interface (--kvm-underlay) to carry its VXLAN`);
      const vx = `csdvx${vni}`;
      if (!await this.linkExists(vx)) {
        const group = `239.${(vni >> 16) & 255}.${(vni >> 8) & 255}.${vni & 255}`;
        await this.ip(['link', 'add', vx, 'type', 'vxlan', 'id', String(vni), 'group', group, 'dev', this.underlay, 'dstport', '4789']);
        await this.ip(['link', 'set', vx, 'master', bridge]);
        await this.ip(['link', 'set', vx, 'up']);
      }
    }
    const net: Net = { vni, bridge, leases: new Map() };
    if (nic.gateway !== undefined && nic.netmask !== undefined) {
      net.gateway = nic.gateway;
      net.prefix = prefixOf(nic.netmask);
      net.netmask = nic.netmask;
      await this.startDhcp(net, nic.netmask);
    }
    this.nets.set(vni === undefined ? 'untagged' : String(vni), net);
    return net;
  }

  private files(net: Net): { hosts: string; pid: string; leases: string; log: string } {
    const base = join(this.dir, `dhcp-${net.bridge}`);
    return { hosts: `${base}.hosts`, pid: `${base}.pid`, leases: `${base}.leases`, log: `${base}.log` };
  }

  /** dnsmasq on the bridge with the gateway's address, answering only the MACs it has a static lease for. */
  private async startDhcp(net: Net, netmask: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const f = this.files(net);
    // Only the guests this agent knows: a restarted agent plugs each re-adopted guest again, which adds its lease.
    await writeFile(f.hosts, hostsFile(net));
    const addrs = await this.ip(['-o', 'addr', 'show', 'dev', net.bridge]);
    if (!addrs.includes(` ${net.gateway}/`)) await this.ip(['addr', 'add', `${net.gateway}/${net.prefix}`, 'dev', net.bridge]);
    if (await this.dhcpAlive(f.pid)) return;
    const network = networkOf(net.gateway!, net.prefix!);
    // As root: its hosts file lives in the agent's private data directory, which user nobody cannot read.
    await this.run.run('dnsmasq', ['--conf-file=/dev/null', '--user=root', '--port=0', '--bind-interfaces', `--interface=${net.bridge}`, '--except-interface=lo',
      `--dhcp-range=${network},static,${netmask}`, `--dhcp-hostsfile=${f.hosts}`, '--dhcp-ignore=tag:!known', `--dhcp-option=3,${net.gateway}`,
      `--pid-file=${f.pid}`, `--dhcp-leasefile=${f.leases}`, '--log-dhcp', `--log-facility=${f.log}`], { inNetns: true });
  }

  private async dhcpAlive(pidFile: string): Promise<boolean> {
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!(pid > 0)) return false;
    try { process.kill(pid, 0); return true; } catch { return false; }
  }

  private async writeLeases(net: Net): Promise<void> {
    const f = this.files(net);
    await writeFile(f.hosts, hostsFile(net));
    const pid = Number((await readFile(f.pid, 'utf8').catch(() => '')).trim());
    if (pid > 0) { try { process.kill(pid, 'SIGHUP'); } catch { /* gone: the next plug starts it again */ } }
  }

  /** Stops the DHCP servers and removes the bridges and VXLAN devices of this host (host teardown). */
  async teardown(): Promise<void> {
    for (const net of this.nets.values()) {
      const f = this.files(net);
      const pid = Number((await readFile(f.pid, 'utf8').catch(() => '')).trim());
      if (pid > 0) { try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ } }
      await Promise.all([f.hosts, f.pid, f.leases, f.log].map((x) => rm(x, { force: true })));
      if (net.vni !== undefined) await this.ip(['link', 'del', `csdvx${net.vni}`]).catch(() => undefined);
      await this.ip(['link', 'del', net.bridge]).catch(() => undefined);
    }
    this.nets.clear();
    this.pending.clear();
  }

  private async linkExists(name: string): Promise<boolean> {
    return this.ip(['link', 'show', name]).then(() => true, () => false);
  }

  private ip(args: string[]): Promise<string> {
    return this.run.run('ip', args, { inNetns: true, kind: `ip ${args.find((a) => !a.startsWith('-'))}` });
  }
}

function hostsFile(net: Net): string {
  return [...net.leases].map(([mac, ip]) => `${mac},${ip}`).join('\n') + '\n';
}

/** `vlan://100` or `vxlan://5000` → 100 / 5000; untagged or absent → undefined. */
export function vniOf(uri: string | undefined): number | undefined {
  const m = /^(?:vlan|vxlan):\/\/(\d+)$/.exec(uri ?? '');
  if (m === null) return undefined;
  const n = Number(m[1]);
  if (!(n >= 1 && n <= 16_777_215)) throw new InvalidParameterError(`VNI ${n} is outside 1..16777215`);
  return n;
}

export function prefixOf(netmask: string): number {
  return netmask.split('.').reduce((bits, o) => bits + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

export function networkOf(ip: string, prefix: number): string {
  const n = ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}
