/** The kvm pool's snapshot files and live snapshots without QEMU or libvirt: the commands run, what is left when they fail. */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, CommandRunner, type ExecFn } from '../../actors/compute/kvm/command-runner.js';
import { KvmPool, snapshotCopyArgs } from '../../actors/compute/kvm/kvm-pool.js';
import { blockCommitArgs, diskOnlySnapshotArgs, liveSnapshot, sourceOf } from '../../actors/compute/kvm/live-snapshot.js';
import { SimulatedClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';

describe('kvm pool: snapshot files', () => {
  let dir: string;
  let calls: { args: readonly string[]; timeoutMs: number }[];
  let failConvert: boolean;
  let pool: KvmPool;

  /** A stand-in qemu-img: convert writes its destination (or fails with nothing written), info answers sizes. */
  const exec: ExecFn = async (file, args, o) => {
    expect(file).to.equal('qemu-img');
    calls.push({ args, timeoutMs: o.timeoutMs });
    if (args[0] === 'convert') {
      if (failConvert) throw new CommandError('qemu-img convert failed (exit 1): Could not open: No space left on device', 'No space left on device');
      writeFileSync(args[args.length - 1]!, 'qcow2 bytes');
      return '';
    }
    if (args[0] === 'info') return JSON.stringify({ 'virtual-size': 1_073_741_824, 'actual-size': 4096 });
    throw new Error(`unexpected qemu-img ${args.join(' ')}`);
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csd-pool-'));
    calls = [];
    failConvert = false;
    pool = new KvmPool(dir, new CommandRunner(exec, new SimulatedClock(), 60_000), undefined, 3_600_000);
    await pool.init();
  });

  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('builds a standalone qcow2 copy, without the image lock only for a disk a running guest holds', () => {
    expect(snapshotCopyArgs('/p/v.qcow2', '/p/snapshots/s.qcow2.part', false))
      .to.deep.equal(['convert', '-q', '-f', 'qcow2', '-O', 'qcow2', '/p/v.qcow2', '/p/snapshots/s.qcow2.part']);
    expect(snapshotCopyArgs('/p/v.qcow2', '/p/snapshots/s.qcow2.part', true))
      .to.deep.equal(['convert', '-q', '-U', '-f', 'qcow2', '-O', 'qcow2', '/p/v.qcow2', '/p/snapshots/s.qcow2.part']);
  });

  it('copies a volume to <pool>/snapshots/<snapshot>.qcow2 through a .part.<random> file, with the copy timeout; a repeat copies nothing', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    const f = await pool.snapshot('vol-1', 'snap-1', true);
    expect(f).to.deep.equal({ virtualSize: 1_073_741_824, physicalSize: 4096 });
    const convert = calls.find((c) => c.args[0] === 'convert')!;
    expect(convert.args).to.include('-U');
    expect(convert.args.at(-1)).to.match(new RegExp(`^${join(dir, 'snapshots', 'snap-1.qcow2.part.')}[0-9a-f]{12}$`));
    expect(convert.timeoutMs).to.equal(3_600_000);
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal(['snap-1.qcow2']);
    calls = [];
    expect(await pool.snapshot('vol-1', 'snap-1', true)).to.deep.equal(f);
    expect(calls.map((c) => c.args[0])).to.deep.equal(['info']);
  });

  it('answers undefined, running nothing, when the pool holds no file of the volume or snapshot', async () => {
    expect(await pool.snapshot('nowhere', 'snap-2', false)).to.equal(undefined);
    expect(await pool.volumeFromSnapshot('nosnap', 'vol-2')).to.equal(undefined);
    expect(calls).to.deep.equal([]);
  });

  it('leaves no file, whole or partial, when the copy fails, and rejects with qemu-img\'s words', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    failConvert = true;
    const err = await pool.snapshot('vol-1', 'snap-3', false).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.include('No space left on device');
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal([]);
  });

  it('removes a copy that finishes after its snapshot was deleted (its asker gave up), instead of leaving it ownerless', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    let finish: () => void = () => undefined;
    const slowExec: ExecFn = async (file, args, o) => {
      if (args[0] === 'convert') await new Promise<void>((r) => { finish = r; });
      return exec(file, args, o);
    };
    const slow = new KvmPool(dir, new CommandRunner(slowExec, new SimulatedClock(), 60_000));
    const copy = slow.snapshot('vol-1', 'snap-5', false).then(() => undefined, (e: Error) => e);
    await new Promise((r) => setTimeout(r, 20));
    expect(await slow.deleteSnapshot('snap-5')).to.equal(false);
    finish();
    expect((await copy)?.message).to.match(/deleted while its file was being copied/);
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal([]);
  });

  it('makes a volume from a snapshot as a copy, and deletes snapshot files (false when there was none)', async () => {
    writeFileSync(pool.snapshotPath('snap-4'), 'snap');
    expect(await pool.volumeFromSnapshot('snap-4', 'vol-4')).to.deep.equal({ virtualSize: 1_073_741_824, physicalSize: 4096 });
    const convert = calls.find((c) => c.args[0] === 'convert')!;
    expect(convert.args).to.not.include('-U');
    expect(convert.args.at(-2)).to.equal(pool.snapshotPath('snap-4'));
    expect(convert.args.at(-1)!.startsWith(`${pool.volumePath('vol-4')}.part.`)).to.equal(true);
    expect(readdirSync(dir).filter((f) => f.includes('.part'))).to.deep.equal([]);
    expect(existsSync(pool.volumePath('vol-4'))).to.equal(true);
    expect(await pool.deleteSnapshot('snap-4')).to.equal(true);
    expect(await pool.deleteSnapshot('snap-4')).to.equal(false);
    expect(() => pool.snapshotPath('../etc/passwd')).to.throw(/cannot name a file/);
  });

  it('reports the file system under the pool with an id that is the same for two directories on it', async () => {
    const other = new KvmPool(join(dir, 'other'), new CommandRunner(exec, new SimulatedClock(), 60_000));
    await other.init();
    const [a, b] = [await pool.capacity(), await other.capacity()];
    expect(a.fsid).to.equal(b.fsid);
    expect(a.totalBytes).to.be.greaterThan(0);
    expect(a.usedBytes).to.be.within(0, a.totalBytes);
    expect(a.availableBytes).to.be.within(0, a.totalBytes);
  });
});

describe('kvm: live snapshot of a running guest\'s disk', () => {
  let dir: string;
  let calls: string[][];
  let fail: string | undefined;
  let pool: KvmPool;
  const exec: ExecFn = async (file, args) => {
    calls.push([file, ...args]);
    const verb = file === 'virsh' ? args[3]! : args[0]!;
    if (verb === fail) throw new CommandError(`${file} ${verb} failed (exit 1): refused`, 'refused');
    if (verb === 'snapshot-create-as') writeFileSync(pool.overlayPath('s1'), 'overlay');
    if (verb === 'convert') writeFileSync(args[args.length - 1]!, 'qcow2');
    if (verb === 'info') return JSON.stringify({ 'virtual-size': 1024, 'actual-size': 512 });
    if (verb === 'domblklist') return ` vda   ${pivoted}\n vdb   /p/other.qcow2\n`;
    return '';
  };
  let pivoted = '';
  const runner = (): CommandRunner => new CommandRunner(exec, new SimulatedClock(), 60_000);
  const input = (): Parameters<typeof liveSnapshot>[0] => ({ run: runner(), pool, log: silentLogger, uri: 'qemu:///system', domain: 'i-2-7-VM',
    dev: 'vda', otherDevs: ['vdb'], volumeUuid: 'v1', snapshotUuid: 's1', timeoutMs: 1_000, hostName: 'k1' });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csd-live-'));
    calls = [];
    fail = undefined;
    pool = new KvmPool(dir, runner());
    await pool.init();
    writeFileSync(pool.volumePath('v1'), 'disk');
    pivoted = pool.volumePath('v1');
  });

  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('freezes the one disk to an overlay, copies it, merges the overlay back and removes it', async () => {
    expect(await liveSnapshot(input())).to.deep.equal({ virtualSize: 1024, physicalSize: 512 });
    const verbs = calls.map((c) => (c[0] === 'virsh' ? c[4]! : `qemu-img ${c[1]!}`));
    expect(verbs).to.deep.equal(['snapshot-create-as', 'qemu-img convert', 'qemu-img info', 'blockcommit', 'domblklist']);
    expect(calls[0]).to.deep.equal(['virsh', ...diskOnlySnapshotArgs('qemu:///system', 'i-2-7-VM', 'csd-s1', 'vda', pool.overlayPath('s1'), ['vdb'])]);
    expect(calls[0]).to.include.members(['--disk-only', '--atomic', '--no-metadata', `vda,snapshot=external,file=${pool.overlayPath('s1')},driver=qcow2`, 'vdb,snapshot=no']);
    expect(calls[3]).to.deep.equal(['virsh', ...blockCommitArgs('qemu:///system', 'i-2-7-VM', 'vda', pool.volumePath('v1'))]);
    // Merged into the volume's own file, never further down its chain (a root disk's template).
    expect(calls[3]).to.include.members(['--active', '--pivot', '--wait', '--base', pool.volumePath('v1')]);
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal(['s1.qcow2']);
  });

  it('merges back even when the copy fails, and leaves neither snapshot nor overlay', async () => {
    fail = 'convert';
    const err = await liveSnapshot(input()).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/could not copy volume v1/);
    expect(calls.some((c) => c[4] === 'blockcommit')).to.equal(true);
    expect(readdirSync(join(dir, 'snapshots'))).to.deep.equal([]);
  });

  it('says where the guest\'s writes are when they cannot be merged back, and keeps no snapshot', async () => {
    fail = 'blockcommit';
    const err = await liveSnapshot(input()).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.include(pool.overlayPath('s1'));
    expect(existsSync(pool.snapshotPath('s1'))).to.equal(false);
  });

  it('fails loudly, keeping no snapshot, when the disk is not back on the volume\'s file after the merge', async () => {
    pivoted = join(dir, 'templates', 't.qcow2');
    const err = await liveSnapshot(input()).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.include(`vda of i-2-7-VM is on ${pivoted}`);
    expect(existsSync(pool.snapshotPath('s1'))).to.equal(false);
    expect(sourceOf(' vda   /a b\n', 'vda')).to.equal('/a');
    expect(sourceOf(' vdb   /x\n', 'vda')).to.equal(undefined);
  });

  it('copies nothing when the snapshot file exists (a repeated command) and refuses an overlay path virsh cannot take', async () => {
    writeFileSync(pool.snapshotPath('s1'), 'done');
    await liveSnapshot(input());
    expect(calls.map((c) => c[1])).to.deep.equal(['info']);
    expect(() => diskOnlySnapshotArgs('u', 'd', 'n', 'vda', '/a,b', [])).to.throw(/comma or space/);
  });
});
