import { DEFAULT_CODEC_LIMITS, encodeFrame, type CodecLimits } from './codec.js';
import { CONTROL_LANE, type Envelope } from './envelope.js';
import { FrameTooLargeError } from './errors.js';

export type FrameSink = (frame: Buffer, envelopes: number) => void;
export type Undeliverable = (env: Envelope, err: Error) => void;

/**
 * Per-peer batching shared by the transports: envelopes queued during one event-loop turn leave as
 * one frame, control-lane envelopes first. A batch over the frame limit is split; a single envelope
 * over the limit is refused through `undeliverable` (its ask fails at once, nothing else is affected).
 */
export class Outbox {
  private control: Envelope[] = [];
  private data: Envelope[] = [];
  private scheduled = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly undeliverable: Undeliverable,
    private readonly limits: CodecLimits = DEFAULT_CODEC_LIMITS,
    private readonly schedule: (fn: () => void) => void = setImmediate,
  ) {}

  get queued(): number {
    return this.control.length + this.data.length;
  }

  push(env: Envelope): void {
    if (env.lane === CONTROL_LANE) this.control.push(env);
    else this.data.push(env);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flush);
    }
  }

  /** Drops everything queued (peer gone); returns what was dropped. */
  drain(): Envelope[] {
    const all = this.control.concat(this.data);
    this.control = [];
    this.data = [];
    return all;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.control.length === 0 ? this.data : this.control.concat(this.data);
    this.control = [];
    this.data = [];
    if (batch.length > 0) this.send(batch);
  };

  private send(batch: Envelope[]): void {
    try {
      this.sink(encodeFrame(batch, this.limits), batch.length);
    } catch (err) {
      if (!(err instanceof FrameTooLargeError) || batch.length === 1) {
        for (const env of batch) this.undeliverable(env, err as Error);
        return;
      }
      const mid = batch.length >> 1;
      this.send(batch.slice(0, mid));
      this.send(batch.slice(mid));
    }
  }
}
