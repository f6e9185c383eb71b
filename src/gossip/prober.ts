import type { Clock, TimerHandle } from '../clock.js';
import { shuffle, type Random } from '../random.js';
import type { Awareness } from './awareness.js';
import type { GossipConfig } from './config.js';
import { isLive, type MemberRecord } from './member-state.js';
import type { MemberTable } from './member-table.js';
import type { Body, NodeId, PingReqBody, Update } from './messages.js';

/**
 * SWIM failure detection (memberlist's probeNode): each period, ping the next member of a shuffled
 * round-robin list; without an ack within the probe timeout, ask indirectChecks live members to ping
 * it too (they nack when they cannot reach it); without any ack by the end of the period, suspect it.
 *
 * Lifeguard: missing nacks mean this node is the slow one, so they raise its local-health score
 * (which stretches its probe period and timeouts); a success lowers it. Probing a member that is
 * already suspect carries the suspicion along (buddy rule) so that it can refute at once.
 *
 * Stall guard: a probe timer that fires more than stallThreshold late means this node was stalled
 * with the answer possibly waiting unread; the round is dropped without accusing anyone.
 */
export type ProbeKind = 'regular' | 'verify' | 'hint';
export type ProbeOutcome = 'ack' | 'fail' | 'stalled';

export interface ProberContext {
  cfg: GossipConfig;
  clock: Clock;
  random: Random;
  awareness: Awareness;
  table: MemberTable;
  /** Sends `body` to a member, carrying `extra` updates first; `addr` is used when the member is unknown. */
  sendTo(id: NodeId, body: Body, extra?: readonly Update[], addr?: readonly string[]): void;
}

export interface ProberStats {
  probes: number;
  probeFailures: number;
  indirectRequests: number;
  stalledRounds: number;
  relayed: number;
  nacksSent: number;
  relaysRefused: number;
}

interface Round {
  readonly seq: number;
  readonly target: NodeId;
  readonly kind: ProbeKind;
  nacks: number;
  expectedNacks: number;
  readonly timers: TimerHandle[];
  /** `missingNacks`: helpers that neither acked nor nacked (evidence that this node's own network is bad). */
  readonly done: (outcome: ProbeOutcome, missingNacks: number) => void;
}

interface Relay {
  readonly requester: NodeId;
  readonly seq: number;
}

export class Prober {
  readonly stats: ProberStats = {
    probes: 0, probeFailures: 0, indirectRequests: 0, stalledRounds: 0, relayed: 0, nacksSent: 0, relaysRefused: 0,
  };
  private list: NodeId[] = [];
  private index = 0;
  private readonly rounds = new Map<number, Round>();
  private readonly relays = new Map<number, Relay>();
  private readonly relayTimers = new Map<number, TimerHandle>();
  private readonly lastHint = new Map<NodeId, number>();
  private seq = 0;
  private tickTimer: TimerHandle | null = null;
  private running = false;

  constructor(private readonly ctx: ProberContext) {}

  /** Starts probing after a random fraction of a period, so nodes started together do not probe in step. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tickTimer = this.ctx.clock.setTimeout(() => this.tick(), this.ctx.random.int(this.ctx.cfg.probeInterval));
  }

  /** Stops own probes; relays for others are still answered until stopAll(). */
  stop(): void {
    this.running = false;
    this.tickTimer?.cancel();
    this.tickTimer = null;
    for (const r of this.rounds.values()) for (const t of r.timers) t.cancel();
    this.rounds.clear();
  }

  stopAll(): void {
    this.stop();
    for (const t of this.relayTimers.values()) t.cancel();
    this.relayTimers.clear();
    this.relays.clear();
  }

  /** A member became live: insert it at a random place of the round-robin list (memberlist does the same). */
  added(id: NodeId): void {
    const at = this.ctx.random.int(this.list.length + 1);
    this.list.splice(at, 0, id);
  }

  /**
   * Probes `rec` once more before it is declared dead. A stalled round counts as reachable
   * (inconclusive). A failed round in which helpers' nacks went missing is repeated, up to
   * verifyRetries times: the loss may be on this node's side, and one unlucky round must not kill.
   */
  verify(rec: MemberRecord, done: (reachable: boolean) => void, retries = this.ctx.cfg.verifyRetries): void {
    if (!this.running) { done(true); return; }
    this.startRound(rec, 'verify', (o, missing) => {
      if (o === 'fail' && missing > 0 && retries > 0 && isLive(rec.status)) this.verify(rec, done, retries - 1);
      else done(o !== 'fail');
    });
  }

  /** The transport lost its connection to `id`: probe it now rather than at its turn (at most once per period). */
  hint(id: NodeId): void {
    const rec = this.ctx.table.get(id);
    if (!this.running || rec === undefined || rec === this.ctx.table.self || !isLive(rec.status)) return;
    const now = this.ctx.clock.now();
    if (now - (this.lastHint.get(id) ?? -Infinity) < this.ctx.cfg.probeInterval) return;
    this.lastHint.set(id, now);
    this.startRound(rec, 'hint', this.concluder(rec));
  }

  onAck(seq: number): void {
    const round = this.rounds.get(seq);
    if (round !== undefined) { this.finish(round, 'ack'); return; }
    const relay = this.relays.get(seq);
    if (relay === undefined) return;
    this.dropRelay(seq);
    this.ctx.sendTo(relay.requester, { t: 'ack', seq: relay.seq });
  }

  onNack(seq: number): void {
    const round = this.rounds.get(seq);
    if (round !== undefined) round.nacks++;
  }

  /** Probes `req.target` for `requester` and reports back: ack on success, nack on timeout if asked. */
  relay(requester: NodeId, req: PingReqBody): void {
    if (this.relays.size + this.rounds.size >= this.ctx.cfg.maxPendingProbes) { this.stats.relaysRefused++; return; }
    const seq = ++this.seq;
    this.stats.relayed++;
    this.relays.set(seq, { requester, seq: req.seq });
    this.ctx.sendTo(req.target, { t: 'ping', seq, target: req.target, epoch: req.epoch }, [], req.addr);
    this.relayTimers.set(seq, this.ctx.clock.setTimeout(() => {
      this.dropRelay(seq);
      if (!req.nack) return;
      this.stats.nacksSent++;
      this.ctx.sendTo(requester, { t: 'nack', seq: req.seq });
    }, this.ctx.cfg.probeTimeout));
  }

  private dropRelay(seq: number): void {
    this.relays.delete(seq);
    this.relayTimers.get(seq)?.cancel();
    this.relayTimers.delete(seq);
  }

  private tick(): void {
    if (!this.running) return;
    const { cfg, clock, awareness } = this.ctx;
    this.tickTimer = clock.setTimeout(() => this.tick(), awareness.scale(cfg.probeInterval));
    const rec = this.nextTarget();
    if (rec !== null) this.startRound(rec, 'regular', this.concluder(rec));
  }

  /** On failure, suspects the version that was probed (ignored if the member refuted meanwhile). */
  private concluder(rec: MemberRecord): (o: ProbeOutcome) => void {
    const { id, epoch, inc } = rec;
    return (outcome) => {
      if (outcome !== 'fail') return;
      this.stats.probeFailures++;
      const table = this.ctx.table;
      table.suspectFromProbe(id, epoch, inc);
      // Tell the accused directly (the buddy rule, without waiting for the next probe): gossip would
      // reach that one member only after several rounds, and a refutation delayed that long is what
      // turns a lost packet followed by a short pause into a death.
      const cur = table.get(id);
      if (cur?.status === 'suspect' && cur.epoch === epoch) {
        this.ctx.sendTo(id, { t: 'gossip' }, [{ t: 'suspect', node: id, epoch, inc: cur.inc, from: table.self.id }]);
      }
    };
  }

  private nextTarget(): MemberRecord | null {
    const table = this.ctx.table;
    for (let checked = 0; checked <= this.list.length + 1; checked++) {
      if (this.index >= this.list.length) {
        this.list = shuffle([...table.liveIds()], this.ctx.random);
        this.index = 0;
        if (this.list.length === 0) return null;
      }
      const rec = table.get(this.list[this.index++]!);
      if (rec !== undefined && rec !== table.self && isLive(rec.status)) return rec;
    }
    return null;
  }

  private startRound(rec: MemberRecord, kind: ProbeKind, done: Round['done']): void {
    const { cfg, clock, awareness, table } = this.ctx;
    if (this.rounds.size >= cfg.maxPendingProbes) return;
    const seq = ++this.seq;
    const round: Round = { seq, target: rec.id, kind, nacks: 0, expectedNacks: 0, timers: [], done };
    this.rounds.set(seq, round);
    this.stats.probes++;
    const buddy: Update[] = rec.status === 'suspect'
      ? [{ t: 'suspect', node: rec.id, epoch: rec.epoch, inc: rec.inc, from: table.self.id }]
      : [];
    this.ctx.sendTo(rec.id, { t: 'ping', seq, target: rec.id, epoch: rec.epoch }, buddy);
    const timeout = awareness.scale(cfg.probeTimeout);
    const period = awareness.scale(cfg.probeInterval);
    const t0 = clock.now();
    round.timers.push(clock.setTimeout(() => this.indirect(round, rec, t0 + timeout), timeout));
    round.timers.push(clock.setTimeout(() => this.deadline(round, t0 + period), period));
  }

  private late(due: number): boolean {
    return this.ctx.clock.now() - due > this.ctx.cfg.stallThreshold;
  }

  private indirect(round: Round, rec: MemberRecord, due: number): void {
    if (!this.rounds.has(round.seq)) return;
    if (this.late(due)) { this.finish(round, 'stalled'); return; }
    const { cfg, table } = this.ctx;
    const exclude = new Set([rec.id]);
    const helpers = table.randomLive(cfg.indirectChecks + 2, exclude)
      .filter((id) => table.get(id)?.status === 'alive')
      .slice(0, cfg.indirectChecks);
    const body: PingReqBody = {
      t: 'ping-req', seq: round.seq, target: rec.id, epoch: rec.epoch, addr: rec.meta.addresses, nack: true,
    };
    for (const h of helpers) this.ctx.sendTo(h, body);
    this.stats.indirectRequests += helpers.length;
    round.expectedNacks = helpers.length;
  }

  private deadline(round: Round, due: number): void {
    if (!this.rounds.has(round.seq)) return;
    this.finish(round, this.late(due) ? 'stalled' : 'fail');
  }

  private finish(round: Round, outcome: ProbeOutcome): void {
    this.rounds.delete(round.seq);
    for (const t of round.timers) t.cancel();
    const aw = this.ctx.awareness;
    const missing = Math.max(0, round.expectedNacks - round.nacks);
    if (outcome === 'ack') aw.applyDelta(-1);
    else if (outcome === 'stalled') { this.stats.stalledRounds++; aw.applyDelta(1); }
    else aw.applyDelta(round.expectedNacks > 0 ? missing : 1);
    round.done(outcome, missing);
  }
}
