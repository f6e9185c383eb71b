import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { bool, compact } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { getOwned, type OwnedRow } from './common.js';
import type { ResourceTag, TagRepository } from './tags.js';

/** CloudStack's IntervalType, whose ordinal listSnapshotPolicies answers as `intervaltype`. */
export const INTERVAL_TYPES = ['HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY'] as const;
export type IntervalType = (typeof INTERVAL_TYPES)[number];

/** Most scheduled snapshots a policy may keep: CloudStack's `snapshot.max.hourly` etc. default to 8; this is the hard cap. */
export const MAX_SNAPS_LIMIT = 1000;

/** listSnapshotPolicies' `snapshotpolicy` object. */
export interface SnapshotPolicy {
  id: string;
  volumeid: string;
  schedule: string;
  intervaltype: number;
  maxsnaps: number;
  timezone: string;
  fordisplay: boolean;
  tags: ResourceTag[];
}

export interface SnapshotPolicyInput {
  volumeid: string;
  intervaltype: string;
  schedule: string;
  maxsnaps: number;
  timezone: string;
  fordisplay?: boolean;
}

interface Row extends OwnedRow {
  uuid: string;
  v_uuid: string;
  schedule: string;
  interval_type: IntervalType;
  max_snaps: number;
  timezone: string;
  display: number;
}

const BASE_SPEC: Omit<ListSpec<Row, SnapshotPolicy>, 'attach'> = {
  table: 'snapshot_policy',
  columns: 't.id AS _id, t.account_id AS _aid, t.domain_id AS _did, t.uuid, v.uuid AS v_uuid, t.schedule, t.interval_type, ' +
    't.max_snaps, t.timezone, t.display',
  joins: 'JOIN volume v ON v.id = t.volume_id',
  scope: 'owned',
  filters: { volumeid: { ref: 'volume', column: 'volume_id' }, fordisplay: { bool: 'display' } },
  map: (r) => compact<SnapshotPolicy>({ id: r.uuid, volumeid: r.v_uuid, schedule: r.schedule,
    intervaltype: INTERVAL_TYPES.indexOf(r.interval_type), maxsnaps: r.max_snaps, timezone: r.timezone, fordisplay: bool(r.display),
    tags: [] }),
};

/** Parses the interval type as CloudStack does (case-insensitive name). */
export function intervalType(s: string): IntervalType {
  const t = s.toUpperCase();
  if (!(INTERVAL_TYPES as readonly string[]).includes(t)) {
    throw new InvalidParameterError(`Unsupported interval type ${s}; use one of ${INTERVAL_TYPES.join(', ')}`);
  }
  return t as IntervalType;
}

const RANGES: Readonly<Record<IntervalType, readonly [number, number][]>> = {
  HOURLY: [[0, 59]],
  DAILY: [[0, 59], [0, 23]],
  WEEKLY: [[0, 59], [0, 23], [1, 7]],
  MONTHLY: [[0, 59], [0, 23], [1, 28]],
};

/** CloudStack's schedule formats: HOURLY `MM`, DAILY `MM:HH`, WEEKLY `MM:HH:DD` (1-7), MONTHLY `MM:HH:DD` (1-28). */
export function checkSchedule(type: IntervalType, schedule: string): void {
  const parts = schedule.split(':');
  const ranges = RANGES[type];
  const ok = parts.length === ranges.length && parts.every((p, i) => {
    const n = /^\d{1,2}$/.test(p) ? Number(p) : NaN;
    const [lo, hi] = ranges[i]!;
    return n >= lo && n <= hi;
  });
  if (!ok) {
    const format = { HOURLY: 'MM', DAILY: 'MM:HH', WEEKLY: 'MM:HH:DD (day of week 1-7)', MONTHLY: 'MM:HH:DD (day of month 1-28)' }[type];
    throw new InvalidParameterError(`Invalid schedule ${schedule} for interval type ${type}: expected ${format}`);
  }
}

function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new InvalidParameterError(`Invalid timezone ${tz}: use an IANA zone such as UTC or Europe/Zurich`);
  }
}

/**
 * Recurring snapshot policies: one per (volume, interval type); creating one for an interval the
 * volume already has updates it, as CloudStack's createSnapshotPolicy does.
 */
export class SnapshotPolicyRepository {
  private readonly spec: ListSpec<Row, SnapshotPolicy>;

  constructor(private readonly ctx: StoreContext, tags: TagRepository) {
    this.spec = { ...BASE_SPEC, attach: (_c, rows, items) => tags.attach('SnapshotPolicy', rows.map((r) => r._id), items) };
  }

  get(scope: Scope, uuid: string): SnapshotPolicy {
    return getOwned(this.ctx, this.spec, scope, 'snapshot policy', uuid, '1').item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<SnapshotPolicy> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<SnapshotPolicy> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  create(scope: Scope, input: SnapshotPolicyInput): SnapshotPolicy {
    const type = intervalType(input.intervaltype);
    checkSchedule(type, input.schedule);
    checkTimezone(input.timezone);
    checkMaxSnaps(input.maxsnaps);
    return this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; account_id: number; domain_id: number; state: string; vm_state: string | null }>(
        `SELECT v.id, v.account_id, v.domain_id, v.state, vm.state AS vm_state FROM volume v LEFT JOIN vm_instance vm ON vm.id = v.vm_id
         WHERE v.uuid = ? AND v.removed IS NULL`, input.volumeid);
      assertVisible(this.ctx, scope, 'volume', input.volumeid, vol);
      if (vol!.state !== 'Ready' && vol!.state !== 'Allocated') {
        throw new InvalidParameterError(`volume ${input.volumeid} is ${vol!.state}: snapshot policies apply to Ready volumes`);
      }
      const existing = this.ctx.one<{ uuid: string }>('SELECT uuid FROM snapshot_policy WHERE volume_id = ? AND interval_type = ?', vol!.id, type);
      if (existing !== undefined) {
        this.ctx.run(`UPDATE snapshot_policy SET schedule = ?, timezone = ?, max_snaps = ?, display = COALESCE(?, display)
          WHERE uuid = ?`, input.schedule, input.timezone, input.maxsnaps, optBool(input.fordisplay) ?? null, existing.uuid);
        return this.get(SYSTEM, existing.uuid);
      }
      const uuid = this.ctx.uuid();
      this.ctx.run(`INSERT INTO snapshot_policy (uuid, volume_id, account_id, domain_id, interval_type, schedule, timezone, max_snaps,
        display, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid, vol!.id, vol!.account_id, vol!.domain_id, type, input.schedule,
      input.timezone, input.maxsnaps, optBool(input.fordisplay) ?? 1, this.ctx.now());
      return this.get(SYSTEM, uuid);
    });
  }

  /** updateSnapshotPolicy: display flag (CloudStack's only updatable field besides custom id). */
  update(scope: Scope, uuid: string, patch: { fordisplay?: boolean }): SnapshotPolicy {
    return this.ctx.tx(() => {
      const p = getOwned(this.ctx, this.spec, scope, 'snapshot policy', uuid, '1');
      if (patch.fordisplay !== undefined) this.ctx.run('UPDATE snapshot_policy SET display = ? WHERE id = ?', patch.fordisplay ? 1 : 0, p.row._id);
      return this.get(SYSTEM, uuid);
    });
  }

  /** deleteSnapshotPolicies: all named policies or none (an unknown or foreign one fails the whole call). */
  delete(scope: Scope, uuids: readonly string[]): void {
    if (uuids.length === 0) throw new InvalidParameterError('Either id or ids parameter must be specified');
    this.ctx.tx(() => {
      for (const uuid of uuids) {
        const p = getOwned(this.ctx, this.spec, scope, 'snapshot policy', uuid, '1');
        this.ctx.run('DELETE FROM snapshot_policy WHERE id = ?', p.row._id);
      }
    });
  }

  /** Removes a volume's policies (the volume is expunged). @internal store transactions only. */
  purgeVolume(volumeId: number): void {
    this.ctx.run('DELETE FROM snapshot_policy WHERE volume_id = ?', volumeId);
  }
}

function checkMaxSnaps(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SNAPS_LIMIT) {
    throw new InvalidParameterError(`maxsnaps must be between 1 and ${MAX_SNAPS_LIMIT}, got ${n}`);
  }
}

function optBool(v: boolean | undefined): number | undefined {
  return v === undefined ? undefined : v ? 1 : 0;
}
