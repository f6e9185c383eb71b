import { SimulatedClock, type Clock } from '../../src/clock.js';
import { createSeededRandom } from '../../src/random.js';
import type { GossipConfig } from '../../src/gossip/config.js';
import { Membership, type PeerRef } from '../../src/gossip/membership.js';
import type { MembershipEvent } from '../../src/gossip/member-table.js';
import {
  WIRE_VERSION, type Body, type GossipEnvelope, type MemberMeta, type MemberSnapshot, type Update,
} from '../../src/gossip/messages.js';

/**
 * A hand-driven node for state-machine unit tests: a Membership on a SimulatedClock whose outgoing
 * messages are recorded instead of delivered, and whose input is crafted envelopes.
 */
export interface Sent { to: PeerRef; env: GossipEnvelope }

export interface TestNode {
  m: Membership;
  clock: SimulatedClock;
  sent: Sent[];
  events: MembershipEvent[];
  /** Feeds an envelope from `from` carrying `body` and `updates`. */
  receive(from: string, body: Body, updates?: Update[], cluster?: string): void;
  /** Messages sent to `node` with a body of type `t`. */
  sentTo(node: string, t?: Body['t']): Sent[];
  clear(): void;
  /** With `stallable`: holds every timer for `ms`, then runs the overdue ones (a stalled event loop). */
  stall?: (ms: number) => void;
}

export const CLUSTER = 'test-cluster';

export function meta(id: string, extra: Partial<MemberMeta> = {}): MemberMeta {
  return { roles: [], addresses: [`sim://${id}`], services: [], load: {}, ...extra };
}

export function snap(id: string, inc = 0, epoch = 1, status: MemberSnapshot['status'] = 'alive'): MemberSnapshot {
  return { node: id, epoch, inc, status, meta: meta(id) };
}

export function envelope(from: string, body: Body, updates: Update[] = [], cluster = CLUSTER): GossipEnvelope {
  return { v: WIRE_VERSION, cluster, from, body, updates };
}

/** A clock whose timers can be held back, as a stalled event loop holds them. */
function stallableClock(clock: SimulatedClock): { clock: Clock; stall: (ms: number) => void } {
  let held: (() => void)[] | null = null;
  const wrap = (fn: () => void) => (): void => { if (held !== null) held.push(fn); else fn(); };
  return {
    clock: {
      now: () => clock.now(),
      setTimeout: (fn, ms) => clock.setTimeout(wrap(fn), ms),
      setInterval: (fn, ms) => clock.setInterval(wrap(fn), ms),
    },
    stall: (ms) => {
      held = [];
      clock.advance(ms);
      const overdue = held;
      held = null;
      for (const fn of overdue) fn();
    },
  };
}

/** A node "a" that already knows `peers` (all alive at epoch 1, incarnation 0). Not started. */
export function makeNode(peers: string[], config: Partial<GossipConfig> = {}, id = 'a', epoch = 1, stallable = false): TestNode {
  const clock = new SimulatedClock(0);
  const st = stallable ? stallableClock(clock) : null;
  const sent: Sent[] = [];
  const events: MembershipEvent[] = [];
  const m = new Membership({
    self: { id, epoch, meta: meta(id) }, clock: st?.clock ?? clock, random: createSeededRandom(42),
    config: { cluster: CLUSTER, ...config }, send: (to, env) => sent.push({ to, env }),
    initialMembers: peers.map((p) => snap(p)),
  });
  m.onChange((e) => events.push(e));
  return {
    m, clock, sent, events,
    receive: (from, body, updates = [], cluster = CLUSTER) => m.handle(from, envelope(from, body, updates, cluster)),
    sentTo: (node, t) => sent.filter((s) => s.to.node === node && (t === undefined || s.env.body.t === t)),
    clear: () => { sent.length = 0; events.length = 0; },
    ...(st === null ? {} : { stall: st.stall }),
  };
}
