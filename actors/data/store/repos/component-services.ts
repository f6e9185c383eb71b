import { InvalidParameterError, NotFoundError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { formatDate } from '../format.js';

/** What an auto-scaled component is scaled on (see actors/service-framework/autoscale.ts). */
export interface ScalingPolicy {
  /** The load figure its instances advertise: `cpu` (percent of one core), `mailbox` (queued messages), `asks` (in flight). */
  metric: string;
  /** The figure per instance the scaler aims at. */
  target: number;
  /** Relative band around the target inside which nothing changes. Default 0.1. */
  tolerance?: number;
  /** Most instances one scale-up adds. Default 2. */
  maxStep?: number;
  /** How long the load must stay low before a scale-down, ms. Default 300,000. */
  stabilizationMs?: number;
  /** Least time between two changes, ms. Default 60,000. */
  cooldownMs?: number;
}

/** A component's desired deployment. */
export interface ComponentService {
  name: string;
  min: number;
  max: number;
  /** Instances wanted now (min..max): set by hand or by the scaler. */
  desired: number;
  /** A fixed count (singletons, data on SQLite): never scaled, min = max = desired. */
  fixed: boolean;
  /** Labels a launcher's node must have. */
  labels: string[];
  /** Spread instances over nodes (fewest of this component first). */
  spread: boolean;
  /** Extra arguments every instance gets. */
  args: string[];
  policy?: ScalingPolicy;
  /** Enabled, or Alert when it stopped restarting a crash-looping instance (`reason` says why). */
  state: 'Enabled' | 'Alert';
  reason?: string;
  updated: string;
}

export interface DefineComponentService {
  name: string;
  min: number;
  max: number;
  desired?: number;
  fixed?: boolean;
  labels?: string[];
  spread?: boolean;
  args?: string[];
  policy?: ScalingPolicy | null;
}

/** Most instances of one component: beyond this a deployment is a mistake, not a plan. */
export const MAX_INSTANCES = 1_000;

interface Row {
  name: string; min_instances: number; max_instances: number; desired: number; fixed: number; labels: string; spread: number;
  args: string; policy: string | null; state: string; reason: string | null; updated: number;
}

function toService(r: Row): ComponentService {
  return {
    name: r.name, min: r.min_instances, max: r.max_instances, desired: r.desired, fixed: r.fixed === 1,
    labels: JSON.parse(r.labels) as string[], spread: r.spread === 1, args: JSON.parse(r.args) as string[],
    ...(r.policy === null ? {} : { policy: JSON.parse(r.policy) as ScalingPolicy }),
    state: r.state as ComponentService['state'], ...(r.reason === null ? {} : { reason: r.reason }), updated: formatDate(r.updated),
  };
}

function checkPolicy(p: ScalingPolicy): void {
  if (!['cpu', 'mailbox', 'asks'].includes(p.metric)) throw new InvalidParameterError(`scaling metric must be cpu, mailbox or asks, got ${p.metric}`);
  if (!(p.target > 0)) throw new InvalidParameterError(`scaling target must be above 0, got ${p.target}`);
  if (p.tolerance !== undefined && !(p.tolerance >= 0 && p.tolerance < 1)) throw new InvalidParameterError('scaling tolerance must be in 0..1');
  for (const k of ['maxStep', 'stabilizationMs', 'cooldownMs'] as const) {
    const v = p[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= (k === 'maxStep' ? 1 : 0))) throw new InvalidParameterError(`scaling ${k} must be a whole number${k === 'maxStep' ? ' of at least 1' : ''}`);
  }
}

/**
 * The service framework's desired deployment, per component, and its alerts. Bounds are checked here,
 * in one place: min ≤ desired ≤ max, a fixed count never changes but by a new definition.
 */
export class ComponentServiceRepository {
  constructor(private readonly ctx: StoreContext) {}

  list(): ComponentService[] {
    // Bounded: one row per component of the table (a dozen).
    return this.ctx.all<Row>('SELECT * FROM component_service ORDER BY name').map(toService);
  }

  get(name: string): ComponentService {
    const r = this.ctx.one<Row>('SELECT * FROM component_service WHERE name = ?', name);
    if (r === undefined) throw new NotFoundError(`no component service ${name}: define it in the deployment spec first`);
    return toService(r);
  }

  /** Creates or replaces a component's deployment (from a spec). */
  define(d: DefineComponentService): ComponentService {
    const fixed = d.fixed === true;
    const desired = d.desired ?? d.min;
    this.checkCounts(d.name, d.min, d.max, desired, fixed);
    if (d.policy !== undefined && d.policy !== null) {
      if (fixed) throw new InvalidParameterError(`${d.name} has a fixed count and cannot have a scaling policy`);
      checkPolicy(d.policy);
    }
    this.ctx.run(`INSERT INTO component_service (name, min_instances, max_instances, desired, fixed, labels, spread, args, policy, state, reason, updated)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Enabled', NULL, ?) ON CONFLICT (name) DO UPDATE SET min_instances = excluded.min_instances,
      max_instances = excluded.max_instances, desired = excluded.desired, fixed = excluded.fixed, labels = excluded.labels,
      spread = excluded.spread, args = excluded.args, policy = excluded.policy, state = 'Enabled', reason = NULL, updated = excluded.updated`,
    d.name, d.min, d.max, desired, fixed ? 1 : 0, JSON.stringify(d.labels ?? []), d.spread === false ? 0 : 1, JSON.stringify(d.args ?? []),
    d.policy === undefined || d.policy === null ? null : JSON.stringify(d.policy), this.ctx.now());
    return this.get(d.name);
  }

  /** Changes bounds or policy (an operator); desired is moved inside the new bounds; an Alert is cleared. */
  update(name: string, patch: { min?: number; max?: number; policy?: ScalingPolicy | null }): ComponentService {
    return this.ctx.tx(() => {
      const cur = this.get(name);
      if (cur.fixed && (patch.min !== undefined || patch.max !== undefined || (patch.policy !== undefined && patch.policy !== null))) {
        throw new InvalidParameterError(`${name} has a fixed count of ${cur.desired} (a singleton, or data on SQLite): its bounds and policy cannot change`);
      }
      const min = patch.min ?? cur.min;
      const max = patch.max ?? cur.max;
      const desired = Math.min(max, Math.max(min, cur.desired));
      this.checkCounts(name, min, max, desired, false);
      if (patch.policy !== undefined && patch.policy !== null) checkPolicy(patch.policy);
      const policy = patch.policy === undefined ? (cur.policy === undefined ? null : JSON.stringify(cur.policy)) : patch.policy === null ? null : JSON.stringify(patch.policy);
      this.ctx.run(`UPDATE component_service SET min_instances = ?, max_instances = ?, desired = ?, policy = ?, state = 'Enabled', reason = NULL,
        updated = ? WHERE name = ?`, min, max, desired, policy, this.ctx.now(), name);
      return this.get(name);
    });
  }

  /** Sets the instances wanted; refused outside min..max and for a fixed count. */
  scale(name: string, desired: number): ComponentService {
    return this.ctx.tx(() => {
      const cur = this.get(name);
      if (cur.fixed && desired !== cur.desired) throw new InvalidParameterError(`${name} has a fixed count of ${cur.desired}: it cannot be scaled`);
      if (!Number.isInteger(desired) || desired < cur.min || desired > cur.max) {
        throw new InvalidParameterError(`${name} can run ${cur.min}..${cur.max} instances, not ${desired}: change min or max first`);
      }
      this.ctx.run('UPDATE component_service SET desired = ?, updated = ? WHERE name = ?', desired, this.ctx.now(), name);
      return this.get(name);
    });
  }

  /** Marks a component Alert (crash loop) or Enabled again. */
  setState(name: string, state: 'Enabled' | 'Alert', reason?: string): void {
    this.ctx.run('UPDATE component_service SET state = ?, reason = ?, updated = ? WHERE name = ?', state, reason ?? null, this.ctx.now(), name);
  }

  /** Raises an alert (listAlerts, beside the hosts' alerts). `type` is CloudStack's alert type number. */
  raiseAlert(a: { type: number; name: string; subject: string }): void {
    this.ctx.run('INSERT INTO alert (uuid, type, name, subject, created) VALUES (?, ?, ?, ?, ?)',
      this.ctx.uuid(), a.type, a.name.slice(0, 255), a.subject.slice(0, 1024), this.ctx.now());
  }

  private checkCounts(name: string, min: number, max: number, desired: number, fixed: boolean): void {
    const whole = (v: number) => Number.isInteger(v) && v >= 0 && v <= MAX_INSTANCES;
    if (!whole(min) || !whole(max) || !whole(desired)) throw new InvalidParameterError(`${name}: instance counts must be whole numbers 0..${MAX_INSTANCES}`);
    if (min > max) throw new InvalidParameterError(`${name}: min (${min}) is above max (${max})`);
    if (desired < min || desired > max) throw new InvalidParameterError(`${name}: desired (${desired}) is outside ${min}..${max}`);
    if (fixed && min !== max) throw new InvalidParameterError(`${name} has a fixed count: min and max must be equal`);
  }
}
