/**
 * Features cloudstackd does not have, whose list commands the UI calls on pages it shows anyway (the
 * deploy wizard and the network forms ask for VPCs and network service providers). They are served —
 * an empty list, since none can exist, and CloudStack's 431 for any id — but left out of listApis, so
 * that the UI leaves the features' own pages out.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { ParamDef } from '../types.js';
import { OWNER_LIST_PARAMS } from './common.js';

function unlistedNone(name: string, description: string, objectName: string, params: readonly ParamDef[], idParam = 'id'): HandledCommand {
  return defineCommand({
    name, description, isAsync: false, access: 'user', objectName, paged: true, params, listed: false,
    async handler({ params: p }) {
      const id = getString(p, idParam);
      if (id !== undefined) throw unknownUuidError(name.toLowerCase(), idParam, id);
      return { kind: 'list', count: 0, items: [] };
    },
  });
}

export function featuresOffCommands(): HandledCommand[] {
  return [
    unlistedNone('listVPCs', 'Lists VPCs', 'vpc', [
      { name: 'id', type: 'uuid', description: 'list VPC by id' },
      { name: 'zoneid', type: 'uuid', description: 'list by zone' },
      { name: 'name', type: 'string', description: 'list by name of the VPC' },
      { name: 'state', type: 'string', description: 'list VPCs by state' },
      { name: 'vpcofferingid', type: 'uuid', description: 'list by ID of the VPC offering' },
      { name: 'restartrequired', type: 'boolean', description: 'list VPCs by restartRequired option' },
      ...OWNER_LIST_PARAMS,
    ]),
    unlistedNone('listNetworkServiceProviders', 'Lists network serviceproviders for a given physical network.', 'networkserviceprovider', [
      { name: 'physicalnetworkid', type: 'uuid', description: 'the Physical Network ID' },
      { name: 'name', type: 'string', description: 'list providers by name' },
      { name: 'state', type: 'string', description: 'list providers by state' },
    ], 'physicalnetworkid'),
  ];
}
