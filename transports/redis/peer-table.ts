/**
 * Who is up, as seen through Redis. Pub/sub has no connections to watch, so peers announce themselves
 * with heartbeats on the broadcast channel; a peer is up from its first heartbeat until it says it is
 * leaving, falls silent for the peer timeout, or is found unsubscribed. A heartbeat from a new instance
 * of a known node id that started later (the process restarted) counts as the old one going down and
 * the new one coming up; an older instance still talking (a process dying slowly) is ignored, so the two
 * cannot make the peer flap.
 *
 * Peers that went down are remembered (bounded) so that sends to them fail at once with PeerDownError
 * instead of being published into the void.
 */
export type HeardResult = 'new' | 'restarted' | 'known' | 'ignored';

interface PeerState {
  instance: string;
  startedAt: number;
  lastSeen: number;
}

export class PeerTable {
  private readonly up = new Map<string, PeerState>();
  private readonly down = new Map<string, string>();

  constructor(private readonly maxRemembered: number) {}

  /**
   * An authenticated frame from `node` running as `instance`. Heartbeats carry the instance's start time
   * (`startedAt`); other frames do not, and cannot replace the known instance of an up peer.
   */
  heard(node: string, instance: string, now: number, startedAt?: number): HeardResult {
    const p = this.up.get(node);
    if (p === undefined) {
      this.down.delete(node);
      this.up.set(node, { instance, startedAt: startedAt ?? 0, lastSeen: now });
      return 'new';
    }
    if (p.instance === instance) {
      p.lastSeen = now;
      if (startedAt !== undefined) p.startedAt = startedAt;
      return 'known';
    }
    if (startedAt === undefined || startedAt < p.startedAt) return 'ignored';
    p.instance = instance;
    p.startedAt = startedAt;
    p.lastSeen = now;
    return 'restarted';
  }

  /**
   * Marks `node` down; true when it was up (and `instance`, if given, is its current incarnation). A node
   * never seen up is remembered as down too (a PUBLISH to it reached nobody), until it announces itself.
   */
  markDown(node: string, reason: string, instance?: string): boolean {
    const p = this.up.get(node);
    if (p !== undefined && instance !== undefined && p.instance !== instance) return false;
    this.up.delete(node);
    this.down.delete(node);
    this.down.set(node, reason);
    while (this.down.size > this.maxRemembered) this.down.delete(this.down.keys().next().value!);
    return p !== undefined;
  }

  isUp(node: string): boolean {
    return this.up.has(node);
  }

  instanceOf(node: string): string | undefined {
    return this.up.get(node)?.instance;
  }

  /** Why `node` is known to be down, or undefined when it is up or was never seen. */
  downReason(node: string): string | undefined {
    return this.down.get(node);
  }

  ids(): string[] {
    return [...this.up.keys()];
  }

  /** Up peers not heard from for more than `ms`. */
  silentFor(ms: number, now: number): string[] {
    const out: string[] = [];
    for (const [id, p] of this.up) if (now - p.lastSeen > ms) out.push(id);
    return out;
  }
}

/**
 * Counts what pub/sub lost. Each sender instance numbers the units (envelopes) it publishes per channel;
 * a jump in the numbers means frames were dropped on the way (Redis restarted, or it cut off our
 * subscriber for being slow) and is counted instead of being hidden. A number at or below the last one
 * seen is a replayed frame.
 */
export class SequenceTracker {
  private readonly next = new Map<string, number>();

  constructor(private readonly maxTracked: number) {}

  /** Returns the units lost before this frame (0 when none), or -1 for a replay to drop. */
  check(instance: string, channel: string, seq: number, units: number): number {
    const key = `${instance}|${channel}`;
    const expected = this.next.get(key);
    if (expected !== undefined && seq < expected) return -1;
    this.next.delete(key);
    this.next.set(key, seq + units);
    while (this.next.size > this.maxTracked) this.next.delete(this.next.keys().next().value!);
    return expected === undefined ? 0 : seq - expected;
  }

  /** Forgets a sender instance that left. */
  forget(instance: string): void {
    for (const key of this.next.keys()) if (key.startsWith(`${instance}|`)) this.next.delete(key);
  }
}
