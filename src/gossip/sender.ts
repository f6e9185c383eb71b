import type { BroadcastQueue } from './broadcast-queue.js';
import { retransmitLimit, type GossipConfig } from './config.js';
import { updateSize } from './member-state.js';
import type { MemberTable } from './member-table.js';
import { WIRE_VERSION, type Body, type GossipEnvelope, type NodeId, type Update } from './messages.js';

/** Where a message goes: a member id (null for a seed known only by address) and its advertised addresses. */
export interface PeerRef {
  readonly node: NodeId | null;
  /** May be empty when the member is not known yet: reply over the connection the request came on. */
  readonly addresses: readonly string[];
}

export type SendFn = (to: PeerRef, envelope: GossipEnvelope) => void;

export interface TrafficCounters {
  sent: number;
  received: number;
  sentByType: Record<string, number>;
  droppedInvalid: number;
  droppedForeignCluster: number;
  droppedSpoofed: number;
  sendErrors: number;
}

/**
 * The outgoing side: wraps a body in an envelope, piggybacks queued updates on it (SWIM's
 * dissemination rides on probe traffic) and hands it to the injected send function.
 */
export class Sender {
  readonly counters: TrafficCounters = {
    sent: 0, received: 0, sentByType: {}, droppedInvalid: 0, droppedForeignCluster: 0, droppedSpoofed: 0, sendErrors: 0,
  };
  stopped = false;

  constructor(private readonly cfg: GossipConfig, private readonly queue: BroadcastQueue,
    private readonly table: MemberTable, private readonly sendFn: SendFn) {}

  /** Sends to a member, addressed by id with its advertised addresses (or `addr` when it is unknown). */
  toMember(id: NodeId, body: Body, extra: readonly Update[] = [], addr?: readonly string[], piggyback = true): void {
    const rec = this.table.get(id);
    const addresses = rec !== undefined && rec.meta.addresses.length > 0 ? rec.meta.addresses : (addr ?? []);
    this.send({ node: id, addresses }, body, extra, piggyback);
  }

  /** Sends `body` with `extra` updates first, then queued ones within the piggyback budget. */
  send(to: PeerRef, body: Body, extra: readonly Update[] = [], piggyback = true): void {
    if (this.stopped) return;
    const cfg = this.cfg;
    let updates: readonly Update[] = extra;
    if (piggyback) {
      let budget = cfg.maxPiggybackBytes;
      for (const u of extra) budget -= updateSize(u);
      const more = this.queue.take(budget, cfg.maxUpdatesPerMessage - extra.length, retransmitLimit(cfg, this.table.liveCount()));
      if (more.length > 0) updates = extra.length === 0 ? more : [...extra, ...more];
    }
    if (body.t === 'gossip' && updates.length === 0) return;
    const env: GossipEnvelope = { v: WIRE_VERSION, cluster: cfg.cluster, from: this.table.self.id, body, updates };
    this.counters.sent++;
    this.counters.sentByType[body.t] = (this.counters.sentByType[body.t] ?? 0) + 1;
    try {
      this.sendFn(to, env);
    } catch {
      // A transport that cannot reach the peer right now is just a lost message to SWIM.
      this.counters.sendErrors++;
    }
  }
}
