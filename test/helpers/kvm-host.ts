/**
 * Hypervisor "hosts" on one machine for the real-VM tests and bench: each is a network namespace with
 * its own libvirtd (own sockets, state and config under a temp directory, in a private mount namespace),
 * joined to the others by a veth into a "fabric" namespace whose bridge is their underlay (VXLAN runs
 * over it). Nothing is addressed outside these namespaces. dispose() removes everything, also after a
 * failure: processes in the namespaces are killed, then the namespaces deleted.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from './paths.js';
import { sleep, waitFor } from './wait.js';

const run = promisify(execFile);

/** Programs the real-VM tests need; the first missing one, or undefined. */
export function missingHypervisorTool(): string | undefined {
  const need = ['/usr/sbin/libvirtd', '/usr/bin/virsh', '/usr/bin/qemu-system-x86_64', '/usr/bin/qemu-img', '/usr/bin/tini', '/usr/sbin/dnsmasq',
    '/usr/bin/syslinux', '/usr/bin/mcopy', '/sbin/mkfs.vfat'];
  const alt = (p: string): boolean => existsSync(p) || existsSync(p.replace('/usr/sbin/', '/usr/bin/').replace('/sbin/', '/usr/sbin/'));
  if (process.getuid?.() !== 0) return 'root (network namespaces)';
  return need.find((p) => !alt(p));
}

/** The guest image directory (template.qcow2), built by scripts/build-guest-image.sh or taken from its cache. */
export async function guestImage(): Promise<string> {
  const { stdout } = await run('bash', [join(projectRoot(), 'scripts/build-guest-image.sh')], { timeout: 300_000 });
  return stdout.trim().split('\n').pop()!;
}

export interface KvmHost {
  readonly name: string;
  readonly netns: string;
  readonly dir: string;
  readonly uri: string;
  /** The host's underlay interface (inside its namespace). */
  readonly underlay: string;
  libvirtd: ChildProcess | undefined;
  virsh(...args: string[]): Promise<string>;
}

export class KvmHosts {
  readonly id = randomBytes(3).toString('hex');
  readonly dir = mkdtempSync(join(tmpdir(), 'cloudstackd-kvm-'));
  readonly fabric = `csd${this.id}-fab`;
  readonly hosts = new Map<string, KvmHost>();
  private fabricUp: Promise<void> | undefined;

  private async ip(...args: string[]): Promise<string> {
    return (await run('ip', args)).stdout;
  }

  /** The fabric namespace and its bridge: the underlay every host joins. */
  private ensureFabric(): Promise<void> {
    this.fabricUp ??= (async () => {
      await this.ip('netns', 'add', this.fabric);
      // No IGMP snooping: nothing queries on this segment, and VXLAN's multicast must reach every host.
      await this.ip('-n', this.fabric, 'link', 'add', 'fab0', 'type', 'bridge', 'mcast_snooping', '0');
      await this.ip('-n', this.fabric, 'link', 'set', 'fab0', 'up');
    })();
    return this.fabricUp;
  }

  /** A new host: namespace, uplink (172.31.250.<index>/24) on the fabric, and its own libvirtd. */
  async add(name: string, index: number): Promise<KvmHost> {
    await this.ensureFabric();
    const netns = `csd${this.id}-${name}`;
    const dir = join(this.dir, name);
    await this.ip('netns', 'add', netns);
    await this.ip('-n', netns, 'link', 'set', 'lo', 'up');
    const peer = `v${this.id}${index}`;
    await this.ip('link', 'add', peer, 'netns', this.fabric, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', netns);
    await this.ip('-n', this.fabric, 'link', 'set', peer, 'master', 'fab0');
    await this.ip('-n', this.fabric, 'link', 'set', peer, 'up');
    await this.ip('-n', netns, 'addr', 'add', `172.31.250.${index}/24`, 'dev', 'uplink');
    await this.ip('-n', netns, 'link', 'set', 'uplink', 'up');
    // VXLAN multicast groups go out of the uplink.
    await this.ip('-n', netns, 'route', 'add', '239.0.0.0/8', 'dev', 'uplink');
    for (const d of ['run', 'lib', 'cache', 'log', 'data']) mkdirSync(join(dir, d), { recursive: true });
    cpSync('/etc/libvirt', join(dir, 'etc'), { recursive: true });
    // QEMU as root with no confinement and no virtlogd: the test owns everything under its temp directory.
    appendFileSync(join(dir, 'etc', 'qemu.conf'), '\nuser = "+0"\ngroup = "+0"\nstdio_handler = "file"\nsecurity_driver = "none"\n');
    const h: KvmHost = { name, netns, dir, uri: `qemu+unix:///system?socket=${join(dir, 'run', 'libvirt-sock')}`, underlay: 'uplink', libvirtd: undefined,
      virsh: async (...args) => (await run('virsh', ['-q', '-c', h.uri, ...args])).stdout };
    this.hosts.set(name, h);
    await this.startLibvirtd(h);
    return h;
  }

  /** (Re)starts a host's libvirtd under tini (a subreaper: exited QEMUs are reaped at once). */
  async startLibvirtd(h: KvmHost): Promise<void> {
    for (const d of ['/run/libvirt', '/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt']) mkdirSync(d, { recursive: true });
    const mounts = [['etc', '/etc/libvirt'], ['run', '/run/libvirt'], ['lib', '/var/lib/libvirt'], ['cache', '/var/cache/libvirt'], ['log', '/var/log/libvirt']]
      .map(([from, to]) => `mount --bind ${join(h.dir, from!)} ${to}`).join(' && ');
    rmSync(join(h.dir, 'run', 'libvirt-sock'), { force: true });
    h.libvirtd = spawn('ip', ['netns', 'exec', h.netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec tini -s -- libvirtd -p ${join(h.dir, 'run', 'libvirtd.pid')}`],
      { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    await waitFor(async () => h.virsh('version').then(() => true, () => false), 20_000, `libvirtd of ${h.name} answering`, 100);
  }

  /** Every process in the host's namespace (libvirtd, QEMU, dnsmasq), killed at once: the host loses power. */
  async killHost(name: string): Promise<void> {
    const h = this.hosts.get(name)!;
    const pids = (await this.ip('netns', 'pids', h.netns)).split('\n').map(Number).filter((p) => p > 0);
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    if (h.libvirtd !== undefined) { try { process.kill(-h.libvirtd.pid!, 'SIGKILL'); } catch { /* gone */ } }
    h.libvirtd = undefined;
  }

  /** QEMU processes running in the host's namespace (a destroyed domain leaves none). */
  async qemuCount(name: string): Promise<number> {
    const h = this.hosts.get(name)!;
    const pids = (await this.ip('netns', 'pids', h.netns)).split('\n').filter(Boolean);
    let n = 0;
    for (const p of pids) {
      const cmd = await run('cat', [`/proc/${p}/comm`]).then((r) => r.stdout.trim(), () => '');
      if (cmd.startsWith('qemu-system')) n++;
    }
    return n;
  }

  /** Resident memory of each QEMU process in the host's namespace, KiB. */
  async qemuRssKiB(name: string): Promise<number[]> {
    const h = this.hosts.get(name)!;
    const out: number[] = [];
    for (const p of (await this.ip('netns', 'pids', h.netns)).split('\n').filter(Boolean)) {
      const status = await run('cat', [`/proc/${p}/status`]).then((r) => r.stdout, () => '');
      if (/^Name:\s+qemu-system/m.test(status)) out.push(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    }
    return out;
  }

  async dispose(): Promise<void> {
    for (const h of this.hosts.values()) {
      await h.virsh('list', '--name').then(async (out) => {
        for (const d of out.split('\n').map((s) => s.trim()).filter(Boolean)) await h.virsh('destroy', d).catch(() => undefined);
      }, () => undefined);
      await this.killHost(h.name).catch(() => undefined);
    }
    await sleep(100);
    for (const h of this.hosts.values()) await this.ip('netns', 'del', h.netns).catch(() => undefined);
    if (this.fabricUp !== undefined) await this.ip('netns', 'del', this.fabric).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
