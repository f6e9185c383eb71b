/**
 * The primary storage pool of one KVM host: a local directory, as CloudStack's KVM agent keeps a
 * "Filesystem" pool. Templates are copied into it once (downloaded from their registered URL, checksum
 * verified); a root disk is a qcow2 linked clone of its template (`qemu-img create -b`); data disks are
 * qcow2 files of their size. Files are named by volume uuid, so a file always says whose it is.
 *
 * Volume snapshots are standalone qcow2 files in <dir>/snapshots/<snapshot>.qcow2, made by
 * `qemu-img convert` (the backing chain flattened). Not qcow2 internal snapshots, because a snapshot
 * outlives its volume in CloudStack (deleteVolume keeps the volume's snapshots, and this pool removes
 * the volume's file), and because qemu-img cannot add an internal snapshot to an image a running
 * guest has open. A volume created from a snapshot is a standalone copy of it too.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InterruptedError, InvalidParameterError, ResourceUnavailableError } from '../../../src/errors.js';
import type { SnapshotFile } from '../hypervisor-driver.js';
import type { StorageReport, VmSpec, VolumeSpec } from '../protocol.js';
import type { CommandRunner } from './command-runner.js';

type TemplateRef = NonNullable<VmSpec['template']>;

/**
 * The pool's file system as `df` shows it. `fsid` names that file system (machine id and device): hosts
 * whose directories share one file system (the namespaced hosts of a test, on one machine) report the
 * same fsid, so the management side counts its bytes once.
 */
export type PoolCapacity = StorageReport;

/** Longest wait for a template's download, ms. 10 minutes: a few GiB over a slow link. */
export const TEMPLATE_DOWNLOAD_TIMEOUT_MS = 600_000;

/**
 * Longest one snapshot copy (`qemu-img convert` of a whole disk) may take, ms. 1 hour: a few hundred GiB
 * on a local disk; CloudStack's backup.snapshot.wait is longer still (6 h) because it copies over NFS.
 */
export const COPY_TIMEOUT_MS = 3_600_000;

/**
 * The `qemu-img convert` arguments of a snapshot copy: qcow2 to a standalone qcow2 (no backing file),
 * `-U` when a running guest holds the source open (its lock is not taken; see KvmPool.snapshot).
 */
export function snapshotCopyArgs(src: string, dst: string, inUse: boolean): string[] {
  return ['convert', '-q', ...(inUse ? ['-U'] : []), '-f', 'qcow2', '-O', 'qcow2', src, dst];
}

export class KvmPool {
  private readonly downloads = new Map<string, Promise<string>>();

  private machine: string | undefined;
  /** Snapshots whose copy is running, and those of them deleted meanwhile (their copy is removed when done). */
  private readonly copying = new Set<string>();
  private readonly dropped = new Set<string>();

  constructor(readonly dir: string, private readonly run: CommandRunner, private readonly downloadTimeoutMs = TEMPLATE_DOWNLOAD_TIMEOUT_MS,
    private readonly copyTimeoutMs = COPY_TIMEOUT_MS) {}

  async init(): Promise<void> {
    await Promise.all([mkdir(join(this.dir, 'templates'), { recursive: true }), mkdir(join(this.dir, 'snapshots'), { recursive: true })]);
  }

  snapshotPath(snapshotUuid: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(snapshotUuid)) throw new InvalidParameterError(`snapshot id ${snapshotUuid} cannot name a file in the pool`);
    return join(this.dir, 'snapshots', `${snapshotUuid}.qcow2`);
  }

  volumePath(volumeUuid: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(volumeUuid)) throw new InvalidParameterError(`volume id ${volumeUuid} cannot name a file in the pool`);
    return join(this.dir, `${volumeUuid}.qcow2`);
  }

  /** The template's local copy, downloaded once per pool (concurrent callers share the download). */
  template(t: TemplateRef): Promise<string> {
    const name = createHash('sha256').update(t.url).digest('hex').slice(0, 24);
    const file = join(this.dir, 'templates', `${name}.${t.format.toLowerCase() === 'raw' ? 'raw' : 'qcow2'}`);
    let p = this.downloads.get(file);
    if (p === undefined) {
      p = this.fetchTemplate(t, file);
      this.downloads.set(file, p);
      p.catch(() => this.downloads.delete(file)); // a failed download is tried again by the next start
    }
    return p;
  }

  private async fetchTemplate(t: TemplateRef, file: string): Promise<string> {
    if (await exists(file)) return file;
    const part = `${file}.part`;
    const res = await fetch(t.url, { signal: AbortSignal.timeout(this.downloadTimeoutMs) }).catch((err: Error) => {
      throw new ResourceUnavailableError(`cannot download template ${t.url} to the pool ${this.dir}: ${err.message}`);
    });
    if (!res.ok || res.body === null) throw new ResourceUnavailableError(`template ${t.url} answered HTTP ${res.status}; check the template's URL`);
    const want = parseChecksum(t.checksum);
    const hash = want === undefined ? undefined : createHash(want.algorithm);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    if (hash !== undefined) body.on('data', (c: Buffer) => hash.update(c));
    await pipeline(body, createWriteStream(part));
    const got = hash?.digest('hex');
    if (want !== undefined && got !== want.hex) {
      await rm(part, { force: true });
      throw new ResourceUnavailableError(`template ${t.url} has ${want.algorithm} ${got}, not the registered checksum ${want.hex}; fix the template or its checksum`);
    }
    await rename(part, file);
    return file;
  }

  /** The root disk: a qcow2 linked clone of the template (kept when it exists: a stopped VM keeps its disk). */
  async rootDisk(vol: VolumeSpec, templateFile: string): Promise<{ file: string; created: boolean }> {
    const file = this.volumePath(vol.uuid);
    if (await exists(file)) return { file, created: false };
    const fmt = templateFile.endsWith('.raw') ? 'raw' : 'qcow2';
    const args = ['create', '-q', '-f', 'qcow2', '-b', templateFile, '-F', fmt, file];
    const base = await this.virtualSize(templateFile, fmt);
    if (vol.sizeBytes > base) args.push(String(vol.sizeBytes)); // a root disk bigger than its template grows
    await this.run.run('qemu-img', args);
    return { file, created: true };
  }

  /** A data disk of its size (kept when it exists). */
  async dataDisk(vol: VolumeSpec): Promise<{ file: string; created: boolean }> {
    const file = this.volumePath(vol.uuid);
    if (await exists(file)) return { file, created: false };
    if (vol.sizeBytes <= 0) throw new InvalidParameterError(`data volume ${vol.uuid} has no size; give it one`);
    await this.run.run('qemu-img', ['create', '-q', '-f', 'qcow2', file, String(vol.sizeBytes)]);
    return { file, created: true };
  }

  /**
   * Sets a detached disk's size (qemu-img resize); shrinking needs `shrinkOk`, as CloudStack's shrinkok.
   * Resolves false when the pool holds no file of the volume.
   */
  async resize(volumeUuid: string, sizeBytes: number, shrinkOk = false): Promise<boolean> {
    const file = this.volumePath(volumeUuid);
    if (!await exists(file)) return false;
    const now = await this.virtualSize(file, 'qcow2');
    if (sizeBytes === now) return true;
    if (sizeBytes < now && !shrinkOk) throw new InvalidParameterError(`volume ${volumeUuid} cannot shrink from ${now} to ${sizeBytes} bytes without shrinkok`);
    await this.run.run('qemu-img', ['resize', '-q', ...(sizeBytes < now ? ['--shrink'] : []), file, String(sizeBytes)]);
    return true;
  }

  async deleteVolume(volumeUuid: string): Promise<boolean> {
    const file = this.volumePath(volumeUuid);
    const had = await exists(file);
    await rm(file, { force: true });
    return had;
  }

  /**
   * Copies a volume's file to the snapshot's (`qemu-img convert`, the backing chain flattened into one
   * standalone qcow2). `inUse`: a running guest holds the file open, so it is read without taking qemu's
   * image lock (`-U`) — only ever while live-snapshot.ts has frozen it (the guest writes to an overlay):
   * a file being written could be read half-updated. Resolves undefined when the pool holds no file of the
   * volume; an existing snapshot file is kept (the command was repeated). A copy that fails leaves no file.
   */
  async snapshot(volumeUuid: string, snapshotUuid: string, inUse: boolean): Promise<SnapshotFile | undefined> {
    const src = this.volumePath(volumeUuid);
    const dst = this.snapshotPath(snapshotUuid);
    if (await exists(dst)) return this.fileSizes(dst);
    if (!await exists(src)) return undefined;
    this.copying.add(snapshotUuid);
    try {
      await this.copy(snapshotCopyArgs(src, `${dst}.part`, inUse), dst);
    } finally {
      this.copying.delete(snapshotUuid);
    }
    if (this.dropped.delete(snapshotUuid)) {
      await rm(dst, { force: true });
      throw new InterruptedError(`snapshot ${snapshotUuid} was deleted while its file was being copied; the copy is removed`);
    }
    return this.fileSizes(dst);
  }

  /** The snapshot's file when it exists already (a repeated command). */
  async existingSnapshot(snapshotUuid: string): Promise<SnapshotFile | undefined> {
    const file = this.snapshotPath(snapshotUuid);
    return await exists(file) ? this.fileSizes(file) : undefined;
  }

  /** Where a running guest writes while its disk is copied (live-snapshot.ts); removed once merged back. */
  overlayPath(snapshotUuid: string): string {
    return `${this.snapshotPath(snapshotUuid).replace(/\.qcow2$/, '')}.overlay`;
  }

  /** A new volume's file as a standalone copy of a snapshot; undefined when the pool holds no such snapshot. */
  async volumeFromSnapshot(snapshotUuid: string, volumeUuid: string): Promise<SnapshotFile | undefined> {
    const src = this.snapshotPath(snapshotUuid);
    const dst = this.volumePath(volumeUuid);
    if (await exists(dst)) return this.fileSizes(dst);
    if (!await exists(src)) return undefined;
    await this.copy(snapshotCopyArgs(src, `${dst}.part`, false), dst);
    return this.fileSizes(dst);
  }

  /**
   * Removes a snapshot's file. A copy still running (its asker gave up and failed the snapshot) is marked
   * so that its file is removed as soon as it is done, instead of being left with no snapshot to own it.
   */
  async deleteSnapshot(snapshotUuid: string): Promise<boolean> {
    const file = this.snapshotPath(snapshotUuid);
    if (this.copying.has(snapshotUuid)) this.dropped.add(snapshotUuid);
    const had = await exists(file);
    await rm(file, { force: true });
    return had;
  }

  /** Runs one `qemu-img convert` into `<dst>.part` and renames it, so a file under its final name is always whole. */
  private async copy(args: string[], dst: string): Promise<void> {
    const part = `${dst}.part`;
    try {
      await this.run.run('qemu-img', args, { timeoutMs: this.copyTimeoutMs });
      await rename(part, dst);
    } catch (err) {
      await rm(part, { force: true }).catch(() => undefined); // the copy's own failure is the one to report
      throw err;
    }
  }

  private async fileSizes(file: string): Promise<SnapshotFile> {
    const out = await this.run.run('qemu-img', ['info', '--output=json', '-U', '-f', 'qcow2', file]);
    const info = JSON.parse(out) as { 'virtual-size': number; 'actual-size'?: number };
    return { virtualSize: info['virtual-size'], physicalSize: info['actual-size'] ?? (await stat(file)).size };
  }

  async capacity(): Promise<PoolCapacity> {
    const [s, st] = await Promise.all([statfs(this.dir), stat(this.dir)]);
    const totalBytes = s.blocks * s.bsize;
    const availableBytes = s.bavail * s.bsize;
    this.machine ??= await readFile('/etc/machine-id', 'utf8').then((m) => m.trim(), () => hostname());
    return { fsid: `${this.machine}:${st.dev}`, totalBytes, availableBytes, usedBytes: totalBytes - s.bfree * s.bsize };
  }

  private async virtualSize(file: string, fmt: string): Promise<number> {
    const out = await this.run.run('qemu-img', ['info', '--output=json', '-f', fmt, file]);
    return (JSON.parse(out) as { 'virtual-size': number })['virtual-size'];
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

/** CloudStack's checksum forms: `{SHA-256}hex`, `{MD5}hex`, or bare hex (MD5 when 32 digits, SHA-256 when 64). */
export function parseChecksum(c: string | undefined): { algorithm: string; hex: string } | undefined {
  if (c === undefined || c.trim() === '') return undefined;
  const m = /^\{([A-Za-z0-9-]+)\}([0-9a-fA-F]+)$/.exec(c.trim());
  if (m !== null) return { algorithm: m[1]!.toLowerCase().replace('-', ''), hex: m[2]!.toLowerCase() };
  const hex = c.trim().toLowerCase();
  return { algorithm: hex.length === 64 ? 'sha256' : hex.length === 128 ? 'sha512' : hex.length === 40 ? 'sha1' : 'md5', hex };
}
