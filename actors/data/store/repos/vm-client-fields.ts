import type { StoreContext } from '../context.js';
import { idList } from '../list-query.js';
import type { AffinityGroupRepository } from './affinity-groups.js';

/** The fields of a VM that come from the client resources: its groups and its registered user data. */
export interface VmClientFields {
  groupid?: string;
  userdataid?: string;
  userdataname?: string;
  affinitygroup: unknown[];
}

/**
 * Fills a page of VMs' instance group id, registered user data and affinity groups (at most two
 * queries for the whole page, none per row). `linked`: the VMs among `ids` with a group name or user
 * data (the page's rows say which); only those are looked up again, most pages have none.
 */
export function attachClientFields(ctx: StoreContext, affinity: AffinityGroupRepository, ids: readonly number[],
  items: VmClientFields[], linked: readonly number[] = ids): void {
  const index = new Map(ids.map((id, i) => [id, i]));
  const rows = linked.length === 0 ? [] : ctx.all<{ id: number; g_uuid: string | null; ud_uuid: string | null; ud_name: string | null }>(`SELECT v.id,
    g.uuid AS g_uuid, ud.uuid AS ud_uuid, ud.name AS ud_name FROM vm_instance v
    LEFT JOIN instance_group g ON g.account_id = v.account_id AND g.name = v.group_name
    LEFT JOIN user_data ud ON ud.id = v.user_data_id
    WHERE v.id IN (SELECT value FROM json_each(?)) AND (g.id IS NOT NULL OR ud.id IS NOT NULL)`, idList(linked));
  for (const r of rows) {
    const item = items[index.get(r.id) ?? -1];
    if (item === undefined) continue;
    if (r.g_uuid !== null) item.groupid = r.g_uuid;
    if (r.ud_uuid !== null) item.userdataid = r.ud_uuid;
    if (r.ud_name !== null) item.userdataname = r.ud_name;
  }
  const groups = affinity.forVms(ids);
  ids.forEach((id, i) => {
    const item = items[i];
    const g = groups.get(id);
    if (item !== undefined && g !== undefined) item.affinitygroup = g;
  });
}
