import type { Clock, TimerHandle } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';

export interface IsolationOptions {
  clock: Clock;
  log: Logger;
  /** Other members this node currently sees alive (gossip). */
  liveOthers(): number;
  /** Fences every host this node runs (powers their VMs off). */
  fence(reason: string): Promise<void>;
  /** How long the node must see nobody before it fences itself, ms (ComputeNodeTimings.isolationFenceMs). */
  isolationFenceMs: number;
  /** How often it looks, ms. */
  checkIntervalMs: number;
}

/**
 * The isolation response of a compute node (as vSphere HA's "power off" response, or a watchdog): a
 * node that has been part of a cluster and then sees no other live member for isolationFenceMs fences
 * its own hosts. The management side counts an unreachable host whose node gossip declared dead as
 * fenced only after fenceWaitMs (> isolationFenceMs), so a VM restarted elsewhere cannot still be
 * running on an isolated node. A node that still sees other members (a partition that cut off only
 * the management node, or a management node that died) keeps its VMs running. The price: a compute
 * node that is alone with the management node fences itself when the management node is down for
 * longer than isolationFenceMs.
 *
 * A process that was stalled (SIGSTOP, a paused VM) longer than isolationFenceMs fences at its first
 * look after waking: its gossip view is stale, and it may have been declared dead meanwhile.
 */
export class IsolationWatcher {
  private timer: TimerHandle | undefined;
  private armed = false;
  private since: number | undefined;
  private fenced = false;
  private lastCheck: number | undefined;

  constructor(private readonly o: IsolationOptions) {}

  start(): void {
    this.timer ??= this.o.clock.setInterval(() => this.check(), this.o.checkIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One look (the timer calls it; tests may too). */
  check(): void {
    const now = this.o.clock.now();
    const last = this.lastCheck;
    this.lastCheck = now;
    if (last !== undefined && now - last > this.o.isolationFenceMs && !this.fenced) {
      // This process was stalled (SIGSTOP, a paused VM, swap) for longer than the isolation delay: the
      // others may have declared it dead and restarted its VMs, and its gossip view is stale. Fence first.
      this.fenced = true;
      this.o.log.warn('this process was stalled; fencing this node\'s hosts', { stalledMs: now - last });
      this.o.fence(`stalled for ${now - last} ms: VMs may have been restarted elsewhere`).catch((err: unknown) => {
        this.o.log.error('stall fence failed', { error: (err as Error).message });
        this.fenced = false;
      });
      return;
    }
    if (this.o.liveOthers() > 0) {
      // Only a node that has been part of a cluster can be cut off from it; seeing others re-arms it.
      this.armed = true;
      this.since = undefined;
      this.fenced = false;
      return;
    }
    if (!this.armed || this.fenced) return;
    this.since ??= now;
    if (now - this.since < this.o.isolationFenceMs) return;
    this.fenced = true;
    this.o.log.warn('isolated: no other member seen; fencing this node\'s hosts', { forMs: now - this.since });
    this.o.fence(`isolated: no other cluster member seen for ${now - this.since} ms`).catch((err: unknown) => {
      this.o.log.error('isolation fence failed', { error: (err as Error).message });
      this.fenced = false;
    });
  }
}
