/**
 * CloudStack's parameter layer resolves the `id` of a list command to its entity before the command
 * runs, and answers 431 when no entity has that id (removed ones included, whoever owns them). An id
 * that exists but that the caller may not see still gives an empty list. This wraps the list
 * commands so that they answer the same way.
 */
import type { DataApi } from '../../data/protocol.js';
import type { HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';

type UuidTable = Parameters<DataApi['entities']['exists']>[0];

/** The table behind the `id` of each list command. */
export const LIST_ID_TABLES: Readonly<Record<string, UuidTable>> = {
  listZones: 'zone', listPods: 'pod', listClusters: 'cluster', listHosts: 'host', listStoragePools: 'storage_pool',
  listImageStores: 'image_store', listServiceOfferings: 'service_offering', listDiskOfferings: 'disk_offering',
  listNetworkOfferings: 'network_offering', listOsTypes: 'os_type', listTemplates: 'template', listIsos: 'template',
  listVirtualMachines: 'vm_instance', listVolumes: 'volume', listSnapshots: 'snapshot', listNetworks: 'network',
  listPublicIpAddresses: 'ip_address', listEvents: 'event', listAccounts: 'account', listUsers: 'app_user',
  listDomains: 'domain', listSSHKeyPairs: 'ssh_keypair', listUserData: 'user_data', listInstanceGroups: 'instance_group',
  listAffinityGroups: 'affinity_group', listSnapshotPolicies: 'snapshot_policy', listFirewallRules: 'network_rule',
  listPortForwardingRules: 'network_rule', listLoadBalancerRules: 'network_rule', listEgressFirewallRules: 'network_rule',
  listIpForwardingRules: 'network_rule', listProjects: 'project', listVMSnapshot: 'vm_snapshot',
  listVirtualMachinesMetrics: 'vm_instance', listVolumesMetrics: 'volume', listZonesMetrics: 'zone', listHostsMetrics: 'host',
  listClustersMetrics: 'cluster', listStoragePoolsMetrics: 'storage_pool', listAlerts: 'alert',
};

function messageName(def: HandledCommand): string {
  return def.responseName.endsWith('response') ? def.responseName.slice(0, -'response'.length) : def.responseName;
}

/** The commands, with those of LIST_ID_TABLES (that take a uuid `id`) checking it first. */
export function checkListIds(commands: readonly HandledCommand[], data: DataApi): HandledCommand[] {
  return commands.map((def) => {
    const table = LIST_ID_TABLES[def.name];
    if (table === undefined || !def.params.some((p) => p.name === 'id' && p.type === 'uuid')) return def;
    return Object.freeze({
      ...def,
      async invoke(ctx: Parameters<HandledCommand['invoke']>[0]) {
        const id = getString(ctx.params, 'id');
        if (id !== undefined && !(await data.entities.exists(table, id))) throw unknownUuidError(messageName(def), 'id', id);
        return def.invoke(ctx);
      },
    });
  });
}
