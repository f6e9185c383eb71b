/**
 * Auto-scaling of stateless components on the load their instances advertise (gossip load figures:
 * cpu, mailbox, asks — see bin/load-report.ts). The rule is Kubernetes' HPA rule:
 *   desired = ceil(current × metric / target), nothing when metric/target is within the tolerance;
 * a scale-up happens at once, by at most `maxStep`; a scale-down only to the highest recommendation
 * seen over the stabilization window; min and max always hold; and at most one change per cooldown,
 * so load that oscillates faster than the cooldown cannot make the count flap.
 */
import type { Clock } from '../../src/clock.js';
import type { ComponentService, ScalingPolicy } from '../data/protocol.js';
import type { LauncherReport } from '../launcher/protocol.js';

export const POLICY_DEFAULTS = Object.freeze({ tolerance: 0.1, maxStep: 2, stabilizationMs: 300_000, cooldownMs: 60_000 });

/** A load figure an instance advertises (undefined when it has not reported it). */
export interface AutoscaleSignals {
  figure(instance: string, metric: string): number | undefined;
}

export interface ScaleChange {
  name: string;
  from: number;
  desired: number;
  why: string;
}

interface History {
  recs: { at: number; value: number }[];
  lastChange: number;
}

/** Pure rule: the count the metric asks for, or `current` within the tolerance. */
export function recommend(current: number, metric: number, target: number, tolerance: number): number {
  const ratio = metric / target;
  if (Math.abs(ratio - 1) <= tolerance) return current;
  return Math.ceil(current * ratio);
}

export class Autoscaler {
  private readonly history = new Map<string, History>();

  constructor(private readonly signals: AutoscaleSignals, private readonly clock: Clock) {}

  /** The changes to make now; each component at most one, within its bounds. */
  decide(specs: readonly ComponentService[], reports: readonly LauncherReport[], now = this.clock.now()): ScaleChange[] {
    const out: ScaleChange[] = [];
    for (const s of specs) {
      if (s.policy === undefined || s.fixed || s.state !== 'Enabled') { this.history.delete(s.name); continue; }
      const change = this.decideOne(s, s.policy, reports, now);
      if (change !== undefined) out.push(change);
    }
    return out;
  }

  private decideOne(s: ComponentService, p: ScalingPolicy, reports: readonly LauncherReport[], now: number): ScaleChange | undefined {
    const tolerance = p.tolerance ?? POLICY_DEFAULTS.tolerance;
    const maxStep = p.maxStep ?? POLICY_DEFAULTS.maxStep;
    const window = p.stabilizationMs ?? POLICY_DEFAULTS.stabilizationMs;
    const cooldown = p.cooldownMs ?? POLICY_DEFAULTS.cooldownMs;
    const mine = reports.flatMap((r) => r.instances).filter((i) => i.role === s.name);
    // Until every wanted instance runs, its figures would understate what the new ones take: wait.
    if (mine.some((i) => i.state === 'starting')) return undefined;
    const running = mine.filter((i) => i.state === 'running');
    const figures = running.map((i) => this.signals.figure(i.instance, p.metric)).filter((v): v is number => v !== undefined);
    if (figures.length === 0 || running.length !== s.desired) return undefined;
    const mean = figures.reduce((a, b) => a + b, 0) / figures.length;
    const rec = Math.min(s.max, Math.max(s.min, recommend(running.length, mean, p.target, tolerance)));
    const h = this.history.get(s.name) ?? { recs: [], lastChange: Number.NEGATIVE_INFINITY };
    this.history.set(s.name, h);
    h.recs.push({ at: now, value: rec });
    const windowStart = now - window;
    // Keep one record older than the window: it shows the whole window has been watched.
    while (h.recs.length > 1 && h.recs[1]!.at <= windowStart) h.recs.shift();
    if (now - h.lastChange < cooldown) return undefined;
    const why = `${p.metric} ${mean.toFixed(1)} per instance against a target of ${p.target}`;
    if (rec > s.desired) {
      const desired = Math.min(rec, s.desired + maxStep, s.max);
      h.lastChange = now;
      return { name: s.name, from: s.desired, desired, why };
    }
    if (rec < s.desired) {
      const watched = h.recs[0]!.at <= windowStart;
      if (!watched) return undefined;
      const highest = Math.max(...h.recs.filter((r) => r.at >= windowStart).map((r) => r.value), s.min);
      if (highest >= s.desired) return undefined;
      h.lastChange = now;
      return { name: s.name, from: s.desired, desired: highest, why: `${why}, low for ${window} ms` };
    }
    return undefined;
  }
}
