/**
 * The primary storage pool of a KVM cluster as one host sees it: a directory, the same one on every
 * host of the cluster (an NFS export mounted at one path, as CloudStack mounts its NFS primary storage
 * at /mnt/<pool uuid>), so a stopped VM starts on any host with its own disks. Templates are copied into it once (downloaded from their registered URL, checksum
 * verified); a root disk is a qcow2 linked clone of its template (`qemu-img create -b`); data disks are
 * qcow2 files of their size. Files are named by volume uuid, so a file always says whose it is.
 *
 * Volume snapshots are standalone qcow2 files in <dir>/snapshots/<snapshot>.qcow2, made by
 * `qemu-img convert` (the backing chain flattened). Not qcow2 internal snapshots, because a snapshot
 * outlives its volume in CloudStack (deleteVolume keeps the volume's snapshots, and this pool removes
 * the volume's file), and because qemu-img cannot add an internal snapshot to an image a running
 * guest has open. A volume created from a snapshot is a standalone copy of it too, and so is a template
 * created from a volume or a snapshot (createTemplate): <dir>/templates/<template uuid>.qcow2, beside the
 * downloaded ones (named by a hash of their URL, so the two never collide); root disks clone it as any template.
 *
 * Other hosts write the directory at the same time, so nothing here trusts what this process alone
 * remembers: a file is written under a temporary name of its own (<file>.part.<random>) and published
 * under its final name with link(2), which never replaces a file another host published first (theirs
 * is used); whether a file exists is asked of the file system each time. A volume the management side
 * says exists (VolumeSpec.isNew false) is never made afresh when its file is missing: that is an error
 * naming the file, since a new disk would silently replace the volume's data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IllegalStateError, InterruptedError, InvalidParameterError, ResourceUnavailableError } from '../../../src/errors.js';
import type { SnapshotFile, TemplateSource } from '../hypervisor-driver.js';
import type { StorageReport, VmSpec, VolumeSpec } from '../protocol.js';
import { CommandError, type CommandRunner } from './command-runner.js';

type TemplateRef = NonNullable<VmSpec['template']>;
/** A template registered by URL: downloaded into the pool. */
type DownloadRef = Extract<TemplateRef, { url: string }>;

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

/** What a missing file of an existing volume fails with: the fix is the cluster's storage configuration. */
export const SHARED_STORAGE_FIX = "the cluster's primary storage must be the same shared directory on every host of the cluster (--kvm-storage-dir)";

export class KvmPool {
  /** Downloads this process is running, joined by its concurrent callers (other hosts' are seen as files). */
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

  /** A created template's file (createTemplate from a volume or snapshot). */
  createdTemplatePath(templateUuid: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(templateUuid)) throw new InvalidParameterError(`template id ${templateUuid} cannot name a file in the pool`);
    return join(this.dir, 'templates', `${templateUuid}.qcow2`);
  }

  /**
   * The template's copy in the pool. A created template's file is the one templateFile wrote (there is
   * nothing to download it from). A registered one is downloaded once: a host finding the file uses it;
   * hosts downloading it at once each write their own temporary file and the first to finish publishes it
   * (the others' copies, of the same verified bytes, are dropped).
   */
  async template(t: TemplateRef): Promise<string> {
    if ('uuid' in t) {
      const file = this.createdTemplatePath(t.uuid);
      if (await exists(file)) return file;
      throw new IllegalStateError(`template ${t.uuid} was created from a volume or snapshot, and its file ${file} is not in this host's primary storage: ` +
        'such a template lives in the storage of the cluster that held its source; deploy the VM in that cluster, or create the template there again');
    }
    const name = createHash('sha256').update(t.url).digest('hex').slice(0, 24);
    const file = join(this.dir, 'templates', `${name}.${t.format.toLowerCase() === 'raw' ? 'raw' : 'qcow2'}`);
    let p = this.downloads.get(file);
    if (p === undefined) {
      // Forgotten once settled: the next caller looks at the directory again (a failed download is tried again).
      p = this.fetchTemplate(t, file).finally(() => this.downloads.delete(file));
      this.downloads.set(file, p);
    }
    return p;
  }

  private async fetchTemplate(t: DownloadRef, file: string): Promise<string> {
    if (await exists(file)) return file;
    const res = await fetch(t.url, { signal: AbortSignal.timeout(this.downloadTimeoutMs) }).catch((err: Error) => {
      throw new ResourceUnavailableError(`cannot download template ${t.url} to the pool ${this.dir}: ${err.message}`);
    });
    if (!res.ok || res.body === null) throw new ResourceUnavailableError(`template ${t.url} answered HTTP ${res.status}; check the template's URL`);
    const want = parseChecksum(t.checksum);
    const hash = want === undefined ? undefined : createHash(want.algorithm);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    if (hash !== undefined) body.on('data', (c: Buffer) => hash.update(c));
    const part = tempName(file);
    try {
      await pipeline(body, createWriteStream(part, { flags: 'wx' }));
      const got = hash?.digest('hex');
      if (want !== undefined && got !== want.hex) {
        throw new ResourceUnavailableError(`template ${t.url} has ${want.algorithm} ${got}, not the registered checksum ${want.hex}; fix the template or its checksum`);
      }
      await publish(part, file);
    } finally {
      await rm(part, { force: true });
    }
    return file;
  }

  /**
   * The root disk: a qcow2 linked clone of the template, made when the volume is new; an existing
   * volume's file is used as it is (a stopped VM keeps its disk, on whichever host of the cluster starts
   * it). `created` is true when this call made the file.
   */
  async rootDisk(vol: VolumeSpec, templateFile: string): Promise<{ file: string; created: boolean }> {
    const file = this.volumePath(vol.uuid);
    if (await exists(file)) return { file, created: false };
    this.mustBeNew(vol, file);
    const fmt = templateFile.endsWith('.raw') ? 'raw' : 'qcow2';
    const part = tempName(file);
    const args = ['create', '-q', '-f', 'qcow2', '-b', templateFile, '-F', fmt, part];
    const base = await this.virtualSize(templateFile, fmt);
    if (vol.sizeBytes > base) args.push(String(vol.sizeBytes)); // a root disk bigger than its template grows
    return { file, created: await this.make(part, file, args) };
  }

  /** A data disk of its size, made when the volume is new; an existing volume's file is used as it is. */
  async dataDisk(vol: VolumeSpec): Promise<{ file: string; created: boolean }> {
    const file = this.volumePath(vol.uuid);
    if (await exists(file)) return { file, created: false };
    this.mustBeNew(vol, file);
    if (vol.sizeBytes <= 0) throw new InvalidParameterError(`data volume ${vol.uuid} has no size; give it one`);
    const part = tempName(file);
    return { file, created: await this.make(part, file, ['create', '-q', '-f', 'qcow2', part, String(vol.sizeBytes)]) };
  }

  /** Runs `qemu-img create` into `part` and publishes it; false when another host published the file first. */
  private async make(part: string, file: string, args: string[]): Promise<boolean> {
    try {
      await this.run.run('qemu-img', args);
      return await publish(part, file);
    } finally {
      await rm(part, { force: true });
    }
  }

  /** An existing volume whose file is not here: its data is elsewhere (another host's own directory) or gone. */
  private mustBeNew(vol: VolumeSpec, file: string): void {
    if (vol.isNew) return;
    throw new IllegalStateError(`volume ${vol.uuid} (${vol.type}) exists but its file ${file} is not in this host's primary storage; ` +
      `a new empty disk is not made in its place (the volume's data would be lost): ${SHARED_STORAGE_FIX}`);
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

  /**
   * Removes a volume's file, unless a running guest has it open: the guest may run on another host of
   * the cluster, which this host's own list of guests does not show, so QEMU's image lock is asked
   * (`qemu-img info` without -U fails to take its shared lock while a guest writes the image).
   */
  async deleteVolume(volumeUuid: string): Promise<boolean> {
    const file = this.volumePath(volumeUuid);
    if (!await exists(file)) return false;
    await this.run.run('qemu-img', ['info', '--output=json', '-f', 'qcow2', file], { kind: 'qemu-img info (lock check)' }).catch((err: unknown) => {
      if (err instanceof CommandError && /lock/i.test(err.stderr)) {
        throw new IllegalStateError(`volume ${volumeUuid}'s file ${file} is in use by a running guest (QEMU holds its lock, on this or another host of the cluster); stop the VM first`);
      }
      // Any other failure (a damaged image) does not keep the file of a deleted volume.
    });
    await rm(file, { force: true });
    return true;
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
      await this.copy(src, dst, inUse).catch((err: unknown) => {
        // Another host's deleteSnapshot removed the temporary file (it does not know of this copy otherwise).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw new InterruptedError(`snapshot ${snapshotUuid} was deleted while its file was being copied; the copy is dropped`);
      });
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
    await this.copy(src, dst, false);
    return this.fileSizes(dst);
  }

  /**
   * Removes a snapshot's file. A copy still running (its asker gave up and failed the snapshot) is marked
   * so that its file is removed as soon as it is done, instead of being left with no snapshot to own it;
   * a copy another host of the cluster runs loses its temporary file, so it cannot publish one either.
   */
  async deleteSnapshot(snapshotUuid: string): Promise<boolean> {
    const file = this.snapshotPath(snapshotUuid);
    if (this.copying.has(snapshotUuid)) this.dropped.add(snapshotUuid);
    const parts = `${basename(file)}.part.`;
    // Bounded by the snapshots the pool holds; deleteSnapshot is an admin's occasional command.
    for (const f of await readdir(dirname(file)).catch(() => [] as string[])) {
      if (f.startsWith(parts)) await rm(join(dirname(file), f), { force: true });
    }
    const had = await exists(file);
    await rm(file, { force: true });
    return had;
  }

  /**
   * Writes a created template's file: a standalone qcow2 copy (backing chain flattened) of a volume's file
   * or a snapshot's. The source is read with QEMU's image lock, so a volume a running guest writes (on any
   * host of the cluster) fails the copy instead of being read half-updated. Resolves undefined when the
   * pool holds no file of the source; an existing template file is kept (the command was repeated). A copy
   * that fails leaves no file.
   */
  async templateFile(source: TemplateSource, templateUuid: string): Promise<SnapshotFile | undefined> {
    const src = 'volumeUuid' in source ? this.volumePath(source.volumeUuid) : this.snapshotPath(source.snapshotUuid);
    const dst = this.createdTemplatePath(templateUuid);
    if (await exists(dst)) return this.fileSizes(dst);
    if (!await exists(src)) return undefined;
    await this.copy(src, dst, false).catch((err: unknown) => {
      // deleteTemplateFile (on this or another host) removed the temporary file while it was written.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new InterruptedError(`template ${templateUuid} was deleted while its file was being written; the copy is dropped`);
    });
    return this.fileSizes(dst);
  }

  /**
   * Removes a created template's file, and the temporary file of a copy still being written (whose
   * publication then fails). Root disks cloned from the template have it as their backing file: the
   * management side removes it only once no VM uses the template.
   */
  async deleteTemplateFile(templateUuid: string): Promise<boolean> {
    const file = this.createdTemplatePath(templateUuid);
    const parts = `${basename(file)}.part.`;
    // Bounded by the templates the pool holds; deleteTemplate is an occasional command.
    for (const f of await readdir(dirname(file)).catch(() => [] as string[])) {
      if (f.startsWith(parts)) await rm(join(dirname(file), f), { force: true });
    }
    const had = await exists(file);
    await rm(file, { force: true });
    return had;
  }

  /**
   * Runs one `qemu-img convert` into a temporary file of its own and publishes it, so a file under its
   * final name is always whole; when another host published the same copy first, theirs is kept.
   */
  private async copy(src: string, dst: string, inUse: boolean): Promise<void> {
    const part = tempName(dst);
    try {
      await this.run.run('qemu-img', snapshotCopyArgs(src, part, inUse), { timeoutMs: this.copyTimeoutMs });
      await publish(part, dst);
    } finally {
      await rm(part, { force: true }).catch(() => undefined); // the copy's own failure is the one to report
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

/** `<file>.part.<random>`: a temporary name no other writer of the shared directory uses. */
export function tempName(file: string): string {
  return `${file}.part.${randomBytes(6).toString('hex')}`;
}

/**
 * Gives a whole file its final name without ever replacing one: link(2) fails when another host of the
 * cluster published the file first, and theirs is kept (rename(2) would replace it, under a guest that
 * may have it open). The temporary name is left for the caller to remove. False: the file was there.
 */
async function publish(part: string, file: string): Promise<boolean> {
  try {
    await link(part, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** CloudStack's checksum forms: `{SHA-256}hex`, `{MD5}hex`, or bare hex (MD5 when 32 digits, SHA-256 when 64). */
export function parseChecksum(c: string | undefined): { algorithm: string; hex: string } | undefined {
  if (c === undefined || c.trim() === '') return undefined;
  const m = /^\{([A-Za-z0-9-]+)\}([0-9a-fA-F]+)$/.exec(c.trim());
  if (m !== null) return { algorithm: m[1]!.toLowerCase().replace('-', ''), hex: m[2]!.toLowerCase() };
  const hex = c.trim().toLowerCase();
  return { algorithm: hex.length === 64 ? 'sha256' : hex.length === 128 ? 'sha512' : hex.length === 40 ? 'sha1' : 'md5', hex };
}
