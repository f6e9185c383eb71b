/**
 * listManagementServers (CloudStack 4.20's ListMgmtsCmd): the live management processes of the cloud,
 * straight from the gossip registry — each member that runs any component but compute alone — with the
 * components each runs in `components` (a cloudstackd field). A process that dies drops out as soon as
 * the membership declares it dead.
 */
import { createHash } from 'node:crypto';
import type { ClusterMember } from '../../../src/component.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import { formatCloudStackDate } from '../dates.js';
import type { ResponseObject } from '../types.js';

/** What the command reads: the cluster's live members. */
export interface ClusterView {
  members(): ClusterMember[];
}

/** A stable UUID for a node name (name-based, in the form of an RFC 4122 version 5 id). */
export function managementServerId(node: string): string {
  const h = createHash('sha1').update(`cloudstackd-management-server:${node}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function serviceIp(addresses: readonly string[]): string | undefined {
  for (const a of addresses) {
    const m = /^(?:[a-z]+:\/\/)?\[?([0-9a-fA-F:.]+?)\]?:\d+$/.exec(a);
    if (m !== null) return m[1];
  }
  return undefined;
}

function describe(m: ClusterMember, version: string): ResponseObject {
  return {
    id: managementServerId(m.id), name: m.id, state: 'Up', version, serviceip: serviceIp(m.addresses),
    lastserverstart: formatCloudStackDate(new Date(m.startedAt)), components: [...m.roles].sort().join(','),
  };
}

export function managementServerCommands(cluster: ClusterView, version: string): HandledCommand[] {
  return [defineCommand({
    name: 'listManagementServers',
    description: 'Lists management servers.',
    isAsync: false,
    access: 'admin',
    objectName: 'managementserver',
    paged: true,
    since: '4.20.0',
    params: [
      { name: 'id', type: 'uuid', description: 'the id of the management server' },
      { name: 'name', type: 'string', description: 'the name of the management server' },
    ],
    response: [
      { name: 'id', description: 'the ID of the management server', type: 'string' },
      { name: 'name', description: 'the name of the management server', type: 'string' },
      { name: 'state', description: 'the state of the management server', type: 'state' },
      { name: 'version', description: 'the version of the management server', type: 'string' },
      { name: 'serviceip', description: 'the IP Address for this Management Server', type: 'string' },
      { name: 'lastserverstart', description: 'the last time this Management Server was started', type: 'date' },
      { name: 'components', description: 'the cloudstackd components this process runs (comma separated)', type: 'string' },
    ],
    async handler({ params, page }) {
      const id = getString(params, 'id');
      const name = getString(params, 'name');
      const all = cluster.members()
        .filter((m) => m.roles.some((r) => r !== 'compute'))
        .filter((m) => (id === undefined || managementServerId(m.id) === id) && (name === undefined || m.id.toLowerCase() === name.toLowerCase()))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      // An id that names no live management server is CloudStack's 431, as for every list id.
      if (id !== undefined && !cluster.members().some((m) => managementServerId(m.id) === id)) {
        throw unknownUuidError('listmanagementservers', 'id', id);
      }
      const start = page?.startIndex ?? 0;
      const items = page?.pageSize === undefined ? all.slice(start) : all.slice(start, start + page.pageSize);
      return { kind: 'list', count: all.length, items: items.map((m) => describe(m, version)) };
    },
  })];
}
