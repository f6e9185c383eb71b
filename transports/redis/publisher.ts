import type { Redis } from 'ioredis';

/** What became of one PUBLISH: the number of subscribers that got it, or why it failed. */
export type PublishDone = (result: number | Error) => void;

interface Queued {
  channel: string;
  frame: Buffer;
  done: PublishDone;
}

/**
 * One socket write per event-loop turn. Every Outbox of the transport schedules its flush here rather
 * than on a setImmediate of its own; the flushes of a turn run together and their PUBLISHes leave as one
 * pipeline. That is what ioredis auto-pipelining does, minus its extra setImmediate per batch, which
 * costs a request/reply round trip measurable latency on a busy machine.
 */
export class TurnPublisher {
  private flushes: (() => void)[] = [];
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private scheduled = false;

  /**
   * @param earlyWriteBytes once this much is queued, it is written at once instead of at the end of the
   * turn, so that the receiving process starts working while this one is still producing (two cores).
   */
  constructor(private readonly conn: () => Redis | undefined, private readonly earlyWriteBytes: number) {}

  /** The Outbox scheduler: `fn` runs in this turn's flush. */
  readonly schedule = (fn: () => void): void => {
    this.flushes.push(fn);
    this.arm();
  };

  /** Queues a PUBLISH for this turn's write. */
  publish(channel: string, frame: Buffer, done: PublishDone): void {
    this.queue.push({ channel, frame, done });
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= this.earlyWriteBytes) this.write();
    else this.arm();
  }

  /** Runs the scheduled flushes and writes what they queued (also called directly when stopping). */
  readonly flush = (): void => {
    this.scheduled = false;
    const flushes = this.flushes;
    this.flushes = [];
    for (const fn of flushes) fn();
    this.write();
  };

  private arm(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private write(): void {
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (batch.length === 0) return;
    const conn = this.conn();
    if (conn === undefined) {
      for (const q of batch) q.done(new Error('no connection to redis'));
      return;
    }
    const pipe = conn.pipeline();
    for (const q of batch) pipe.publish(q.channel, q.frame);
    pipe.exec().then((results) => {
      batch.forEach((q, i) => {
        const r = results?.[i];
        if (r === undefined) q.done(new Error('no reply from redis'));
        else q.done(r[0] ?? Number(r[1]));
      });
    }, (err: Error) => { for (const q of batch) q.done(err); });
  }
}
