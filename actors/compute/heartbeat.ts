import type { Clock, TimerHandle } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { HeartbeatReport } from './protocol.js';

export interface HeartbeatOptions {
  /** Time between heartbeats, ms. CloudStack's ping.interval is 60 s; its simulator test configs use 10 s. */
  intervalMs: number;
  /**
   * Delay before the first heartbeat, ms. Default 0 (right after the agent starts). Spreading this
   * over [0, intervalMs) across many agents keeps their heartbeats from arriving in one burst.
   */
  initialDelayMs?: number;
  /** Delivers a report (e.g. a tell to the fabric monitor). Errors are logged and counted, never thrown. */
  send(report: HeartbeatReport): void | Promise<void>;
}

export interface HeartbeatStats {
  /** Reports handed to `send`. */
  sent: number;
  /** Beats whose ping failed (no report sent) or whose `send` threw. */
  failed: number;
  /** Beats skipped because the previous one was still in progress (a slow ping). */
  skipped: number;
}

/**
 * One agent's heartbeat: a single timer on the injected clock (a timeout for the first beat, then an
 * interval), never more than one beat in progress, and nothing sent after stop. `produce` builds the
 * report for a sequence number, or throws when the host does not answer its ping. It may be stopped
 * and started again (an agent respawned over the same host): the sequence goes on.
 */
export class Heartbeat {
  readonly stats: HeartbeatStats = { sent: 0, failed: 0, skipped: 0 };
  private timer: TimerHandle | undefined;
  private seq = 0;
  private busy = false;
  private stopped = true;
  private log: Logger = silentLogger;

  constructor(
    private readonly clock: Clock,
    private readonly options: HeartbeatOptions,
    private readonly produce: (seq: number) => Promise<HeartbeatReport>,
  ) {
    if (!(options.intervalMs > 0)) throw new ConfigError(`heartbeat.intervalMs must be a positive number of ms (got ${options.intervalMs})`);
    const first = options.initialDelayMs ?? 0;
    if (!(first >= 0)) throw new ConfigError(`heartbeat.initialDelayMs must be >= 0 ms (got ${first})`);
  }

  /** Starts the cadence (first beat after initialDelayMs). */
  start(log: Logger): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.log = log;
    this.timer = this.clock.setTimeout(() => {
      this.timer = this.clock.setInterval(() => this.beat(), this.options.intervalMs);
      this.beat();
    }, this.options.initialDelayMs ?? 0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One beat now (also used for on-demand reports). Skipped while another is in progress. */
  beat(): void {
    if (this.stopped) return;
    if (this.busy) { this.stats.skipped++; return; }
    this.busy = true;
    const seq = ++this.seq;
    void this.run(seq).finally(() => { this.busy = false; });
  }

  private async run(seq: number): Promise<void> {
    let report: HeartbeatReport;
    try {
      report = await this.produce(seq);
    } catch (err) {
      this.stats.failed++;
      this.log.debug('heartbeat not sent: the host did not answer its ping', { seq, error: (err as Error).message });
      return;
    }
    if (this.stopped) return;
    try {
      await this.options.send(report);
      this.stats.sent++;
    } catch (err) {
      this.stats.failed++;
      this.log.warn('heartbeat could not be delivered', { seq, error: (err as Error).message });
    }
  }
}
