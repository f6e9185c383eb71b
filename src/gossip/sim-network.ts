import type { SimulatedClock } from '../clock.js';
import { InvalidParameterError } from '../errors.js';
import type { Random } from '../random.js';
import type { GossipEnvelope } from './messages.js';
import type { PeerRef } from './membership.js';

/**
 * The simulator's network: every message is delayed (uniform in [delay.min, delay.max] ms, so
 * messages may be reordered), may be lost (a probability), both with defaults overridable per
 * directed link, and is dropped when a partition rule blocks its direction. All draws come from one
 * seeded source.
 */
export interface SimNetworkOptions {
  /** One-way delay range in ms (default 1–5 ms, a LAN under load). */
  delay?: { min: number; max: number };
  /** Probability that any message is lost (default 0). */
  loss?: number;
}

export interface SimNetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  blocked: number;
  undeliverable: number;
}

interface Endpoint { readonly id: string }

export interface SimNetworkHooks<N extends Endpoint> {
  resolve(to: PeerRef): N | undefined;
  /** Returns false when the destination process is gone. */
  deliver(node: N, from: string, env: GossipEnvelope): boolean;
}

interface Block { from: ReadonlySet<string>; to: ReadonlySet<string> }

function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw new InvalidParameterError(`${what} must be a probability in [0, 1], got ${p}`);
}

export class SimNetwork<N extends Endpoint = Endpoint> {
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, lost: 0, blocked: 0, undeliverable: 0 };
  private loss: number;
  private delayMin: number;
  private delaySpan: number;
  private readonly linkLoss = new Map<string, number>();
  private readonly linkDelay = new Map<string, { min: number; span: number }>();
  private blocks: Block[] = [];

  constructor(private readonly clock: SimulatedClock, private readonly rng: Random, o: SimNetworkOptions,
    private readonly hooks: SimNetworkHooks<N>) {
    this.loss = o.loss ?? 0;
    checkProbability(this.loss, 'loss');
    this.delayMin = o.delay?.min ?? 1;
    this.delaySpan = (o.delay?.max ?? 5) - this.delayMin;
    if (!(this.delayMin >= 0 && this.delaySpan >= 0)) throw new InvalidParameterError('delay needs 0 ≤ min ≤ max');
  }

  /** Sets the default loss probability for every link. */
  setLoss(p: number): void {
    checkProbability(p, 'loss');
    this.loss = p;
  }

  /** Sets the loss probability of the directed link from → to (null: back to the default). */
  setLinkLoss(from: string, to: string, p: number | null): void {
    if (p === null) { this.linkLoss.delete(`${from}>${to}`); return; }
    checkProbability(p, 'link loss');
    this.linkLoss.set(`${from}>${to}`, p);
  }

  setDelay(min: number, max: number): void {
    if (!(min >= 0 && max >= min)) throw new InvalidParameterError('delay needs 0 ≤ min ≤ max');
    this.delayMin = min;
    this.delaySpan = max - min;
  }

  /** Sets the delay range of the directed link from → to (null: back to the default). */
  setLinkDelay(from: string, to: string, delay: { min: number; max: number } | null): void {
    if (delay === null) { this.linkDelay.delete(`${from}>${to}`); return; }
    if (!(delay.min >= 0 && delay.max >= delay.min)) throw new InvalidParameterError('delay needs 0 ≤ min ≤ max');
    this.linkDelay.set(`${from}>${to}`, { min: delay.min, span: delay.max - delay.min });
  }

  /** Blocks traffic from `a` to `b`, and from `b` to `a` unless oneWay. Returns the function that heals it. */
  partition(a: readonly string[], b: readonly string[], opts: { oneWay?: boolean } = {}): () => void {
    const sa = new Set(a);
    const sb = new Set(b);
    const added: Block[] = [{ from: sa, to: sb }];
    if (opts.oneWay !== true) added.push({ from: sb, to: sa });
    this.blocks.push(...added);
    return () => { this.blocks = this.blocks.filter((x) => !added.includes(x)); };
  }

  /** Removes every partition. */
  healAll(): void {
    this.blocks = [];
  }

  send(from: string, to: PeerRef, env: GossipEnvelope): void {
    this.stats.sent++;
    const dst = this.hooks.resolve(to);
    if (dst === undefined) { this.stats.undeliverable++; return; }
    for (const b of this.blocks) {
      if (b.from.has(from) && b.to.has(dst.id)) { this.stats.blocked++; return; }
    }
    const key = this.linkLoss.size + this.linkDelay.size > 0 ? `${from}>${dst.id}` : '';
    const p = this.linkLoss.get(key) ?? this.loss;
    if (p > 0 && this.rng.next() < p) { this.stats.lost++; return; }
    const link = this.linkDelay.get(key);
    const delay = link === undefined ? this.delayMin + this.rng.next() * this.delaySpan : link.min + this.rng.next() * link.span;
    this.clock.setTimeout(() => {
      if (this.hooks.deliver(dst, from, env)) this.stats.delivered++;
      else this.stats.undeliverable++;
    }, delay);
  }
}
