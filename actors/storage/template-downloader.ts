import type { Clock, TimerHandle } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import type { DataApi } from '../data/protocol.js';
import { checksumHash, parseChecksum } from './checksum.js';

type Task = Awaited<ReturnType<DataApi['templateDownloads']['claim']>>[number];

/** The template downloader's limits. */
export interface DownloadOptions {
  /** How often the queue is looked at for new downloads, ms. Default 1000 (a registered template starts within a second). */
  pollIntervalMs: number;
  /** Downloads at once per storage component. Default 2: each is one stream to secondary storage. */
  maxConcurrent: number;
  /** Largest image accepted, bytes. Default 100 GiB, above any real template; bigger downloads fail. */
  maxBytes: number;
  /** Longest wait for the server's answer (headers), ms. Default 30,000. */
  connectTimeoutMs: number;
  /** Longest pause between two chunks of the body, ms. Default 60,000. */
  idleTimeoutMs: number;
  /** Progress is written at most this often per download, ms. Default 1000. */
  progressIntervalMs: number;
}

export const DEFAULT_DOWNLOAD_OPTIONS: DownloadOptions = {
  pollIntervalMs: 1000, maxConcurrent: 2, maxBytes: 100 * 1024 ** 3, connectTimeoutMs: 30_000, idleTimeoutMs: 60_000,
  progressIntervalMs: 1000,
};

/** A download that failed, with CloudStack's status text for the template entry. */
class DownloadError extends Error {}

/**
 * Downloads registered templates and ISOs to the zone's secondary storage: streams the URL (http or
 * https), counts its bytes, verifies the checksum when one was given, reads a QCOW2 image's virtual
 * size from its header, and reports progress, then Ready or the failure. The simulator's secondary
 * storage keeps no bytes; everything up to that point is real.
 */
export class TemplateDownloader {
  private timer: TimerHandle | undefined;
  private readonly running = new Map<string, AbortController>();
  private polling = false;
  private stopped = false;

  constructor(private readonly data: DataApi, private readonly clock: Clock, private readonly log: Logger,
    private readonly o: DownloadOptions = DEFAULT_DOWNLOAD_OPTIONS) {}

  async start(): Promise<void> {
    const n = await this.data.templateDownloads.requeueInProgress();
    if (n > 0) this.log.info('template downloads interrupted by a restart are queued again', { downloads: n });
    this.timer = this.clock.setInterval(() => { void this.poll(); }, this.o.pollIntervalMs);
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    for (const c of this.running.values()) c.abort();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const free = this.o.maxConcurrent - this.running.size;
      if (free <= 0) return;
      for (const task of await this.data.templateDownloads.claim(free)) this.launch(task);
    } catch (err) {
      this.log.warn('could not look at the template download queue', { error: (err as Error).message });
    } finally {
      this.polling = false;
    }
  }

  private launch(task: Task): void {
    const key = `${task.templateid}/${task.zoneid}`;
    const abort = new AbortController();
    this.running.set(key, abort);
    void this.download(task, abort.signal).then(
      (sizes) => this.data.templateDownloads.complete(task.templateid, task.zoneid, sizes),
      (err: unknown) => {
        if (this.stopped) return undefined; // requeued at the next start
        const reason = err instanceof DownloadError ? err.message : `Download Failed: ${(err as Error).message}`;
        this.log.info('template download failed', { template: task.templateid, url: task.url, reason });
        return this.data.templateDownloads.fail(task.templateid, task.zoneid, reason);
      },
    ).catch((err: unknown) => this.log.warn('could not record a template download', { template: task.templateid, error: String(err) }))
      .finally(() => { this.running.delete(key); });
  }

  private async download(task: Task, signal: AbortSignal): Promise<{ physicalsize: number; size: number }> {
    const url = checkUrl(task.url);
    const expected = task.checksum === undefined ? undefined : parseChecksum(task.checksum);
    const hash = expected === undefined ? undefined : checksumHash(expected);
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    signal.addEventListener('abort', onAbort);
    let timer = this.clock.setTimeout(() => ctl.abort(), this.o.connectTimeoutMs);
    try {
      const res = await fetch(url, { signal: ctl.signal, redirect: 'follow' }).catch((err: unknown) => {
        throw new DownloadError(`Download Failed: unable to reach ${url.host}: ${causeOf(err)}`);
      });
      if (!res.ok || res.body === null) throw new DownloadError(`Download Failed: the server answered HTTP ${res.status} for ${url.pathname}`);
      const total = Number(res.headers.get('content-length') ?? NaN);
      if (total > this.o.maxBytes) throw new DownloadError(`Download Failed: the image is ${total} bytes, more than the ${this.o.maxBytes} accepted`);
      let bytes = 0;
      let lastReport = this.clock.now();
      let header = Buffer.alloc(0);
      const reader = res.body.getReader();
      for (;;) {
        timer.cancel();
        timer = this.clock.setTimeout(() => ctl.abort(), this.o.idleTimeoutMs);
        const { done, value } = await reader.read().catch((err: unknown) => {
          throw new DownloadError(`Download Failed: the transfer from ${url.host} broke off after ${bytes} bytes: ${causeOf(err)}`);
        });
        if (done) break;
        bytes += value.byteLength;
        if (bytes > this.o.maxBytes) throw new DownloadError(`Download Failed: the image is larger than the ${this.o.maxBytes} bytes accepted`);
        hash?.update(value);
        if (header.length < 32) header = Buffer.concat([header, Buffer.from(value.subarray(0, 32))]);
        if (Number.isFinite(total) && total > 0 && this.clock.now() - lastReport >= this.o.progressIntervalMs) {
          lastReport = this.clock.now();
          await this.data.templateDownloads.progress(task.templateid, task.zoneid, (bytes * 100) / total);
        }
      }
      if (Number.isFinite(total) && bytes !== total) throw new DownloadError(`Download Failed: got ${bytes} of ${total} bytes`);
      if (expected !== undefined && hash!.digest('hex') !== expected.hex) {
        throw new DownloadError(`Failed post download script: checksum mismatch, the image's ${expected.algorithm} is not ${expected.hex}`);
      }
      return { physicalsize: bytes, size: virtualSize(task.format, header) ?? bytes };
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function checkUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DownloadError(`Download Failed: ${text} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DownloadError(`Download Failed: unsupported protocol ${url.protocol} in ${text}; use http:// or https://`);
  }
  return url;
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** A QCOW2 image's virtual size (header bytes 24..31, big endian); undefined for other formats. */
function virtualSize(format: string, header: Buffer): number | undefined {
  if (format !== 'QCOW2' || header.length < 32 || header.readUInt32BE(0) !== 0x514649fb) return undefined;
  const size = header.readBigUInt64BE(24);
  return size > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(size);
}
