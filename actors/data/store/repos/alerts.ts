import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { compact, formatDate } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM } from '../scoping.js';

/** CloudStack's AlertManager.AlertType numbers and names of the alerts raised here. */
export const ALERT_TYPES = {
  host: { type: 7, name: 'ALERT.HOST' },
} as const;

/** listAlerts' `alert` object. */
export interface Alert {
  id: string;
  type: number;
  name: string;
  description: string;
  sent: string;
}

interface AlertRow {
  uuid: string;
  type: number;
  name: string;
  subject: string;
  created: number;
}

const SPEC: ListSpec<AlertRow, Alert> = {
  table: 'alert',
  columns: 't.uuid, t.type, t.name, t.subject, t.created',
  scope: 'none',
  where: 't.archived = 0',
  filters: { type: { eq: 'type' }, name: { eq: 'name' } },
  keyword: ['subject'],
  // Newest first, as CloudStack lists alerts (the dashboard shows the latest few).
  order: ['(-t.id)'],
  map: (r) => compact<Alert>({ id: r.uuid, type: r.type, name: r.name, description: r.subject, sent: formatDate(r.created) }),
};

/** Which alerts archiveAlerts / deleteAlerts act on: by id, by type, or all sent up to a time (ms). */
export interface AlertSelection {
  ids?: string[];
  type?: number;
  sentBefore?: number;
}

export class AlertRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** Raises an alert about a host; call inside the transaction of the change it reports. */
  recordHost(hostId: number, subject: string): void {
    const h = this.ctx.one<{ zone_id: number; pod_id: number | null; cluster_id: number | null }>(
      'SELECT zone_id, pod_id, cluster_id FROM host WHERE id = ?', hostId);
    this.ctx.run(`INSERT INTO alert (uuid, type, name, subject, zone_id, pod_id, cluster_id, created)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, this.ctx.uuid(), ALERT_TYPES.host.type, ALERT_TYPES.host.name, subject,
    h?.zone_id ?? null, h?.pod_id ?? null, h?.cluster_id ?? null, this.ctx.now());
  }

  list(params: ListParams = {}): ListResult<Alert> {
    return listResources(this.ctx, SPEC, SYSTEM, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(params: ListParams, window: ScanWindow = {}): ScanChunk<Alert> {
    return scanResources(this.ctx, SPEC, SYSTEM, params, window);
  }

  /** archiveAlerts: hides the selected alerts from listAlerts. Returns how many were archived. */
  archive(sel: AlertSelection): number {
    const w = this.where(sel);
    return this.ctx.tx(() => this.ctx.run(`UPDATE alert SET archived = 1 WHERE archived = 0 AND ${w.sql}`, ...w.args).changes);
  }

  /** deleteAlerts: removes the selected alerts. Returns how many were deleted. */
  delete(sel: AlertSelection): number {
    const w = this.where(sel);
    return this.ctx.tx(() => this.ctx.run(`DELETE FROM alert WHERE ${w.sql}`, ...w.args).changes);
  }

  private where(sel: AlertSelection): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    if (sel.ids !== undefined) {
      for (const id of sel.ids) {
        if (this.ctx.idOf('alert', id) === undefined) throw new InvalidParameterError(`Unable to find alert with id ${id}`);
      }
      parts.push('uuid IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(sel.ids));
    }
    if (sel.type !== undefined) { parts.push('type = ?'); args.push(sel.type); }
    if (sel.sentBefore !== undefined) { parts.push('created <= ?'); args.push(sel.sentBefore); }
    // CloudStack refuses to act on every alert at once: one of ids, type or a date is needed.
    if (parts.length === 0) throw new InvalidParameterError('either ids, type, startdate or enddate must be specified');
    return { sql: parts.join(' AND '), args };
  }
}
