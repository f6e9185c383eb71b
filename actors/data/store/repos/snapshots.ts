import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { SNAPSHOT_MACHINE, applyTransition, type SnapshotState } from '../state-machines.js';
import { OWNER_COLUMNS, OWNER_JOINS, actingUser, getOwned, ownerFields, type OwnedRow, type OwnerColumns } from './common.js';
import type { EventRepository } from './events.js';
import type { ResourceTag, TagRepository } from './tags.js';

/** listSnapshots' `snapshot` object. */
export interface Snapshot {
  id: string;
  name: string;
  volumeid: string;
  volumename: string;
  volumetype: string;
  snapshottype: string;
  intervaltype?: string;
  state: SnapshotState;
  created: string;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  zoneid: string;
  physicalsize?: number;
  virtualsize?: number;
  tags: ResourceTag[];
}

interface SnapshotRow extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  snapshot_type: string;
  interval_type: string | null;
  state: SnapshotState;
  physical_size: number | null;
  virtual_size: number | null;
  created: number;
  v_uuid: string;
  v_name: string;
  v_type: string;
  z_uuid: string;
}

export class SnapshotRepository {
  private readonly spec: ListSpec<SnapshotRow, Snapshot>;

  constructor(private readonly ctx: StoreContext, private readonly events: EventRepository, tags: TagRepository) {
    this.spec = {
      table: 'snapshot',
      columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.snapshot_type, t.interval_type, t.state, t.physical_size,
        t.virtual_size, t.created, v.uuid AS v_uuid, v.name AS v_name, v.volume_type AS v_type, z.uuid AS z_uuid`,
      joins: `${OWNER_JOINS} JOIN volume v ON v.id = t.volume_id JOIN zone z ON z.id = t.zone_id`,
      scope: 'owned',
      where: 't.removed IS NULL',
      filters: { volumeid: { ref: 'volume', column: 'volume_id' }, zoneid: { ref: 'zone', column: 'zone_id' },
        name: { eq: 'name' }, state: { eq: 'state' }, snapshottype: { eq: 'snapshot_type' },
        intervaltype: { eq: 'interval_type' } },
      keyword: ['name'],
      map: (r) => compact<Snapshot>({
        id: r.uuid, name: r.name, volumeid: r.v_uuid, volumename: r.v_name, volumetype: r.v_type,
        snapshottype: r.snapshot_type, intervaltype: r.interval_type, state: r.state, created: formatDate(r.created),
        ...ownerFields(r), zoneid: r.z_uuid, physicalsize: r.physical_size, virtualsize: r.virtual_size, tags: [],
      }),
      attach: (_ctx, rows, items) => tags.attach('Snapshot', rows.map((r) => r._id), items),
    };
  }

  get(scope: Scope, uuid: string): Snapshot {
    return getOwned(this.ctx, this.spec, scope, 'snapshot', uuid).item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Snapshot> {
    return listResources(this.ctx, this.spec, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Snapshot> {
    return scanResources(this.ctx, this.spec, scope, params, window);
  }

  /** createSnapshot's create phase: an Allocated snapshot of a volume the caller can see. */
  create(scope: Scope, input: { volumeid: string; name?: string; snapshottype?: string; intervaltype?: string }): Snapshot {
    return this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number; name: string;
        size: number; state: string }>(`SELECT id, account_id, domain_id, zone_id, name, size, state FROM volume
        WHERE uuid = ? AND removed IS NULL`, input.volumeid);
      assertVisible(this.ctx, scope, 'volume', input.volumeid, vol);
      if (vol!.state !== 'Ready') throw new InvalidParameterError(`volume ${input.volumeid} is ${vol!.state}, not Ready`);
      const uuid = this.ctx.uuid();
      const now = this.ctx.now();
      const name = input.name ?? `${vol!.name}_${formatDate(now).replace(/\D/g, '').slice(0, 14)}`;
      this.ctx.run(`INSERT INTO snapshot (uuid, name, volume_id, account_id, domain_id, zone_id, snapshot_type,
        interval_type, state, virtual_size, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Allocated', ?, ?)`, uuid, name,
      vol!.id, vol!.account_id, vol!.domain_id, vol!.zone_id, input.snapshottype ?? 'MANUAL', input.intervaltype ?? null,
      vol!.size, now);
      this.events.record({ type: 'SNAPSHOT.CREATE', description: `snapshot ${name} of volume ${vol!.name}`,
        accountId: vol!.account_id, domainId: vol!.domain_id, userId: actingUser(this.ctx, scope),
        resourceType: 'Snapshot', resourceUuid: uuid, state: 'Created' });
      return this.get(SYSTEM, uuid);
    });
  }

  /** Applies a Snapshot.State event; Destroyed removes the snapshot. */
  transition(scope: Scope, uuid: string, event: string, options: { expect?: SnapshotState; physicalsize?: number } = {}): Snapshot {
    return this.ctx.tx(() => {
      const snap = this.ctx.one<{ id: number; account_id: number; domain_id: number }>(
        'SELECT id, account_id, domain_id FROM snapshot WHERE uuid = ? AND removed IS NULL', uuid);
      assertVisible(this.ctx, scope, 'snapshot', uuid, snap);
      const set: Record<string, unknown> = {};
      if (options.physicalsize !== undefined) set.physical_size = options.physicalsize;
      const { to } = applyTransition(this.ctx, { machine: SNAPSHOT_MACHINE, table: 'snapshot', column: 'state',
        id: snap!.id, uuid, event, expect: options.expect, set });
      if (to === 'Destroyed') {
        this.ctx.run('UPDATE snapshot SET removed = ? WHERE id = ?', this.ctx.now(), snap!.id);
        this.events.record({ type: 'SNAPSHOT.DELETE', description: `deleted snapshot ${uuid}`, accountId: snap!.account_id,
          domainId: snap!.domain_id, userId: actingUser(this.ctx, scope), resourceType: 'Snapshot', resourceUuid: uuid });
      }
      return getOwned(this.ctx, this.spec, SYSTEM, 'snapshot', uuid, '1').item;
    });
  }
}
