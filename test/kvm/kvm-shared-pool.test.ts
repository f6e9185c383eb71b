/**
 * The kvm pool as the hosts of a cluster share it: two pools (two hosts' agents) on one directory, with a
 * stand-in qemu-img. Templates downloaded by both at once, disks of new and existing volumes, a snapshot
 * deleted by one host while the other copies it.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, CommandRunner, type ExecFn } from '../../actors/compute/kvm/command-runner.js';
import { KvmPool, SHARED_STORAGE_FIX } from '../../actors/compute/kvm/kvm-pool.js';
import type { VolumeSpec } from '../../actors/compute/protocol.js';
import { SimulatedClock } from '../../src/clock.js';
import { IllegalStateError } from '../../src/errors.js';

describe('kvm pool: one directory shared by the hosts of a cluster', () => {
  let dir: string;
  let calls: string[][];
  let hold: Promise<void> | undefined;
  /** Files a running guest (on either host) holds open: QEMU's image lock. */
  let locked: Set<string>;
  let a: KvmPool;
  let b: KvmPool;
  let server: Server;
  let requests: number;
  const image = Buffer.alloc(256 * 1024, 7);
  const sha = createHash('sha256').update(image).digest('hex');
  let url: string;

  /**
   * qemu-img: create writes its file; convert opens its destination at once and writes it once `hold`
   * resolves (through the open descriptor, as qemu-img does, so a file unlinked meanwhile stays unlinked).
   */
  const exec: ExecFn = async (file, args) => {
    calls.push([file, ...args]);
    if (args[0] === 'create') { writeFileSync(args.find((x) => x.includes('.part.'))!, 'qcow2'); return ''; }
    if (args[0] === 'convert') {
      const fd = openSync(args.at(-1)!, 'w');
      await hold;
      writeSync(fd, 'copy');
      closeSync(fd);
      return '';
    }
    if (args[0] === 'info') {
      if (!args.includes('-U') && locked.has(args.at(-1)!)) {
        throw new CommandError('qemu-img info failed (exit 1): Failed to get shared "write" lock', 'qemu-img: Could not open: Failed to get shared "write" lock\nIs another process using the image?');
      }
      return JSON.stringify({ 'virtual-size': 1024, 'actual-size': 512 });
    }
    throw new Error(`unexpected ${file} ${args.join(' ')}`);
  };
  const pool = (): KvmPool => new KvmPool(dir, new CommandRunner(exec, new SimulatedClock(), 60_000));
  const vol = (uuid: string, type: 'ROOT' | 'DATADISK', isNew: boolean): VolumeSpec => ({ uuid, deviceId: type === 'ROOT' ? 0 : 1, type, sizeBytes: 4096, isNew });
  const leftovers = (): string[] => [dir, join(dir, 'templates'), join(dir, 'snapshots')]
    .flatMap((d) => readdirSync(d).filter((f) => f.includes('.part')));

  before(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-length': image.length });
      // Slow enough that both pools are downloading at the same time.
      setTimeout(() => res.end(image), 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/t.qcow2`;
  });
  after(() => { server.close(); });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csd-shared-pool-'));
    calls = [];
    hold = undefined;
    locked = new Set();
    requests = 0;
    a = pool();
    b = pool();
    await Promise.all([a.init(), b.init()]);
  });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('takes a template both hosts download at once as one whole file, and a host finding it complete downloads nothing', async () => {
    const t = { url, checksum: `{SHA-256}${sha}`, format: 'QCOW2' };
    const [fa, fb] = await Promise.all([a.template(t), b.template(t)]);
    expect(fa).to.equal(fb);
    expect(requests).to.equal(2);
    expect(createHash('sha256').update(readFileSync(fa)).digest('hex')).to.equal(sha);
    expect(readdirSync(join(dir, 'templates'))).to.have.length(1);
    expect(leftovers()).to.deep.equal([]);
    expect(await pool().template(t)).to.equal(fa);
    expect(requests).to.equal(2);
  });

  it('makes the disks of new volumes through temporary files, and a host starting the VM later uses the same files', async () => {
    const template = join(dir, 'templates', 't.qcow2');
    writeFileSync(template, 'template');
    const root = await a.rootDisk(vol('r1', 'ROOT', true), template);
    const data = await a.dataDisk(vol('d1', 'DATADISK', true));
    expect([root.created, data.created]).to.deep.equal([true, true]);
    const create = calls.find((c) => c[1] === 'create')!;
    expect(create).to.include('-b').and.include(template);
    const inode = statSync(root.file).ino;
    calls = [];
    // Host B starts the stopped VM: its volumes exist, their files are used as they are.
    expect(await b.rootDisk(vol('r1', 'ROOT', false), template)).to.deep.equal({ file: root.file, created: false });
    expect(await b.dataDisk(vol('d1', 'DATADISK', false))).to.deep.equal({ file: data.file, created: false });
    expect(statSync(root.file).ino).to.equal(inode);
    expect(calls).to.deep.equal([]);
    // A new volume whose file an earlier try of the same start made is used too (not made twice).
    expect((await b.dataDisk(vol('d1', 'DATADISK', true))).created).to.equal(false);
    expect(leftovers()).to.deep.equal([]);
  });

  it('refuses to make a disk for an existing volume whose file is missing, naming the volume, the file and the fix', async () => {
    const template = join(dir, 'templates', 't.qcow2');
    writeFileSync(template, 'template');
    for (const [v, make] of [[vol('r2', 'ROOT', false), (x: VolumeSpec) => a.rootDisk(x, template)], [vol('d2', 'DATADISK', false), (x: VolumeSpec) => a.dataDisk(x)]] as const) {
      const err = await make(v).then(() => undefined, (e: Error) => e);
      expect(err).to.be.instanceOf(IllegalStateError);
      expect(err?.message).to.include(`volume ${v.uuid}`).and.include(a.volumePath(v.uuid)).and.include(SHARED_STORAGE_FIX);
      expect(existsSync(a.volumePath(v.uuid))).to.equal(false);
    }
    expect(calls).to.deep.equal([]);
  });

  it("keeps a volume's file that a guest on another host has open (QEMU's image lock), and removes it once it is not", async () => {
    writeFileSync(a.volumePath('v2'), 'disk');
    locked.add(a.volumePath('v2'));
    const err = await b.deleteVolume('v2').then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(IllegalStateError);
    expect(err?.message).to.include('in use by a running guest');
    expect(existsSync(a.volumePath('v2'))).to.equal(true);
    locked.clear();
    expect(await b.deleteVolume('v2')).to.equal(true);
    expect(await a.deleteVolume('v2')).to.equal(false);
    expect(existsSync(a.volumePath('v2'))).to.equal(false);
  });

  it('drops a snapshot copy running on one host when another host deletes the snapshot, leaving no file', async () => {
    writeFileSync(a.volumePath('v1'), 'disk');
    let release: () => void = () => undefined;
    hold = new Promise<void>((r) => { release = r; });
    const copy = a.snapshot('v1', 's1', false).then(() => undefined, (e: Error) => e);
    await new Promise((r) => setTimeout(r, 20));
    // qemu-img on host A has its temporary file open; host B's deleteSnapshot removes it.
    expect(readdirSync(join(dir, 'snapshots'))).to.have.length(1);
    expect(await b.deleteSnapshot('s1')).to.equal(false);
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal([]);
    release();
    expect((await copy)?.message).to.match(/deleted while its file was being copied/);
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal([]);
  });
});
