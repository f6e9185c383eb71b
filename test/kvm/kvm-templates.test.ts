/** The kvm pool's created templates (createTemplate from a volume or snapshot) without QEMU: the copy, where it goes, what a failure leaves. */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, CommandRunner, type ExecFn } from '../../actors/compute/kvm/command-runner.js';
import { KvmPool } from '../../actors/compute/kvm/kvm-pool.js';
import { IllegalStateError, InterruptedError } from '../../src/errors.js';
import { SimulatedClock } from '../../src/clock.js';

describe('kvm pool: created template files', () => {
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
    if (args[0] === 'info') return JSON.stringify({ 'virtual-size': 1_073_741_824, 'actual-size': 8192 });
    throw new Error(`unexpected qemu-img ${args.join(' ')}`);
  };
  const templates = (): string[] => readdirSync(join(dir, 'templates')).sort();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csd-pool-'));
    calls = [];
    failConvert = false;
    pool = new KvmPool(dir, new CommandRunner(exec, new SimulatedClock(), 60_000), undefined, 3_600_000);
    await pool.init();
  });

  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('copies a volume to <pool>/templates/<template>.qcow2 (standalone, with the image lock, the copy timeout) through a .part.<random> file; a repeat copies nothing', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    const f = await pool.templateFile({ volumeUuid: 'vol-1' }, 'tpl-1');
    expect(f).to.deep.equal({ virtualSize: 1_073_741_824, physicalSize: 8192 });
    const convert = calls.find((c) => c.args[0] === 'convert')!;
    expect(convert.args.slice(0, -1)).to.deep.equal(['convert', '-q', '-f', 'qcow2', '-O', 'qcow2', pool.volumePath('vol-1')]);
    expect(convert.args.at(-1)).to.match(new RegExp(`^${join(dir, 'templates', 'tpl-1.qcow2.part.')}[0-9a-f]{12}$`));
    expect(convert.timeoutMs).to.equal(3_600_000);
    expect(templates()).to.deep.equal(['tpl-1.qcow2']);
    calls = [];
    expect(await pool.templateFile({ volumeUuid: 'vol-1' }, 'tpl-1')).to.deep.equal(f);
    expect(calls.map((c) => c.args[0])).to.deep.equal(['info']);
  });

  it('copies a snapshot file, and answers undefined, running nothing, when the pool holds no file of the source', async () => {
    writeFileSync(pool.snapshotPath('snap-1'), 'snap');
    await pool.templateFile({ snapshotUuid: 'snap-1' }, 'tpl-2');
    expect(calls.find((c) => c.args[0] === 'convert')!.args.at(-2)).to.equal(pool.snapshotPath('snap-1'));
    expect(templates()).to.deep.equal(['tpl-2.qcow2']);
    calls = [];
    expect(await pool.templateFile({ volumeUuid: 'nowhere' }, 'tpl-3')).to.equal(undefined);
    expect(await pool.templateFile({ snapshotUuid: 'nosnap' }, 'tpl-3')).to.equal(undefined);
    expect(calls).to.deep.equal([]);
    expect(templates()).to.deep.equal(['tpl-2.qcow2']);
  });

  it("leaves no file, whole or partial, when the copy fails, and rejects with qemu-img's words", async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    failConvert = true;
    const err = await pool.templateFile({ volumeUuid: 'vol-1' }, 'tpl-4').then(() => undefined, (e: Error) => e);
    expect(err?.message).to.include('No space left on device');
    expect(templates()).to.deep.equal([]);
  });

  it('drops a copy whose template was deleted while it was written (its temporary file removed): no file is published', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    let started: () => void = () => undefined;
    const running = new Promise<void>((r) => { started = r; });
    let finish: () => void = () => undefined;
    // qemu-img creates its output at once and writes it until done.
    const slowExec: ExecFn = async (file, args, o) => {
      if (args[0] !== 'convert') return exec(file, args, o);
      writeFileSync(args[args.length - 1]!, 'partial');
      started();
      await new Promise<void>((r) => { finish = r; });
      return '';
    };
    const slow = new KvmPool(dir, new CommandRunner(slowExec, new SimulatedClock(), 60_000));
    const copy = slow.templateFile({ volumeUuid: 'vol-1' }, 'tpl-5').then(() => undefined, (e: Error) => e);
    await running;
    expect(templates()).to.have.length(1);
    expect(await slow.deleteTemplateFile('tpl-5')).to.equal(false);
    expect(templates()).to.deep.equal([]);
    finish();
    const err = await copy;
    expect(err).to.be.instanceOf(InterruptedError);
    expect(err?.message).to.match(/deleted while its file was being written/);
    expect(templates()).to.deep.equal([]);
  });

  it("gives a root disk the created template's file, and says where such a template lives when this pool has none", async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    await pool.templateFile({ volumeUuid: 'vol-1' }, 'tpl-6');
    expect(await pool.template({ uuid: 'tpl-6', format: 'QCOW2' })).to.equal(join(dir, 'templates', 'tpl-6.qcow2'));
    const err = await pool.template({ uuid: 'tpl-7', format: 'QCOW2' }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(IllegalStateError);
    expect(err?.message).to.include(join(dir, 'templates', 'tpl-7.qcow2')).and.include('cluster that held its source');
    expect(() => pool.createdTemplatePath('../x')).to.throw(/cannot name a file/);
  });

  it('deletes a template file (false when there was none), never a downloaded template', async () => {
    writeFileSync(pool.volumePath('vol-1'), 'disk');
    await pool.templateFile({ volumeUuid: 'vol-1' }, 'tpl-8');
    const downloaded = join(dir, 'templates', '0123456789abcdef01234567.qcow2');
    writeFileSync(downloaded, 'downloaded');
    expect(await pool.deleteTemplateFile('tpl-8')).to.equal(true);
    expect(await pool.deleteTemplateFile('tpl-8')).to.equal(false);
    expect(existsSync(downloaded)).to.equal(true);
    expect(templates()).to.deep.equal(['0123456789abcdef01234567.qcow2']);
  });
});
