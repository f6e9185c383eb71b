/** The kvm pool's snapshot files without QEMU: the commands it runs, what it leaves behind when they fail. */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, CommandRunner, type ExecFn } from '../../actors/compute/kvm/command-runner.js';
import { KvmPool, snapshotCopyArgs } from '../../actors/compute/kvm/kvm-pool.js';
import { SimulatedClock } from '../../src/clock.js';

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

  it('copies a volume to <pool>/snapshots/<snapshot>.qcow2 through a .part file, with the copy timeout; a repeat copies nothing', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    const f = await pool.snapshot('vol-1', 'snap-1', true);
    expect(f).to.deep.equal({ virtualSize: 1_073_741_824, physicalSize: 4096 });
    const convert = calls.find((c) => c.args[0] === 'convert')!;
    expect(convert.args).to.include('-U');
    expect(convert.args.at(-1)).to.equal(join(dir, 'snapshots', 'snap-1.qcow2.part'));
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

  it('makes a volume from a snapshot as a copy, and deletes snapshot files (false when there was none)', async () => {
    writeFileSync(pool.snapshotPath('snap-4'), 'snap');
    expect(await pool.volumeFromSnapshot('snap-4', 'vol-4')).to.deep.equal({ virtualSize: 1_073_741_824, physicalSize: 4096 });
    const convert = calls.find((c) => c.args[0] === 'convert')!;
    expect(convert.args).to.not.include('-U');
    expect(convert.args.slice(-2)).to.deep.equal([pool.snapshotPath('snap-4'), `${pool.volumePath('vol-4')}.part`]);
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
