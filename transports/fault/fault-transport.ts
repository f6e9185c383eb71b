import type { Envelope } from '../../src/envelope.js';
import type { Transport, TransportHandlers, TransportStats } from '../../src/transport.js';
import type { FaultInjector } from './fault-injector.js';

/**
 * Wraps any transport and applies the injector's faults to what this node sends: loss, duplication,
 * delay, reordering and partitions. Receiving is untouched, so a one-way partition is just a blocked
 * sending direction.
 */
export class FaultTransport implements Transport {
  readonly kind: string;
  private readonly held = new Map<string, Envelope>();

  constructor(private readonly inner: Transport, private readonly faults: FaultInjector) {
    this.kind = `fault(${inner.kind})`;
  }

  get nodeId(): string {
    return this.inner.nodeId;
  }

  start(handlers: TransportHandlers): Promise<void> {
    return this.inner.start(handlers);
  }

  stop(): Promise<void> {
    this.held.clear();
    return this.inner.stop();
  }

  send(nodeId: string, env: Envelope): void {
    const d = this.faults.decide(this.nodeId, nodeId);
    if (d.drop) return;
    if (d.hold && !this.held.has(nodeId)) {
      this.held.set(nodeId, env);
      return;
    }
    const deliver = (): void => {
      for (let i = 0; i < d.copies; i++) this.inner.send(nodeId, env);
      const late = this.held.get(nodeId);
      if (late !== undefined) { this.held.delete(nodeId); this.inner.send(nodeId, late); }
    };
    if (d.delayMs === 0) { deliver(); return; }
    this.faults.clock.setTimeout(() => {
      try { deliver(); } catch { /* a delayed envelope whose peer left meanwhile is lost, as on a real network */ }
    }, d.delayMs);
  }

  broadcast(env: Envelope): void {
    for (const id of this.inner.peers()) {
      try { this.send(id, { ...env, toNode: id }); } catch { /* unreachable peers are skipped */ }
    }
  }

  peers(): string[] {
    return this.inner.peers();
  }

  address(): string | undefined {
    return this.inner.address();
  }

  learnAddress(nodeId: string, address: string): void {
    this.inner.learnAddress?.(nodeId, address);
  }

  dial(address: string): Promise<string> {
    if (!this.inner.dial) return Promise.reject(new Error(`${this.inner.kind} transport cannot dial addresses`));
    return this.inner.dial(address);
  }

  stats(): TransportStats {
    return { ...this.inner.stats(), ...this.faults.counters };
  }
}
