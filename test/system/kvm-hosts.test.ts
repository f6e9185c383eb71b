/**
 * Real VMs through the CloudStack API: a management node and two KVM "hosts", each a network namespace
 * with its own libvirtd and its own `cloudstackd --role=compute --hypervisor kvm`, over ws. Guests boot
 * under TCG from a template registered by URL (served by this test over loopback) and report on their
 * serial console, which the test reads from the host's console log. Both hosts keep disks in one storage
 * directory, which stands for the cluster's NFS primary storage mounted on every host (--kvm-storage-dir):
 * a VM stopped on one host starts on the other on the same disk. Everything lives in namespaces and
 * temp directories that `after` removes, also after a failure. The cloud is assembled by
 * test/helpers/kvm-cloud.ts, which the kvm bench (bench/kvm.ts) shares.
 * Skips without root or the packages (.ci/install-hypervisor.sh), except under CI where it fails.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { KvmCloud, type KvmCloudHost as Host, type KvmCloudVm as Vm } from '../helpers/kvm-cloud.js';
import { missingHypervisorTool, type KvmHost, type KvmHosts } from '../helpers/kvm-host.js';
import { cliPath } from '../helpers/paths.js';
import { sleep, waitFor } from '../helpers/wait.js';
import type { Client } from '../lifecycle/csclient.js';
import type { ProcCluster } from './distributed-cluster.js';

const HOSTS = ['k1', 'k2'];

function print(line: string): void {
  process.stdout.write(`      (${line})\n`);
}

describe('system: real VMs on two KVM hosts (libvirt, TCG), each in its own namespace', function () {
  this.timeout(180_000);
  let cloud: KvmCloud | undefined;
  let kvm: KvmHosts | undefined;
  let c: ProcCluster | undefined;
  let client: Client;
  const ids = { zoneid: '', tiny: '', ha: '', templateid: '' };

  const host = (name: string): KvmHost => cloud!.host(name);
  const consoleOf = (hostName: string, instance: string): string => cloud!.consoleOf(hostName, instance);
  const boots = (hostName: string, instance: string): number => cloud!.boots(hostName, instance);
  const vm = async (id: string): Promise<Vm> => (await c!.api!.listAll<Vm>('listVirtualMachines', 'virtualmachine', { id, listall: true }))[0]!;
  const kvmHosts = (): Promise<Host[]> => cloud!.kvmHosts();
  const domains = async (name: string): Promise<string[]> => (await host(name).virsh('list', '--all', '--name')).split('\n').map((s) => s.trim()).filter(Boolean);
  /** The cluster's primary storage: one directory both hosts' agents use (the NFS mount of a real cluster). */
  const primary = (): string => cloud!.storageDir;
  const diskFiles = (): string[] => (existsSync(primary()) ? readdirSync(primary()).filter((f) => f.endsWith('.qcow2')) : []);
  const snapshotFiles = (): string[] => {
    const dir = join(primary(), 'snapshots');
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  /** The file's inode: the same file, not a new one made in its place. */
  const inode = (volid: string): number => statSync(join(primary(), `${volid}.qcow2`)).ino;
  /**
   * Files and records agree in the shared storage: no file whose volume is gone, no Ready volume without
   * its file; no snapshot file without a BackedUp snapshot, no BackedUp snapshot without its file; no
   * half-written (.part.<random>) file anywhere.
   */
  const filesMatchVolumes = async (): Promise<void> => {
    const vols = await c!.api!.listAll<{ id: string; state: string }>('listVolumes', 'volume', { listall: true });
    const files = new Set(diskFiles().map((f) => f.replace(/\.qcow2$/, '')));
    const known = new Set(vols.map((v) => v.id));
    expect([...files].filter((f) => !known.has(f)), 'disk files whose volume is gone').to.deep.equal([]);
    expect(vols.filter((v) => v.state === 'Ready' && !files.has(v.id)).map((v) => v.id), 'Ready volumes without a disk file').to.deep.equal([]);
    const snaps = await c!.api!.listAll<{ id: string; state: string }>('listSnapshots', 'snapshot', { listall: true });
    const snapFiles = snapshotFiles();
    expect(snapFiles.filter((f) => !f.endsWith('.qcow2')), 'half-written snapshot files').to.deep.equal([]);
    const backedUp = new Set(snaps.filter((x) => x.state === 'BackedUp').map((x) => x.id));
    const held = new Set(snapFiles.map((f) => f.replace(/\.qcow2$/, '')));
    expect([...held].filter((f) => !backedUp.has(f)), 'snapshot files without a BackedUp snapshot').to.deep.equal([]);
    expect([...backedUp].filter((x) => !held.has(x)), 'BackedUp snapshots without a file').to.deep.equal([]);
    const parts = [primary(), join(primary(), 'templates')].flatMap((d) => (existsSync(d) ? readdirSync(d) : []).filter((f) => f.includes('.part')));
    expect(parts, 'half-written disk or template files').to.deep.equal([]);
    // Created templates' files are named by template id (downloaded ones by a hash of their URL).
    const tpls = new Set((await c!.api!.listAll<{ id: string }>('listTemplates', 'template', { templatefilter: 'all', listall: true })).map((x) => x.id));
    const tplFiles = readdirSync(join(primary(), 'templates')).filter((f) => /^[0-9a-f-]{36}\.qcow2$/.test(f)).map((f) => f.replace(/\.qcow2$/, ''));
    expect(tplFiles.filter((f) => !tpls.has(f)), 'template files whose template is gone').to.deep.equal([]);
  };
  const qemuInfo = (file: string): { 'virtual-size': number; 'actual-size': number; 'backing-filename'?: string } =>
    JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', file], { encoding: 'utf8' })) as never;
  const startAgent = (name: string): Promise<unknown> => cloud!.startAgent(name);
  const deploy = async (offering: string): Promise<Vm> => cloud!.deploy(offering);
  const waitBoot = (v: Vm, count = 1): Promise<void> => cloud!.waitBoot(v, count);

  before(async function () {
    const missing = missingHypervisorTool() ?? (existsSync(cliPath()) ? undefined : `${cliPath()} (npm run build)`);
    if (missing !== undefined) {
      if (process.env.CI === 'true') throw new Error(`real-VM tests need ${missing}: run .ci/install-hypervisor.sh`);
      print(`skipped: needs ${missing}; run .ci/install-hypervisor.sh`);
      this.skip();
    }
    cloud = new KvmCloud({ hosts: HOSTS });
    kvm = cloud.kvm;
    c = cloud.cluster;
    await cloud.setup();
    Object.assign(ids, { zoneid: cloud.ids.zoneid, tiny: cloud.ids.tiny, templateid: cloud.ids.templateid });
    // HA for the host-failure case.
    ids.ha = await cloud.serviceOffering({ name: 'tiny-ha', displaytext: 'tiny HA', offerha: true });
    print(`${HOSTS.length} KVM hosts Up ${cloud.agentsUpMs} ms after their agents were started`);
    client = cloud.client;
  });

  after(async () => {
    await cloud?.dispose();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && c !== undefined) {
      for (const p of c.procs.values()) process.stdout.write(`--- ${p.name} stderr (tail) ---\n${p.tail().slice(-2000)}\n`);
      for (const n of HOSTS) {
        const dir = join(host(n).dir, 'agent', 'dhcp');
        for (const f of existsSync(dir) ? readdirSync(dir) : []) {
          process.stdout.write(`--- ${n} ${f} ---\n${readFileSync(join(dir, f), 'utf8').slice(-1500)}\n`);
        }
      }
    }
  });

  it('admits both hosts with their real capacity', async () => {
    for (const h of await kvmHosts()) {
      const info = await host(h.name).virsh('nodeinfo');
      expect(h.cpunumber).to.equal(cpus().length);
      expect(h.memorytotal).to.equal(Math.floor(Number(/Memory size:\s+(\d+) KiB/.exec(info)![1]) / 1024) * 1024 * 1024);
    }
  });

  it("books the cluster's pool with the real capacity and usage of the hosts' storage file system (one file system, counted once)", async () => {
    const df = (): { total: number; used: number } => {
      const fs = statfsSync(primary());
      return { total: fs.blocks * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize };
    };
    const pool = async (): Promise<{ disksizetotal: number; disksizeused: number }> =>
      (await c!.api!.listAll<{ name: string; disksizetotal: number; disksizeused: number }>('listStoragePools', 'storagepool')).find((p) => p.name === 'kvm-local')!;
    // Both test hosts' directories are on one file system: its size once, not twice (nor the 2x booked at creation).
    await waitFor(async () => (await pool()).disksizetotal === df().total, 10_000, 'the pool booked with the real size', 100);
    const p = await pool();
    const now = df();
    print(`pool: ${p.disksizetotal} bytes total, ${p.disksizeused} used; df: ${now.total} total, ${now.used} used`);
    expect(p.disksizeused).to.be.greaterThan(0);
    // Other writers on the machine move `used` between the report and now: 256 MiB of slack.
    expect(Math.abs(p.disksizeused - now.used)).to.be.below(256 * 1024 * 1024);
  });

  it('deploys through csclient: Running, and the guest boots with the allocated address', async () => {
    const t0 = Date.now();
    const v = await deploy(ids.tiny);
    const apiMs = Date.now() - t0;
    expect(v.state).to.equal('Running');
    expect(v.nic[0]!.ipaddress).to.match(/^\d+\.\d+\.\d+\.\d+$/);
    await waitBoot(v);
    print(`deploy -> Running ${apiMs} ms; -> boot marker and DHCP address ${Date.now() - t0} ms`);
    // What a user runs on the host to read the console (README).
    const tail = execFileSync(process.execPath, [join(dirname(cliPath()), 'console-tail.js'), '--data-dir', join(host(v.hostname!).dir, 'agent'),
      '--lines', '5', v.instancename], { encoding: 'utf8' });
    expect(tail).to.include(`CSD-GUEST-IP eth0 ${v.nic[0]!.ipaddress}`);
    expect(await domains(v.hostname!)).to.deep.equal([v.instancename]);
  });

  it('stops, starts, reboots and destroys with expunge a guest, leaving no domain and no disk file', async () => {
    const v = (await c!.api!.listAll<Vm>('listVirtualMachines', 'virtualmachine', { listall: true }))[0]!;
    const where = v.hostname!;
    const hostid = v.hostid!;
    await client.job('stopVirtualMachine', { id: v.id });
    expect((await vm(v.id)).state).to.equal('Stopped');
    expect(await domains(where)).to.deep.equal([]);
    expect(consoleOf(where, v.instancename)).to.include('CSD-GUEST-ACPI-POWEROFF');
    await client.job('startVirtualMachine', { id: v.id, hostid });
    await waitBoot(v, 2);
    await client.job('rebootVirtualMachine', { id: v.id });
    await waitBoot(v, 3);
    expect((await vm(v.id)).state).to.equal('Running');
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    expect(await vm(v.id)).to.equal(undefined);
    for (const n of HOSTS) {
      expect(await domains(n), `domains left on ${n}`).to.deep.equal([]);
      expect(await kvm!.qemuCount(n)).to.equal(0);
    }
    expect(diskFiles(), 'disk files left').to.deep.equal([]);
    await filesMatchVolumes();
  });

  it('hot-plugs a data volume into a running guest, which sees it, resizes it live and detached, unplugs and deletes it with its file', async () => {
    const v = await deploy(ids.tiny);
    await waitBoot(v);
    const offering = (await c!.api!.listAll<{ id: string; disksize: number; iscustomized: boolean }>('listDiskOfferings', 'diskoffering'))
      .filter((o) => !o.iscustomized).sort((a, b) => a.disksize - b.disksize)[0]!;
    const vol = (await client.job('createVolume', { name: 'data1', diskofferingid: offering.id, zoneid: ids.zoneid })).jobresult as { volume: { id: string } };
    const volid = vol.volume.id;
    const disks = (): string[] => (consoleOf(v.hostname!, v.instancename).match(/CSD-GUEST-DISKS[^\n]*/g) ?? []).map((l) => l.trim());
    await client.job('attachVolume', { id: volid, virtualmachineid: v.id });
    await waitFor(() => disks().at(-1) === 'CSD-GUEST-DISKS vda vdb', 20_000, 'the guest sees vdb', 200);
    expect(diskFiles()).to.include(`${volid}.qcow2`);
    await filesMatchVolumes();
    // resizeVolume of the attached disk: live (blockresize), so the running guest's device has the new size.
    const GIB = 1024 ** 3;
    const recorded = async (): Promise<number> => (await c!.api!.listAll<{ size: number }>('listVolumes', 'volume', { id: volid, listall: true }))[0]!.size;
    expect((await client.job('resizeVolume', { id: volid, size: offering.disksize + 1 })).jobstatus).to.equal(1);
    const capacity = async (): Promise<number> => Number(/Capacity:\s+(\d+)/.exec(await host(v.hostname!).virsh('domblkinfo', v.instancename, 'vdb'))![1]);
    expect(await capacity()).to.equal((offering.disksize + 1) * GIB);
    expect(await recorded()).to.equal((offering.disksize + 1) * GIB);
    // A disk in use cannot shrink: the host refuses, the job fails and the record keeps the size the disk has.
    const shrink = await client.job('resizeVolume', { id: volid, size: offering.disksize, shrinkok: true }).then(() => undefined, (err: Error) => err);
    expect(shrink?.message).to.include('cannot shrink');
    expect(await capacity()).to.equal((offering.disksize + 1) * GIB);
    expect(await recorded()).to.equal((offering.disksize + 1) * GIB);
    await client.job('detachVolume', { id: volid });
    await waitFor(() => disks().at(-1) === 'CSD-GUEST-DISKS vda', 20_000, 'vdb gone from the guest', 200);
    expect(await host(v.hostname!).virsh('domblklist', v.instancename)).to.not.include(volid);
    await filesMatchVolumes();
    // resizeVolume of the detached disk: its file in the cluster's storage, by one host (qemu-img resize).
    expect((await client.job('resizeVolume', { id: volid, size: offering.disksize + 2 })).jobstatus).to.equal(1);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', join(primary(), `${volid}.qcow2`)], { encoding: 'utf8' })) as { 'virtual-size': number };
    expect(info['virtual-size']).to.equal((offering.disksize + 2) * GIB);
    expect(await recorded()).to.equal((offering.disksize + 2) * GIB);
    // Deleting the detached volume removes its file.
    await c!.api!.call('deleteVolume', { id: volid });
    expect(diskFiles()).to.not.include(`${volid}.qcow2`);
    await filesMatchVolumes();
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    await filesMatchVolumes();
  });

  it("snapshots volumes as files in the cluster's storage (a running guest's root disk, a detached data volume), makes a volume from a snapshot, and deletes them with their files", async () => {
    const v = await deploy(ids.tiny);
    await waitBoot(v);
    const where = v.hostname!;
    const pool = primary();
    const root = (await c!.api!.listAll<{ id: string; size: number }>('listVolumes', 'volume', { virtualmachineid: v.id, type: 'ROOT', listall: true }))[0]!;
    interface Snap { id: string; state: string; physicalsize?: number; virtualsize?: number }
    // The running guest's root disk: copied live (qemu-img convert -U) to a standalone qcow2 (no backing file).
    const templates = (): string[] => readdirSync(join(pool, 'templates')).sort()
      .map((f) => `${f} ${createHash('sha256').update(readFileSync(join(pool, 'templates', f))).digest('hex')}`);
    const templatesBefore = templates();
    const t0 = Date.now();
    const snap = ((await client.job('createSnapshot', { volumeid: root.id })).jobresult as { snapshot: Snap }).snapshot;
    print(`snapshot of a running guest's root disk ${Date.now() - t0} ms`);
    expect(snap.state).to.equal('BackedUp');
    // The guest's writes during the copy went to an overlay, merged back: it writes to its own file again.
    const blk = await host(where).virsh('domblklist', v.instancename);
    expect(blk, blk).to.include(join(pool, `${root.id}.qcow2`)).and.not.include('.overlay');
    expect(templates(), 'the template under the root disk is never written').to.deep.equal(templatesBefore);
    const snapFile = join(pool, 'snapshots', `${snap.id}.qcow2`);
    expect(existsSync(snapFile), 'snapshot file in the cluster\'s storage').to.equal(true);
    const sInfo = qemuInfo(snapFile);
    expect(sInfo['backing-filename']).to.equal(undefined);
    expect(sInfo['virtual-size']).to.equal(root.size);
    expect(snap.physicalsize).to.equal(sInfo['actual-size']);
    await filesMatchVolumes();
    // A volume from the snapshot: Ready at once, its file a copy of the snapshot's.
    const nv = ((await client.job('createVolume', { snapshotid: snap.id, name: 'from-snap' })).jobresult as { volume: { id: string; state: string; size: number } }).volume;
    expect(nv.state).to.equal('Ready');
    expect(nv.size).to.equal(root.size);
    const nvFile = join(pool, `${nv.id}.qcow2`);
    expect(qemuInfo(nvFile)['virtual-size']).to.equal(sInfo['virtual-size']);
    execFileSync('qemu-img', ['compare', '-q', snapFile, nvFile]); // exit 1 (a throw) when the contents differ
    await filesMatchVolumes();
    // Attached to the running guest, it is the copy of its root disk that the guest sees as vdb.
    const disks = (): string[] => (consoleOf(where, v.instancename).match(/CSD-GUEST-DISKS[^\n]*/g) ?? []).map((l) => l.trim());
    await client.job('attachVolume', { id: nv.id, virtualmachineid: v.id });
    await waitFor(() => disks().at(-1) === 'CSD-GUEST-DISKS vda vdb', 20_000, 'the guest sees vdb', 200);
    expect(await host(where).virsh('domblklist', v.instancename)).to.include(nvFile);
    await client.job('detachVolume', { id: nv.id });
    // A detached data volume: one host of the pool's cluster copies its file (not both at once).
    const snap2 = ((await client.job('createSnapshot', { volumeid: nv.id })).jobresult as { snapshot: Snap }).snapshot;
    expect(existsSync(join(pool, 'snapshots', `${snap2.id}.qcow2`))).to.equal(true);
    await filesMatchVolumes();
    // A copy the host cannot make fails the job, leaves the snapshot in Error and no file (the snapshots
    // directory is replaced by a plain file for a moment).
    const snapDir = join(pool, 'snapshots');
    execFileSync('mv', [snapDir, `${snapDir}.away`]);
    writeFileSync(snapDir, 'not a directory');
    let failed: Error | undefined;
    try {
      failed = await client.job('createSnapshot', { volumeid: nv.id }).then(() => undefined, (err: Error) => err);
    } finally {
      rmSync(snapDir);
      execFileSync('mv', [`${snapDir}.away`, snapDir]);
    }
    expect(failed?.message).to.match(/could not copy volume/);
    const snaps = await c!.api!.listAll<Snap>('listSnapshots', 'snapshot', { volumeid: nv.id, listall: true });
    expect(snaps.map((x) => x.state).sort()).to.deep.equal(['BackedUp', 'Error']);
    expect((await c!.api!.listAll<{ state: string }>('listVolumes', 'volume', { id: nv.id, listall: true }))[0]!.state).to.equal('Ready');
    await filesMatchVolumes();
    // deleteSnapshot removes the file (and an Error snapshot, which has none, goes too).
    for (const x of snaps) await client.job('deleteSnapshot', { id: x.id });
    await client.job('deleteSnapshot', { id: snap.id });
    expect(snapshotFiles()).to.deep.equal([]);
    expect(await c!.api!.listAll<Snap>('listSnapshots', 'snapshot', { listall: true })).to.deep.equal([]);
    await c!.api!.call('deleteVolume', { id: nv.id });
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    await filesMatchVolumes();
  });

  it("creates templates from a stopped VM's root volume and from a snapshot as files in the cluster's storage; a VM deployed from one boots; deleteTemplate removes the files", async () => {
    interface Tpl { id: string; isready: boolean }
    const v = await deploy(ids.tiny);
    const pool = primary();
    const root = (await c!.api!.listAll<{ id: string }>('listVolumes', 'volume', { virtualmachineid: v.id, type: 'ROOT', listall: true }))[0]!.id;
    const tplFile = (id: string): string => join(pool, 'templates', `${id}.qcow2`);
    // A running VM's root volume is refused, as CloudStack refuses it (the VM must be stopped).
    const live = await client.job('createTemplate', { name: 'live', displaytext: 'live', volumeid: root }).then(() => undefined, (err: Error) => err);
    expect(live?.message).to.match(/non-stopped VM, please stop the VM first/);
    await client.job('stopVirtualMachine', { id: v.id, forced: true });
    const t0 = Date.now();
    const fromVol = ((await client.job('createTemplate', { name: 'from-vol', displaytext: 'from-vol', volumeid: root })).jobresult as { template: Tpl }).template;
    print(`template from a stopped VM's root volume ${Date.now() - t0} ms`);
    expect(fromVol.isready).to.equal(true);
    expect(qemuInfo(tplFile(fromVol.id))['backing-filename'], 'a standalone copy').to.equal(undefined);
    execFileSync('qemu-img', ['compare', '-q', join(pool, `${root}.qcow2`), tplFile(fromVol.id)]); // throws when the contents differ
    const snap = ((await client.job('createSnapshot', { volumeid: root })).jobresult as { snapshot: { id: string } }).snapshot;
    const fromSnap = ((await client.job('createTemplate', { name: 'from-snap', displaytext: 'from-snap', snapshotid: snap.id })).jobresult as { template: Tpl }).template;
    execFileSync('qemu-img', ['compare', '-q', join(pool, 'snapshots', `${snap.id}.qcow2`), tplFile(fromSnap.id)]);
    // A copy the host cannot make (the templates directory replaced by a plain file for a moment, while no
    // guest runs) fails the job, and leaves neither the template nor a file.
    const tplDir = join(pool, 'templates');
    execFileSync('mv', [tplDir, `${tplDir}.away`]);
    writeFileSync(tplDir, 'not a directory');
    let failed: Error | undefined;
    try {
      failed = await client.job('createTemplate', { name: 'fails', displaytext: 'fails', snapshotid: snap.id }).then(() => undefined, (err: Error) => err);
    } finally {
      rmSync(tplDir);
      execFileSync('mv', [`${tplDir}.away`, tplDir]);
    }
    expect(failed?.message).to.match(/could not copy snapshot/);
    expect((await c!.api!.listAll<{ name: string }>('listTemplates', 'template', { templatefilter: 'all', listall: true })).map((x) => x.name)).to.not.include('fails');
    await filesMatchVolumes();
    // A VM from the template: its root disk a clone of the template's file, and the guest boots from it.
    const v2 = await cloud!.deploy(ids.tiny, { templateid: fromVol.id });
    await waitBoot(v2);
    const root2 = (await c!.api!.listAll<{ id: string }>('listVolumes', 'volume', { virtualmachineid: v2.id, type: 'ROOT', listall: true }))[0]!.id;
    expect(qemuInfo(join(pool, `${root2}.qcow2`))['backing-filename']).to.equal(tplFile(fromVol.id));
    await filesMatchVolumes();
    await client.job('destroyVirtualMachine', { id: v2.id, expunge: true });
    for (const t of [fromVol, fromSnap]) {
      await client.job('deleteTemplate', { id: t.id });
      expect(existsSync(tplFile(t.id)), `template ${t.id}'s file`).to.equal(false);
    }
    await client.job('deleteSnapshot', { id: snap.id });
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    await filesMatchVolumes();
  });

  it('a VM stopped on one host starts on the other on the same disks (root and data: same files, same data); a missing file fails the start, naming the fix', async () => {
    // Forced stops and one boot (on the second host): what is checked is the disks, not the guest's shutdown.
    const v = await deploy(ids.tiny);
    const first = v.hostname!;
    const other = HOSTS.find((n) => n !== first)!;
    const otherId = (await kvmHosts()).find((h) => h.name === other)!.id;
    const root = (await c!.api!.listAll<{ id: string }>('listVolumes', 'volume', { virtualmachineid: v.id, type: 'ROOT', listall: true }))[0]!.id;
    const offering = (await c!.api!.listAll<{ id: string; iscustomized: boolean }>('listDiskOfferings', 'diskoffering')).find((o) => !o.iscustomized)!;
    const data = ((await client.job('createVolume', { name: 'moves', zoneid: ids.zoneid, diskofferingid: offering.id, virtualmachineid: v.id }))
      .jobresult as { volume: { id: string } }).volume.id;
    const files = { root: inode(root), data: inode(data) };
    await client.job('stopVirtualMachine', { id: v.id, forced: true });
    // A marker written into the stopped VM's root disk, past what the guest uses (qcow2-aware, 4 KiB at 60 MiB).
    const rootFile = join(primary(), `${root}.qcow2`);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 60M 4k', rootFile]);
    await client.job('startVirtualMachine', { id: v.id, hostid: otherId });
    const moved = await vm(v.id);
    expect(moved.hostname).to.equal(other);
    await waitBoot({ ...v, hostname: other });
    const blk = await host(other).virsh('domblklist', v.instancename);
    expect(blk, blk).to.include(rootFile).and.include(join(primary(), `${data}.qcow2`));
    expect({ root: inode(root), data: inode(data) }, 'the same files, not new ones').to.deep.equal(files);
    expect(diskFiles().sort()).to.deep.equal([`${root}.qcow2`, `${data}.qcow2`].sort());
    // The running guest holds QEMU's lock on its disk, which is what keeps any host of the cluster from
    // deleting the file under it (KvmPool.deleteVolume) or a second QEMU from opening it.
    expect(() => execFileSync('qemu-img', ['info', rootFile], { stdio: 'pipe' })).to.throw(/lock/);
    await client.job('stopVirtualMachine', { id: v.id, forced: true });
    // qemu-io exits 0 and prints "Pattern verification failed" when the bytes differ.
    expect(execFileSync('qemu-io', ['-f', 'qcow2', '-r', '-c', 'read -P 0x5a 60M 4k', rootFile], { encoding: 'utf8' })).to.not.include('failed');
    // The root disk's file gone from the storage: no host makes a new one in its place, the start fails and says why.
    execFileSync('mv', [rootFile, `${rootFile}.away`]);
    let refused: Error | undefined;
    try {
      refused = await client.job('startVirtualMachine', { id: v.id }).then(() => undefined, (err: Error) => err);
    } finally {
      execFileSync('mv', [`${rootFile}.away`, rootFile]);
    }
    expect(refused?.message).to.include(`volume ${root}`).and.include('--kvm-storage-dir').and.include('same shared directory');
    expect((await vm(v.id)).state).to.equal('Stopped');
    expect(inode(root)).to.equal(files.root);
    await filesMatchVolumes();
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    await c!.api!.call('deleteVolume', { id: data });
    expect(diskFiles()).to.deep.equal([]);
    await filesMatchVolumes();
  });

  it("isolates networks by VXLAN: a network's guests on two hosts ping each other, another network's guest reaches neither", async () => {
    const [h1, h2] = await kvmHosts();
    const ipOf = (v: Vm): string => v.nic[0]!.ipaddress!;
    const deployOn = async (hostid: string, extra: Record<string, string> = {}): Promise<Vm> => {
      const job = await client.job('deployVirtualMachine', { zoneid: ids.zoneid, templateid: ids.templateid, serviceofferingid: ids.tiny, hostid, ...extra });
      return (job.jobresult as { virtualmachine: Vm }).virtualmachine;
    };
    const offering = (await c!.api!.listAll<{ id: string; guestiptype: string }>('listNetworkOfferings', 'networkoffering', { state: 'Enabled' }))
      .find((o) => o.guestiptype === 'Isolated')!.id;
    // Two networks of their own (not the account's default one, which a deploy without networkids could
    // pick either of), deleted at the end.
    const createNet = async (name: string): Promise<string> =>
      (await c!.api!.call<{ network: { id: string } }>('createNetwork', { name, displaytext: name, networkofferingid: offering, zoneid: ids.zoneid })).network.id;
    const netA = await createNet('net-a');
    const netB = await createNet('net-b').catch(async (err: unknown) => { await client.job('deleteNetwork', { id: netA }); throw err; });
    const made: Vm[] = [];
    // Deploys side by side (each takes seconds); every VM made is kept for the cleanup even when another fails.
    const settle = async <T>(ps: Promise<T>[]): Promise<T[]> => {
      const rs = await Promise.allSettled(ps);
      const bad = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad !== undefined) throw bad.reason;
      return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
    };
    const deployIn = async (net: string, hostid: string): Promise<Vm> => {
      const v = await deployOn(hostid, { networkids: net });
      made.push(v);
      return v;
    };
    try {
      // Both networks have the default guest CIDR and hand out their lowest free address, so network A's
      // first guest gets b1's address and the check could not tell them apart. That guest is powered off
      // at once (forced stop: it never boots) and keeps its address until the end, so a1 and a2 get others.
      const [b1, first] = await settle([deployIn(netB, h2!.id), deployIn(netA, h1!.id)]) as [Vm, Vm];
      let a1 = first;
      let a2: Vm;
      if (ipOf(a1) === ipOf(b1)) {
        await client.job('stopVirtualMachine', { id: first.id, forced: true });
        [a1, a2] = await settle([deployIn(netA, h1!.id), deployIn(netA, h2!.id)]) as [Vm, Vm];
      } else {
        a2 = await deployIn(netA, h2!.id);
      }
      expect(new Set([ipOf(a1), ipOf(a2), ipOf(b1)]).size, `distinct addresses: a1 ${ipOf(a1)}, a2 ${ipOf(a2)}, b1 ${ipOf(b1)}`).to.equal(3);
      await Promise.all([waitBoot(a1), waitBoot(a2), waitBoot(b1)]);
      const booted = Date.now();
      const nets = await c!.api!.listAll<{ id: string; broadcasturi?: string }>('listNetworks', 'network', { listall: true });
      const bridgeOf = (vmNet: string): string => `csdbr${/(\d+)$/.exec(nets.find((n) => n.id === vmNet)!.broadcasturi!)![1]}`;
      const full = async (v: Vm): Promise<Vm & { nic: { ipaddress?: string; networkid?: string }[] }> => (await vm(v.id)) as never;
      const [fa1, fa2, fb1] = await Promise.all([full(a1), full(a2), full(b1)]);
      expect(fa1.hostname, 'a1 and a2 on different hosts').to.not.equal(fa2.hostname);
      // One VXLAN segment (bridge) per network, the same on both hosts.
      expect(bridgeOf(fa2.nic[0]!.networkid!)).to.equal(bridgeOf(fa1.nic[0]!.networkid!));
      expect(bridgeOf(fb1.nic[0]!.networkid!)).to.not.equal(bridgeOf(fa1.nic[0]!.networkid!));
      // What each guest's probe (build-guest-image.sh: pings .2 to .20 of its /24) printed on its console.
      const reached = (v: Vm): string[] => [...new Set([...consoleOf(v.hostname!, v.instancename).matchAll(/CSD-REACH (\S+)/g)].map((m) => m[1]!))].sort();
      await waitFor(() => reached(a1).includes(ipOf(a2)) && reached(a2).includes(ipOf(a1)), 30_000,
        `${a1.name} (${ipOf(a1)}) and ${a2.name} (${ipOf(a2)}) pinging each other across the hosts`, 200);
      print(`a1 ${ipOf(a1)} <-> a2 ${ipOf(a2)} across the hosts ${Date.now() - booted} ms after all booted; b1 ${ipOf(b1)}`);
      // b1's probe runs (it reaches its own address), so its silence about a1 and a2 means something; the
      // probes keep trying for a while after the positive answer before the negative check.
      await waitFor(() => reached(b1).includes(ipOf(b1)), 10_000, `${b1.name}'s probe reaching its own address`, 200);
      await sleep(Math.max(0, 10_000 - (Date.now() - booted)));
      print(`reached: a1 [${reached(a1).join(' ')}], a2 [${reached(a2).join(' ')}], b1 [${reached(b1).join(' ')}]`);
      expect(reached(a1), `${a1.name} on network A reached b1 on network B`).to.not.include(ipOf(b1));
      expect(reached(a2), `${a2.name} on network A reached b1 on network B`).to.not.include(ipOf(b1));
      expect(reached(b1), `${b1.name} on network B reached a1 on network A`).to.not.include(ipOf(a1));
      expect(reached(b1), `${b1.name} on network B reached a2 on network A`).to.not.include(ipOf(a2));
    } finally {
      await settle(made.map((v) => client.job('destroyVirtualMachine', { id: v.id, expunge: true })));
      await settle([netA, netB].map((net) => client.job('deleteNetwork', { id: net })));
    }
    for (const n of HOSTS) expect(await domains(n), `domains left on ${n}`).to.deep.equal([]);
  });

  it('reconciles real domains with the database: a guest destroyed out of band (virsh destroy) is Stopped; a copy of the Stopped VM started out of band on the other host (virsh define of the XML its driver wrote, virsh start) is stopped there', async () => {
    // Two guest boots: the deploy and the copy, each cut short (what is checked is the power reports and
    // their reconciliation, not the guest). The fabric monitor's rule (power-sync.ts): the database's
    // placement wins, so a VM missing from its host's reports is marked Stopped and a copy running where
    // the database does not place it is stopped (CloudStack instead takes such a copy as the VM: Stopped
    // -> Running on the reporting host, see README).
    const v = await deploy(ids.tiny);
    const first = v.hostname!;
    const other = HOSTS.find((n) => n !== first)!;
    const runningOn = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const n of HOSTS) if ((await host(n).virsh('list', '--name')).split('\n').map((x) => x.trim()).includes(v.instancename)) out.push(n);
      return out;
    };
    const stops = async (): Promise<string[]> => (await c!.api!.listAll<{ type: string; description: string }>('listEvents', 'event', { type: 'VM.STOP', listall: true }))
      .map((e) => e.description).filter((d) => d.includes(v.name));
    expect(await runningOn()).to.deep.equal([first]);
    let t0 = Date.now();
    await host(first).virsh('destroy', v.instancename);
    await waitFor(async () => (await vm(v.id)).state === 'Stopped', 20_000, `${v.name} Stopped after its domain was destroyed`, 200);
    print(`virsh destroy -> Stopped through the API ${Date.now() - t0} ms`);
    expect((await vm(v.id)).hostid, 'a Stopped VM is on no host').to.equal(undefined);
    expect(await stops()).to.satisfy((ds: string[]) => ds.some((d) => d.includes(`host ${first} has not reported it running`)));
    // The driver undefined the domain it no longer runs.
    await waitFor(async () => !(await domains(first)).includes(v.instancename), 10_000, `${v.instancename} undefined on ${first}`, 200);
    expect(await runningOn()).to.deep.equal([]);

    // The copy: defined on the other host from the XML the first host's driver wrote (the spec rides in its
    // metadata) and started. Its NIC's bridge is made first, as `virsh start` needs it (the agent adds the
    // VXLAN and DHCP when it takes the domain).
    const xmlFile = join(cloud!.agentDir(first), 'domains', `${v.instancename}.xml`);
    const bridge = /<source bridge='([^']+)'/.exec(readFileSync(xmlFile, 'utf8'))![1]!;
    const ipIn = (...args: string[]): string => execFileSync('ip', ['-n', host(other).netns, ...args], { encoding: 'utf8', stdio: 'pipe' });
    try { ipIn('link', 'show', bridge); } catch { ipIn('link', 'add', bridge, 'type', 'bridge'); ipIn('link', 'set', bridge, 'up'); }
    await host(other).virsh('define', xmlFile);
    t0 = Date.now();
    await host(other).virsh('start', v.instancename);
    await waitFor(async () => (await stops()).some((d) => d.includes(`which the database has Stopped on no host found running on host ${other}`)), 20_000,
      `the copy on ${other} stopped by the fabric monitor`, 200);
    await waitFor(async () => (await runningOn()).length === 0, 10_000, `no copy of ${v.instancename} running`, 200);
    print(`virsh start of the copy -> stopped by the fabric monitor ${Date.now() - t0} ms`);
    expect(await domains(other), `domains left on ${other}`).to.not.include(v.instancename);
    const after = await vm(v.id);
    expect([after.state, after.hostid], 'the database placement is kept').to.deep.equal(['Stopped', undefined]);
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    for (const n of HOSTS) expect(await domains(n), `domains left on ${n}`).to.not.include(v.instancename);
    await filesMatchVolumes();
  });

  it('SIGKILL of a compute agent: its guest keeps running and is re-adopted by the restarted agent, not restarted', async () => {
    const v = await deploy(ids.tiny);
    await waitBoot(v);
    const domid = (await host(v.hostname!).virsh('domid', v.instancename)).trim();
    await c!.signal(v.hostname!, 'SIGKILL');
    expect(await kvm!.qemuCount(v.hostname!)).to.equal(1);
    await startAgent(v.hostname!);
    await waitFor(async () => (await kvmHosts()).every((h) => h.state === 'Up'), 30_000, 'both hosts Up again', 200);
    // Several heartbeats of the new agent, carrying the adopted guest.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await vm(v.id)).state).to.equal('Running');
    expect((await host(v.hostname!).virsh('domid', v.instancename)).trim()).to.equal(domid);
    expect(boots(v.hostname!, v.instancename)).to.equal(1);
    await client.job('destroyVirtualMachine', { id: v.id, expunge: true });
    expect(await domains(v.hostname!)).to.deep.equal([]);
  });

  it('host failure: the host (agent, libvirtd, guests) dies, goes Down, and its HA guest boots on the other host, once, on its own root disk', async () => {
    const v = await deploy(ids.ha);
    await waitBoot(v);
    const root = (await c!.api!.listAll<{ id: string }>('listVolumes', 'volume', { virtualmachineid: v.id, type: 'ROOT', listall: true }))[0]!.id;
    const rootFile = inode(root);
    const filesBefore = diskFiles().sort();
    const dead = v.hostname!;
    const other = HOSTS.find((n) => n !== dead)!;
    const t0 = Date.now();
    await c!.signal(dead, 'SIGKILL');
    await kvm!.killHost(dead);
    await waitFor(async () => (await kvmHosts()).find((h) => h.name === dead)?.state === 'Down', 60_000, `${dead} Down`, 200);
    await waitFor(async () => { const x = await vm(v.id); return x.state === 'Running' && x.hostname === other; }, 90_000, `${v.name} running on ${other}`, 200);
    await waitBoot({ ...v, hostname: other });
    print(`host killed -> HA guest booted on the other host ${Date.now() - t0} ms`);
    expect(await kvm!.qemuCount(dead)).to.equal(0);
    expect(await domains(other)).to.deep.equal([v.instancename]);
    // The restarted guest runs on the root disk it had: the same file, no second root file, none orphaned.
    expect(await host(other).virsh('domblklist', v.instancename)).to.include(join(primary(), `${root}.qcow2`));
    expect(inode(root)).to.equal(rootFile);
    expect(diskFiles().sort()).to.deep.equal(filesBefore);
    await filesMatchVolumes();
  });
});
