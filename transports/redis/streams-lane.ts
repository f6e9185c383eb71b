import type { Redis } from 'ioredis';
import { decodeFrame, encodeFrame } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import { AuthError, ResourceUnavailableError } from '../../src/errors.js';
import type { TimerHandle } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import type { RedisTransportStats } from './stats.js';
import type { ClusterNames } from './channels.js';
import { isAuthFailure } from './connections.js';
import { FrameKind, type FrameSealer } from './mac.js';
import { redactUrl, type ResolvedRedisOptions } from './options.js';

/**
 * The at-least-once lane, on Redis Streams. Each node owns a stream (`…:stream:<node>`) read through a
 * consumer group: XADD appends (capped with MAXLEN ~), XREADGROUP hands new entries to this node's
 * consumer, XACK retires them once they are handed to the runtime. An entry read but never acknowledged
 * — its consumer crashed, or the XACK was lost with the connection — stays pending; after `claimIdleMs`
 * another consumer (or this one again) takes it over with XAUTOCLAIM and delivers it again. Receivers
 * therefore see duplicates, and every durable envelope carries `dedup: true` so that the runtime's
 * Remoting runs its handler once per (sender, id).
 *
 * Stream entries are MAC'd like pub/sub frames (bound to the stream key) but have no clock-skew check:
 * they may legitimately wait in the stream while their node is down.
 */
export interface StreamsLaneDeps {
  o: ResolvedRedisOptions;
  names: ClusterNames;
  sealer: FrameSealer;
  /** Connection for XADD, XACK, XAUTOCLAIM, XGROUP (auto-pipelined). */
  cmd: Redis;
  /** Connection dedicated to the blocking XREADGROUP. */
  block: Redis;
  /** Consumer name in the group; unique per running instance. */
  consumer: string;
  stats: RedisTransportStats;
  log: Logger;
  deliver(env: Envelope): void;
}

export interface StreamEntry {
  id: string;
  frame: Buffer | undefined;
}

type RawEntries = [Buffer, Buffer[] | null][];
/**
 * ioredis has xautoclaimBuffer at run time but not in its typings, and callBuffer('XAUTOCLAIM', ...)
 * loses the command name under auto-pipelining (ioredis 6.0.0), so the method is typed here.
 */
interface XAutoClaimBuffer {
  xautoclaimBuffer(key: string, group: string, consumer: string, minIdle: number, start: string, count: 'COUNT', n: number): Promise<[Buffer, RawEntries, unknown]>;
}

export class StreamsLane {
  readonly stream: string;
  private running = false;
  private loop: Promise<void> | undefined;
  private nextClaimAt = 0;
  private wake: (() => void) | undefined;
  private sleepTimer: TimerHandle | undefined;

  constructor(private readonly d: StreamsLaneDeps) {
    this.stream = d.names.stream(d.o.nodeId);
  }

  /** Appends one envelope to `nodeId`'s stream; resolves once Redis has stored it. */
  async add(nodeId: string, env: Envelope): Promise<void> {
    const { o, sealer } = this.d;
    const payload = encodeFrame([{ ...env, dedup: true }], o.limits);
    const key = this.d.names.stream(nodeId);
    const frame = sealer.seal(key, FrameKind.Envelopes, 0, 1, payload, o.clock.now());
    try {
      await this.d.cmd.xadd(key, 'MAXLEN', '~', String(o.streamMaxLen), '*', 'f', frame);
    } catch (err) {
      this.d.stats.durableSendFailures++;
      if (isAuthFailure(err)) throw new AuthError(`redis refused XADD to ${key}: ${(err as Error).message} — the ACL user needs +xadd on ~${this.d.names.base}*`, { cause: err });
      throw new ResourceUnavailableError(`durable send to ${nodeId} failed: redis at ${redactUrl(o.url)} did not store it (${(err as Error).message}); retry`, { cause: err });
    }
    this.d.stats.durableSent++;
  }

  /** Creates this node's stream and group if missing (reading from the start, so nothing sent before is lost). */
  async ensureGroup(): Promise<void> {
    try {
      await this.d.cmd.xgroup('CREATE', this.stream, this.d.names.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
  }

  /** Entries never handed to any consumer; blocks up to `readBlockMs`. */
  async readNew(): Promise<StreamEntry[]> {
    const { o, names } = this.d;
    const res = await this.d.block.xreadgroupBuffer('GROUP', names.group, this.d.consumer, 'COUNT', o.readBatch,
      'BLOCK', o.readBlockMs, 'STREAMS', this.stream, '>') as [Buffer, RawEntries][] | null;
    return res === null ? [] : res.flatMap(([, entries]) => toEntries(entries));
  }

  /** Takes over entries pending on any consumer for longer than `claimIdleMs` (it crashed or lost its XACK). */
  async claimIdle(): Promise<StreamEntry[]> {
    const { o, names } = this.d;
    const out: StreamEntry[] = [];
    let cursor = '0-0';
    do {
      const [next, entries] = await (this.d.cmd as unknown as XAutoClaimBuffer).xautoclaimBuffer(this.stream, names.group,
        this.d.consumer, o.claimIdleMs, cursor, 'COUNT', o.readBatch);
      out.push(...toEntries(entries));
      cursor = next.toString();
    } while (cursor !== '0-0' && out.length < o.readBatch);
    this.d.stats.durableClaimed += out.length;
    return out;
  }

  /**
   * Deletes consumers left by earlier instances (every start is a new consumer) once they hold no pending
   * entry and have been idle for 10 claim idle times; a consumer with pending entries is never deleted,
   * since that would drop its entries from the group.
   */
  async pruneConsumers(): Promise<number> {
    const { o, names } = this.d;
    const rows = await this.d.cmd.xinfo('CONSUMERS', this.stream, names.group) as unknown[][];
    let pruned = 0;
    for (const row of rows) {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < row.length; i += 2) f.set(String(row[i]), row[i + 1]);
      const name = String(f.get('name'));
      if (name === this.d.consumer || Number(f.get('pending')) !== 0 || Number(f.get('idle')) < 10 * o.claimIdleMs) continue;
      await this.d.cmd.xgroup('DELCONSUMER', this.stream, names.group, name);
      pruned++;
    }
    return pruned;
  }

  /**
   * Hands entries to the node. Returns the ids to acknowledge: all of them, since an entry that fails its
   * MAC or does not decode will never get better and is dropped (and counted).
   */
  deliver(entries: StreamEntry[]): string[] {
    const { stats, sealer, o } = this.d;
    for (const e of entries) {
      if (e.frame === undefined) continue;
      const f = sealer.open(this.stream, e.frame);
      if (typeof f === 'string' || f.kind !== FrameKind.Envelopes) { stats.authFailures++; stats.macFailures++; continue; }
      let envs: Envelope[];
      try { envs = decodeFrame(f.payload, o.limits); } catch { stats.decodeErrors++; continue; }
      for (const env of envs) {
        env.dedup = true;
        stats.durableReceived++;
        stats.envelopesReceived++;
        this.d.deliver(env);
      }
    }
    return entries.map((e) => e.id);
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.d.cmd.xack(this.stream, this.d.names.group, ...ids);
    } catch {
      // Still pending: claimed again after claimIdleMs and deduplicated by the receiver.
      this.d.stats.durableAckFailures += ids.length;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextClaimAt = this.d.o.clock.now() + this.d.o.claimIntervalMs;
    this.loop = this.run();
  }

  /** Stops the loop; the caller disconnects the blocking connection so that a pending read returns. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleepTimer?.cancel();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const now = this.d.o.clock.now();
        if (now >= this.nextClaimAt) {
          this.nextClaimAt = now + this.d.o.claimIntervalMs;
          await this.ack(this.deliver(await this.claimIdle()));
          await this.pruneConsumers().catch(() => 0); // housekeeping only: a failure must not stall reading
        }
        if (!this.running) break;
        await this.ack(this.deliver(await this.readNew()));
      } catch (err) {
        if (!this.running) break;
        // NOGROUP: Redis restarted without persistence and lost the stream; recreate it and go on.
        if (/NOGROUP/.test((err as Error).message)) { await this.ensureGroup().catch(() => this.sleep(this.d.o.reconnectMaxMs)); continue; }
        const n = ++this.d.stats.durableReadErrors;
        if ((n & (n - 1)) === 0) this.d.log.warn('reading the durable stream failed; retrying', { stream: this.stream, error: (err as Error).message, count: n });
        await this.sleep(this.d.o.reconnectMaxMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.d.o.clock.setTimeout(resolve, ms);
    });
  }
}

function toEntries(entries: RawEntries | null): StreamEntry[] {
  if (entries === null) return [];
  return entries.map(([id, fields]) => {
    let frame: Buffer | undefined;
    for (let i = 0; fields !== null && i + 1 < fields.length; i += 2) if (fields[i]!.toString() === 'f') frame = fields[i + 1];
    return { id: id.toString(), frame };
  });
}
