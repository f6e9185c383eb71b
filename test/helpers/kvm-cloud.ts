/**
 * A small cloud of real KVM hosts behind the CloudStack API, as the kvm-hosts system test and the kvm
 * bench both assemble it: a management node (child `cloudstackd`), KVM "hosts" (network namespaces with
 * their own libvirtd, see kvm-host.ts) each running `cloudstackd --role=compute --hypervisor kvm` over ws,
 * a KVM cluster with a primary storage, a 128 MiB service offering, and the tiny guest template
 * registered by URL from a loopback HTTP server of this process. One way of assembling it, so the test
 * and the bench measure and check the same thing. Everything it made goes at dispose(), which is safe
 * to call after a setup() that failed part way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statfsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { csclient, type Client } from '../lifecycle/csclient.js';
import { ProcCluster, type ProcClusterOptions } from '../system/distributed-cluster.js';
import { guestImage, KvmHosts, type KvmHost } from './kvm-host.js';
import { waitFor } from './wait.js';

export interface KvmCloudHost { id: string; name: string; state: string; hypervisor: string; cpunumber: number; memorytotal: number }
export interface KvmCloudVm { id: string; name: string; instancename: string; state: string; hostname?: string; hostid?: string; nic: { ipaddress?: string }[] }

export interface KvmCloudOptions {
  /** Host names; each becomes a namespace with its own libvirtd and compute agent. */
  hosts: string[];
  /** The management and compute processes' options. Default ws, log level warn, test heartbeat profile. */
  cluster?: Partial<ProcClusterOptions>;
  /** --kvm-stop-timeout of the agents, ms: an ACPI stop waits this long before destroying the guest. */
  stopTimeoutMs?: number;
  /** How long the template download and the agents' admission may take, ms (a loaded 2-core machine). */
  readyTimeoutMs?: number;
}

/** The kvm-hosts test's values: a guest that ignores ACPI is destroyed after 15 s, and 30 s for readiness. */
const DEFAULTS = { stopTimeoutMs: 15_000, readyTimeoutMs: 30_000 };
/** The guest's console line once its init ran (scripts/build-guest-image.sh). */
export const BOOT_MARKER = 'CSD-GUEST-BOOTED';

export class KvmCloud {
  readonly kvm = new KvmHosts();
  readonly cluster: ProcCluster;
  readonly ids = { zoneid: '', podid: '', clusterid: '', tiny: '', templateid: '', cluster: 'kvm1' };
  /** Milliseconds from starting the agents to every host Up (set by setup). */
  agentsUpMs = 0;
  private server: Server | undefined;
  private clientOf: Client | undefined;
  private readonly o: Required<Omit<KvmCloudOptions, 'cluster'>>;

  constructor(o: KvmCloudOptions) {
    this.o = { ...DEFAULTS, ...o };
    this.cluster = new ProcCluster({ transport: 'ws', logLevel: 'warn', ...o.cluster });
  }

  /** The csclient (the real third-party client) against the management node, once setup() ran. */
  get client(): Client {
    if (this.clientOf === undefined) throw new Error('KvmCloud.client used before setup() finished');
    return this.clientOf;
  }

  host(name: string): KvmHost {
    const h = this.kvm.hosts.get(name);
    if (h === undefined) throw new Error(`no KVM host named ${name} (hosts: ${[...this.kvm.hosts.keys()].join(', ')})`);
    return h;
  }

  /** Builds (or takes from its cache) the guest image, then assembles everything; agents Up at the end. */
  async setup(): Promise<void> {
    const image = await guestImage();
    const file = join(image, 'template.qcow2');
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': statSync(file).size }); createReadStream(file).pipe(res); });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/tiny-guest.qcow2`;

    await Promise.all(this.o.hosts.map((n, i) => this.kvm.add(n, i + 1)));
    await this.cluster.startManagement();
    const api = this.cluster.api!;
    const ids = this.ids;
    ids.zoneid = (await api.listAll<{ id: string }>('listZones', 'zone'))[0]!.id;
    ids.podid = (await api.listAll<{ id: string }>('listPods', 'pod', { zoneid: ids.zoneid }))[0]!.id;
    const cluster = await api.call<{ cluster: { id: string }[] }>('addCluster', { zoneid: ids.zoneid, podid: ids.podid, clustername: ids.cluster, hypervisor: 'KVM', clustertype: 'CloudManaged' });
    ids.clusterid = cluster.cluster[0]!.id;
    // The cluster's primary storage as the management side books it: one directory every host keeps the
    // files in (storageDir); the hosts report that file system's real capacity.
    const fs = statfsSync(this.kvm.dir);
    // Booked at twice its real size: the hosts' storage reports correct it (the kvm-hosts pool capacity test).
    await api.call('createStoragePool', { zoneid: ids.zoneid, podid: ids.podid, clusterid: ids.clusterid, scope: 'cluster', hypervisor: 'KVM', name: 'kvm-local',
      url: `sharedmountpoint:///${this.kvm.dir.replace(/^\//, '')}`, capacitybytes: 2 * fs.blocks * fs.bsize });
    // 128 MiB: the guest kernel needs 80 at least.
    ids.tiny = await this.serviceOffering({ name: 'tiny', displaytext: 'tiny' });
    const ostypeid = (await api.listAll<{ id: string }>('listOsTypes', 'ostype'))[0]!.id;
    const reg = await api.call<{ template: { id: string }[] }>('registerTemplate', { name: 'tiny-guest', displaytext: 'busybox guest', url, format: 'QCOW2',
      hypervisor: 'KVM', zoneid: ids.zoneid, ostypeid, checksum: `{SHA-256}${sha}`, ispublic: true, isfeatured: true });
    ids.templateid = reg.template[0]!.id;
    await waitFor(async () => (await api.listAll<{ isready: boolean }>('listTemplates', 'template', { templatefilter: 'all', id: ids.templateid }))[0]?.isready === true,
      this.o.readyTimeoutMs, 'the template Ready', 200);
    const t0 = Date.now();
    await Promise.all(this.o.hosts.map((n) => this.startAgent(n)));
    await waitFor(async () => (await this.kvmHosts()).filter((h) => h.state === 'Up').length === this.o.hosts.length, this.o.readyTimeoutMs,
      `${this.o.hosts.length} KVM hosts Up`, 200);
    this.agentsUpMs = Date.now() - t0;
    // A deploy boots a TCG guest: allow it a minute under load, not csclient's default 10 s.
    this.clientOf = await csclient(this.cluster.endpoint, this.cluster.keys, { maxJobWaitMs: 60_000 });
  }

  /** A 1-CPU, 128 MiB service offering with `extra` parameters (e.g. offerha); its id. */
  async serviceOffering(extra: Record<string, string | number | boolean>): Promise<string> {
    return (await this.cluster.api!.call<{ serviceoffering: { id: string } }>('createServiceOffering', { cpunumber: 1, cpuspeed: 500, memory: 128, ...extra })).serviceoffering.id;
  }

  /** (Re)starts the compute agent of host `name` (a process of the cluster under the same name). */
  startAgent(name: string): Promise<unknown> {
    const h = this.host(name);
    return this.cluster.startCompute(name, { extra: ['--hypervisor', 'kvm', '--libvirt-uri', h.uri, '--kvm-netns', h.netns, '--kvm-underlay', h.underlay,
      '--data-dir', this.agentDir(name), '--kvm-storage-dir', this.storageDir, '--cluster', this.ids.cluster, '--kvm-stop-timeout', String(this.o.stopTimeoutMs)] });
  }

  /**
   * The cluster's primary storage: one directory every host's agent is given (--kvm-storage-dir), as a
   * real cluster's hosts mount one NFS export, so a VM stopped on one host starts on another on its disks.
   */
  get storageDir(): string {
    return join(this.kvm.dir, 'primary');
  }

  /** The agent's --data-dir on host `name`. */
  agentDir(name: string): string {
    return join(this.host(name).dir, 'agent');
  }

  /** The pid of host `name`'s compute agent process. */
  agentPid(name: string): number {
    const pid = this.cluster.procs.get(name)?.child.pid;
    if (pid === undefined) throw new Error(`no compute agent running for host ${name}`);
    return pid;
  }

  async kvmHosts(): Promise<KvmCloudHost[]> {
    return (await this.cluster.api!.listAll<KvmCloudHost>('listHosts', 'host', { type: 'Routing' })).filter((h) => h.hypervisor === 'KVM');
  }

  /** deployVirtualMachine of the template through csclient; the VM as the finished job returns it. */
  async deploy(offering: string, extra: Record<string, string> = {}): Promise<KvmCloudVm> {
    const job = await this.client.job('deployVirtualMachine', { zoneid: this.ids.zoneid, templateid: this.ids.templateid, serviceofferingid: offering, ...extra });
    if (job.jobstatus !== 1) throw new Error(`deployVirtualMachine finished with jobstatus ${job.jobstatus}: ${JSON.stringify(job.jobresult)}`);
    return (job.jobresult as { virtualmachine: KvmCloudVm }).virtualmachine;
  }

  /** The guest's serial console log as the agent on `hostName` keeps it ('' before the guest wrote any). */
  consoleOf(hostName: string, instance: string): string {
    try { return readFileSync(join(this.agentDir(hostName), 'console', `${instance}.log`), 'utf8'); } catch { return ''; }
  }

  /** How many times the guest printed its boot marker (a reboot appends to the same log). */
  boots(hostName: string, instance: string): number {
    return (this.consoleOf(hostName, instance).match(new RegExp(BOOT_MARKER, 'g')) ?? []).length;
  }

  /** Waits for the guest's `count`th boot marker, polling the console log every `pollMs`. */
  async waitBootMarker(v: KvmCloudVm, count = 1, pollMs = 200): Promise<void> {
    await waitFor(() => this.boots(v.hostname!, v.instancename) >= count, 60_000, `${v.name} boot ${count} on ${v.hostname}`, pollMs);
  }

  /** Waits for the guest's `count`th boot marker and then its `count`th DHCP address line with the allocated address. */
  async waitBoot(v: KvmCloudVm, count = 1): Promise<void> {
    const ip = v.nic[0]!.ipaddress!;
    await this.waitBootMarker(v, count);
    await waitFor(() => (this.consoleOf(v.hostname!, v.instancename).match(new RegExp(`CSD-GUEST-IP eth0 ${ip.replace(/\./g, '\\.')}`, 'g')) ?? []).length >= count,
      60_000, `${v.name} configured ${ip} by DHCP`, 200);
  }

  async dispose(): Promise<void> {
    await this.cluster.dispose();
    await this.kvm.dispose();
    this.server?.close();
  }
}
