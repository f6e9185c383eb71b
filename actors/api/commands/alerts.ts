/**
 * Alerts (listAlerts, archiveAlerts, deleteAlerts): what needs an administrator's attention, raised by
 * the data service as it happens (a host gone Down or into Alert), with CloudStack's alert type numbers.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString } from '../params.js';
import type { Params } from '../types.js';
import { listParams, listed, type CommandDeps } from './common.js';

type Selection = Parameters<CommandDeps['data']['alerts']['archive']>[0];

function selection(params: Params): Selection {
  const sel: Selection = {};
  const ids = params['ids'];
  if (Array.isArray(ids)) sel.ids = [...(ids as readonly string[])];
  const type = getString(params, 'type');
  if (type !== undefined) {
    if (!/^\d+$/.test(type)) throw new InvalidParameterError(`type must be an alert type number, got ${type}`);
    sel.type = Number(type);
  }
  const end = params['enddate'];
  if (end instanceof Date) sel.sentBefore = end.getTime();
  return sel;
}

const SELECTION_PARAMS = [
  { name: 'ids', type: 'list', collectionType: 'uuid', description: 'the IDs of the alerts' },
  { name: 'type', type: 'string', description: 'the type of the alerts' },
  { name: 'enddate', type: 'date', description: 'end date range to act on alerts (including) this date' },
] as const;

export function alertCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'listAlerts',
      description: 'Lists all alerts.',
      isAsync: false,
      access: 'admin',
      objectName: 'alert',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'the ID of the alert' },
        { name: 'type', type: 'string', description: 'list by alert type' },
        { name: 'name', type: 'string', description: 'list by alert name' },
      ],
      response: [
        { name: 'id', description: 'the id of the alert', type: 'string' },
        { name: 'type', description: 'One of the following alert types: 7 = HOST ...', type: 'short' },
        { name: 'name', description: 'the name of the alert', type: 'string' },
        { name: 'description', description: 'description of the alert', type: 'string' },
        { name: 'sent', description: 'the date and time the alert was sent', type: 'date' },
      ],
      async handler(ctx) {
        const q = listParams(ctx, ['id', 'name']);
        const type = getString(ctx.params, 'type');
        if (type !== undefined) (q as Record<string, unknown>)['type'] = /^\d+$/.test(type) ? Number(type) : -1;
        return listed(ctx, q, { page: (p) => deps.data.alerts.list(p), scan: (p, w) => deps.data.alerts.scan(p, w) });
      },
    }),
    defineCommand({
      name: 'archiveAlerts', description: 'Archive one or more alerts.', isAsync: false, access: 'admin', params: [...SELECTION_PARAMS],
      async handler({ params }) {
        await deps.data.alerts.archive(selection(params));
        return { kind: 'success' };
      },
    }),
    defineCommand({
      name: 'deleteAlerts', description: 'Delete one or more alerts.', isAsync: false, access: 'admin', params: [...SELECTION_PARAMS],
      async handler({ params }) {
        await deps.data.alerts.delete(selection(params));
        return { kind: 'success' };
      },
    }),
  ];
}
