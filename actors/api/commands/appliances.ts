/**
 * System VMs and virtual routers: cloudstackd runs neither (its network element applies rules on the
 * hosts, and it needs no console proxy or secondary storage VM), so their lists are empty — truthfully —
 * and an id names nothing (CloudStack's 431). The UI's dashboard counts both whatever listApis says; they
 * stay out of listApis, so that the UI shows no System VMs or Virtual Routers page.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { ParamDef } from '../types.js';
import { OWNER_LIST_PARAMS } from './common.js';

function noneList(name: string, description: string, objectName: string, params: readonly ParamDef[]): HandledCommand {
  return defineCommand({
    name, description, isAsync: false, access: 'admin', objectName, paged: true, params, listed: false,
    async handler({ params: p }) {
      const id = getString(p, 'id');
      if (id !== undefined) throw unknownUuidError(name.toLowerCase(), 'id', id);
      return { kind: 'list', count: 0, items: [] };
    },
  });
}

export function applianceCommands(): HandledCommand[] {
  const placement: ParamDef[] = [
    { name: 'id', type: 'uuid', description: 'the ID of the system VM / router' },
    { name: 'name', type: 'string', description: 'the name of the system VM / router' },
    { name: 'zoneid', type: 'uuid', description: 'the Zone ID' },
    { name: 'podid', type: 'uuid', description: 'the Pod ID' },
    { name: 'hostid', type: 'uuid', description: 'the host ID' },
    { name: 'state', type: 'string', description: 'the state' },
  ];
  return [
    noneList('listSystemVms', 'List system virtual machines.', 'systemvm', [...placement,
      { name: 'systemvmtype', type: 'string', description: 'the system VM type. Possible types are "consoleproxy" and "secondarystoragevm".' },
      { name: 'storageid', type: 'uuid', description: 'the storage ID where vm\'s volumes belong to' }]),
    noneList('listRouters', 'List routers.', 'router', [...placement,
      { name: 'networkid', type: 'uuid', description: 'list by network id' },
      { name: 'vpcid', type: 'uuid', description: 'List networks by VPC' },
      ...OWNER_LIST_PARAMS.filter((p) => !placement.some((q) => q.name === p.name))]),
  ];
}
