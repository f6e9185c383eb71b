import type { StoreContext } from '../context.js';
import { compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { InvalidParameterError } from '../../../../src/errors.js';
import { SYSTEM, ownershipCondition, resolveCaller, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, accountOwner, getOwned, ownerFields, type OwnedRow, type OwnerColumns } from './common.js';

export type EventLevel = 'INFO' | 'WARN' | 'ERROR';
export type EventState = 'Created' | 'Scheduled' | 'Started' | 'Completed';

/** listEvents' `event` object. */
export interface Event {
  id: string;
  username?: string;
  type: string;
  level: EventLevel;
  description: string;
  account: string;
  domainid: string;
  domain: string;
  created: string;
  state: EventState;
  parentid?: string;
  resourceid?: string;
  resourcetype?: string;
}

/** Which events archiveEvents / deleteEvents act on: by id, by type, or all up to a time (ms). */
export interface EventSelection {
  ids?: string[];
  type?: string;
  sentBefore?: number;
}

/** An event to write, by internal owner keys (used inside other commands' transactions). */
export interface EventRecord {
  type: string;
  description: string;
  accountId: number;
  domainId: number;
  userId?: number | undefined;
  level?: EventLevel;
  state?: EventState;
  resourceType?: string;
  resourceUuid?: string;
  parentUuid?: string;
}

/** An event a component writes through the protocol (e.g. VM.REBOOT from the orchestrator). */
export interface CreateEventInput {
  type: string;
  description: string;
  /** Owner account; default the caller's account (SYSTEM must name one). */
  accountid?: string;
  level?: EventLevel;
  state?: EventState;
  resourcetype?: string;
  resourceid?: string;
  parentid?: string;
}

interface EventRow extends OwnedRow, OwnerColumns {
  uuid: string;
  type: string;
  level: EventLevel;
  state: EventState;
  description: string;
  created: number;
  username: string | null;
  resource_type: string | null;
  resource_uuid: string | null;
  parent_uuid: string | null;
}

const SPEC: ListSpec<EventRow, Event> = {
  table: 'event',
  columns: `${OWNER_COLUMNS}, t.uuid, t.type, t.level, t.state, t.description, t.created, u.username,
    t.resource_type, t.resource_uuid, t.parent_uuid`,
  joins: `${OWNER_JOINS} LEFT JOIN app_user u ON u.id = t.user_id`,
  scope: 'owned',
  where: 't.archived = 0',
  filters: {
    type: { eq: 'type' },
    level: { eq: 'level' },
    resourceid: { eq: 'resource_uuid', exact: true },
    startid: { custom: (v, ctx) => ({ sql: 't.id >= ?', args: [ctx.idOf('event', String(v)) ?? 0] }) },
  },
  keyword: ['type', 'description'],
  map: (r) => compact<Event>({
    id: r.uuid, username: r.username, type: r.type, level: r.level, description: r.description,
    ...ownerFields(r), created: formatDate(r.created), state: r.state, parentid: r.parent_uuid,
    resourceid: r.resource_uuid, resourcetype: r.resource_type,
  }),
};

export class EventRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** Writes one event; call inside the transaction of the change it describes. */
  record(e: EventRecord): void {
    this.ctx.run(`INSERT INTO event (uuid, type, level, state, description, account_id, domain_id, user_id,
      resource_type, resource_uuid, parent_uuid, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    this.ctx.uuid(), e.type, e.level ?? 'INFO', e.state ?? 'Completed', e.description, e.accountId, e.domainId,
    e.userId ?? null, e.resourceType ?? null, e.resourceUuid ?? null, e.parentUuid ?? null, this.ctx.now());
  }

  /** Writes an event on behalf of a caller or component. */
  create(scope: Scope, input: CreateEventInput): void {
    this.ctx.tx(() => {
      let owner: { accountId: number; domainId: number };
      let userId: number | undefined;
      if (input.accountid !== undefined) owner = accountOwner(this.ctx, input.accountid);
      else if (scope === SYSTEM) owner = accountOwner(this.ctx, this.systemAccountUuid());
      else {
        const rc = resolveCaller(this.ctx, scope);
        owner = { accountId: rc.accountId, domainId: rc.domainId };
        userId = rc.userId;
      }
      this.record({
        type: input.type, description: input.description, ...owner, userId,
        ...(input.level !== undefined ? { level: input.level } : {}),
        ...(input.state !== undefined ? { state: input.state } : {}),
        ...(input.resourcetype !== undefined ? { resourceType: input.resourcetype } : {}),
        ...(input.resourceid !== undefined ? { resourceUuid: input.resourceid } : {}),
        ...(input.parentid !== undefined ? { parentUuid: input.parentid } : {}),
      });
    });
  }

  get(scope: Scope, uuid: string): Event {
    return getOwned(this.ctx, SPEC, scope, 'event', uuid, '1').item;
  }

  /** archiveEvents: hides the selected events (of those the caller may list) from listEvents. */
  archive(scope: Scope, sel: EventSelection): number {
    return this.ctx.tx(() => {
      const w = this.selection(scope, sel);
      return this.ctx.run(`UPDATE event SET archived = 1 WHERE archived = 0 AND ${w.sql}`, ...w.args).changes;
    });
  }

  /** deleteEvents: removes the selected events (of those the caller may list). */
  delete(scope: Scope, sel: EventSelection): number {
    return this.ctx.tx(() => {
      const w = this.selection(scope, sel);
      return this.ctx.run(`DELETE FROM event WHERE ${w.sql}`, ...w.args).changes;
    });
  }

  private selection(scope: Scope, sel: EventSelection): { sql: string; args: unknown[] } {
    const own = ownershipCondition(this.ctx, scope, { listall: true }, 'event');
    const parts: string[] = own.sql === '' ? [] : [`(${own.sql})`];
    const args: unknown[] = [...own.args];
    if (sel.ids !== undefined) {
      for (const id of sel.ids) {
        // One the caller may not see is reported as one that does not exist.
        const visible = this.ctx.one(`SELECT 1 FROM event WHERE uuid = ?${own.sql === '' ? '' : ` AND (${own.sql})`}`, id, ...own.args);
        if (visible === undefined) throw new InvalidParameterError(`Unable to find event with id ${id}`);
      }
      parts.push('uuid IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(sel.ids));
    }
    if (sel.type !== undefined) { parts.push('type = ? COLLATE NOCASE'); args.push(sel.type); }
    if (sel.sentBefore !== undefined) { parts.push('created <= ?'); args.push(sel.sentBefore); }
    if (sel.ids === undefined && sel.type === undefined && sel.sentBefore === undefined) {
      throw new InvalidParameterError('either ids, type or enddate must be specified');
    }
    return { sql: parts.join(' AND '), args };
  }

  list(scope: Scope, params: ListParams = {}): ListResult<Event> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<Event> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  private systemAccountUuid(): string {
    const row = this.ctx.one<{ uuid: string }>("SELECT uuid FROM account WHERE name = 'system' ORDER BY id LIMIT 1");
    if (row === undefined) throw new Error('the system account is missing: the store was not bootstrapped');
    return row.uuid;
  }
}
