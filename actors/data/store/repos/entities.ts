import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext, UuidTable } from '../context.js';

/** The tables `exists` may be asked about (the name is written into SQL, so only these). */
export const ENTITY_TABLES: ReadonlySet<UuidTable> = new Set<UuidTable>([
  'role', 'domain', 'account', 'app_user', 'zone', 'pod', 'cluster', 'host', 'storage_pool', 'image_store',
  'service_offering', 'disk_offering', 'network_offering', 'os_type', 'template', 'vm_instance', 'volume', 'snapshot',
  'ssh_keypair', 'network', 'nic', 'ip_range', 'ip_address', 'async_job', 'event', 'simulator_mock', 'resource_tag',
  'user_data', 'instance_group', 'affinity_group', 'snapshot_policy', 'network_rule', 'vm_snapshot', 'project', 'alert',
]);

/**
 * Whether a public id names any row, whoever owns it and removed or not: CloudStack's parameter layer
 * (ParamProcessWorker) resolves every UUID parameter this way and answers 431 when nothing has it,
 * before any access check — so a list asked for an unknown `id` is an error, not an empty list.
 */
export class EntityRepository {
  constructor(private readonly ctx: StoreContext) {}

  exists(table: UuidTable, uuid: string): boolean {
    if (!ENTITY_TABLES.has(table)) throw new InvalidParameterError(`unknown entity table ${JSON.stringify(table)}`);
    return this.ctx.idOf(table, uuid) !== undefined;
  }
}
