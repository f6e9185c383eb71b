/**
 * More features cloudstackd does not have, whose list commands the UI calls on pages it shows anyway:
 * - dedication (DedicatedResourceManagerImpl): the details tab of every zone, pod, cluster and host asks
 *   listDedicated{Zones,Pods,Clusters,Hosts} whether it is dedicated, whatever listApis says (its
 *   Dedicate button needs dedicateZone... in listApis, which cloudstackd does not offer);
 * - physical networks: the zone page's Physical Network tab and the shared-network form list them.
 *   cloudstackd keeps a zone's guest VNI range but no physical network entity (no name, traffic types
 *   or service providers for the UI's physical network page to show), so a zone has none, as a zone
 *   that CloudStack has not yet been given one;
 * - SSL certificates for load balancers (uploadSslCert): the account page's Certificate tab lists them.
 * Nothing can be dedicated, created or uploaded, so each list is empty — truthfully — once its
 * parameters are checked as CloudStack checks them: an id that names no entity is 431, and an existing
 * zone, pod, account... has nothing. They stay out of listApis, as the other absent features do, so
 * that the UI offers no page of its own for them.
 */
import { InvalidParameterError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { Access, ParamDef, Params } from '../types.js';
import type { CommandDeps } from './common.js';

type UuidTable = Parameters<DataApi['entities']['exists']>[0];

interface EmptyListSpec {
  name: string;
  description: string;
  objectName: string;
  access: Access;
  params: readonly ParamDef[];
  /** Parameters naming an entity cloudstackd has (checked), or `none` for ids of what cannot exist here. */
  refs: Readonly<Record<string, UuidTable | 'none'>>;
  paged?: boolean;
  since?: string;
  /** A further check of the parameters, before the (empty) answer. */
  check?: (params: Params) => void;
}

function emptyList(deps: CommandDeps, spec: EmptyListSpec): HandledCommand {
  const command = spec.name.toLowerCase();
  return defineCommand({
    name: spec.name, description: spec.description, isAsync: false, access: spec.access, objectName: spec.objectName,
    paged: spec.paged ?? true, params: spec.params, listed: false, ...(spec.since === undefined ? {} : { since: spec.since }),
    async handler({ params }) {
      spec.check?.(params);
      for (const [param, table] of Object.entries(spec.refs)) {
        const id = getString(params, param);
        if (id !== undefined && (table === 'none' || !(await deps.data.entities.exists(table, id)))) throw unknownUuidError(command, param, id);
      }
      return { kind: 'list', count: 0, items: [] };
    },
  });
}

const DEDICATION_OWNER: readonly ParamDef[] = [
  { name: 'domainid', type: 'uuid', description: 'the ID of the domain associated with the resource' },
  { name: 'account', type: 'string', description: 'the name of the account associated with the resource. Must be used with domainId.' },
  { name: 'affinitygroupid', type: 'uuid', description: 'list dedicated resources by affinity group' },
];

function dedicated(deps: CommandDeps, what: 'Zone' | 'Pod' | 'Cluster' | 'Host', idParam: string, table: UuidTable): HandledCommand {
  const plural = `${what}s`;
  return emptyList(deps, {
    name: `listDedicated${plural}`, description: `Lists dedicated ${plural.toLowerCase()}.`, objectName: `dedicated${what.toLowerCase()}`,
    access: 'admin',
    params: [{ name: idParam, type: 'uuid', description: `the ID of the ${what.toLowerCase()}` }, ...DEDICATION_OWNER],
    refs: { [idParam]: table, domainid: 'domain', affinitygroupid: 'affinity_group' },
    check: (p) => {
      const account = getString(p, 'account');
      if (account !== undefined && getString(p, 'domainid') === undefined) {
        throw new InvalidParameterError(`Please specify the domain id of the account: ${account}`);
      }
    },
  });
}

export function absentFeatureCommands(deps: CommandDeps): HandledCommand[] {
  return [
    dedicated(deps, 'Zone', 'zoneid', 'zone'),
    dedicated(deps, 'Pod', 'podid', 'pod'),
    dedicated(deps, 'Cluster', 'clusterid', 'cluster'),
    dedicated(deps, 'Host', 'hostid', 'host'),
    emptyList(deps, {
      name: 'listPhysicalNetworks', description: 'Lists physical networks', objectName: 'physicalnetwork', access: 'admin', since: '3.0.0',
      params: [
        { name: 'id', type: 'uuid', description: 'list physical network by id' },
        { name: 'zoneid', type: 'uuid', description: 'the Zone ID for the physical network' },
        { name: 'name', type: 'string', description: 'search by name' },
      ],
      refs: { id: 'none', zoneid: 'zone' },
    }),
    emptyList(deps, {
      name: 'listSslCerts', description: 'Lists SSL certificates', objectName: 'sslcert', access: 'user', paged: false,
      params: [
        { name: 'certid', type: 'uuid', description: 'ID of SSL certificate' },
        { name: 'accountid', type: 'uuid', description: 'Account ID' },
        { name: 'lbruleid', type: 'uuid', description: 'Load balancer rule ID' },
        { name: 'projectid', type: 'uuid', description: 'Project that owns the SSL certificate' },
      ],
      refs: { certid: 'none', accountid: 'account', lbruleid: 'network_rule', projectid: 'project' },
      check: (p) => {
        if (['certid', 'accountid', 'lbruleid', 'projectid'].every((n) => getString(p, n) === undefined)) {
          throw new InvalidParameterError('Invalid parameters either certificate ID or Account ID or Loadbalancer ID or Project ID required');
        }
      },
    }),
  ];
}
