/**
 * Service, disk and network offerings: the sizes and network services a VM, volume or network is made
 * from. Creating them is for the root admin; everyone lists the ones visible to their domain.
 */
import { InvalidParameterError, PermissionDeniedError } from '../../../src/errors.js';
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getBoolean, getList, getNumber, getString } from '../params.js';
import type { ParamDef, Params } from '../types.js';
import { listOf, listed, listParams, objectOf, required, type CommandDeps } from './common.js';

type ServiceInput = Parameters<DataApi['offerings']['createService']>[0];
type DiskInput = Parameters<DataApi['offerings']['createDisk']>[0];

/** Copies present parameters of the given kinds onto `target` under the same names. */
function copy<T extends object>(target: T, params: Params, kinds: { strings?: readonly string[]; numbers?: readonly string[];
  booleans?: readonly string[] }): T {
  const t = target as Record<string, unknown>;
  for (const n of kinds.strings ?? []) { const v = getString(params, n); if (v !== undefined) t[n] = v; }
  for (const n of kinds.numbers ?? []) { const v = getNumber(params, n); if (v !== undefined) t[n] = v; }
  for (const n of kinds.booleans ?? []) { const v = getBoolean(params, n); if (v !== undefined) t[n] = v; }
  return target;
}

function storageType(params: Params): 'shared' | 'local' | undefined {
  const v = getString(params, 'storagetype');
  if (v === undefined) return undefined;
  if (v.toLowerCase() === 'shared' || v.toLowerCase() === 'local') return v.toLowerCase() as 'shared' | 'local';
  throw new InvalidParameterError(`Invalid storage type ${v} specified, valid types are: 'local' and 'shared'`);
}

/** The one domain an offering is restricted to (CloudStack takes a list; offerings here belong to at most one). */
function offeringDomain(params: Params): string | undefined {
  const ids = getList(params, 'domainid');
  if (ids === undefined || ids.length === 0) return undefined;
  if (ids.length > 1) throw new InvalidParameterError('an offering can be restricted to one domain here; pass a single domainid');
  return ids[0];
}

const DOMAIN_PARAM: ParamDef = {
  name: 'domainid', type: 'list', collectionType: 'uuid',
  description: 'the ID of the containing domain(s), null for public offerings',
};

const SERVICE_PARAMS: readonly ParamDef[] = [
  { name: 'name', type: 'string', required: true, description: 'the name of the service offering' },
  { name: 'displaytext', type: 'string', description: 'The display text of the service offering, defaults to \'name\'.', length: 4096 },
  { name: 'cpunumber', type: 'integer', description: 'the CPU number of the service offering' },
  { name: 'cpuspeed', type: 'integer', description: 'the CPU speed of the service offering in MHz.' },
  { name: 'memory', type: 'integer', description: 'the total memory of the service offering in MB' },
  { name: 'offerha', type: 'boolean', description: 'the HA for the service offering' },
  { name: 'limitcpuuse', type: 'boolean', description: 'restrict the CPU usage to committed service offering' },
  { name: 'isvolatile', type: 'boolean', description: 'true if the virtual machine needs to be volatile so that on every reboot of VM, original root disk is dettached then destroyed and a fresh root disk is created and attached to VM' },
  { name: 'storagetype', type: 'string', description: 'the storage type of the service offering. Values are local and shared.' },
  { name: 'tags', type: 'string', description: 'the tags for this service offering.' },
  { name: 'hosttags', type: 'string', description: 'the host tag for this service offering.' },
  { name: 'issystem', type: 'boolean', description: 'is this a system vm offering' },
  { name: 'systemvmtype', type: 'string', description: 'the system VM type. Possible types are "domainrouter", "consoleproxy" and "secondarystoragevm".' },
  DOMAIN_PARAM,
  { name: 'networkrate', type: 'integer', description: 'data transfer rate in megabits per second allowed. Supported only for non-System offering and system offerings having "domainrouter" systemvmtype' },
  { name: 'customized', type: 'boolean', description: 'Whether service offering size is custom or not', since: '4.13' },
  { name: 'rootdisksize', type: 'long', description: 'the Root disk size in GB.', since: '4.15' },
];

function serviceInput(params: Params): ServiceInput {
  const input = copy<ServiceInput>({ name: required(params, 'name') }, params, {
    strings: ['displaytext', 'tags', 'hosttags', 'systemvmtype'],
    numbers: ['cpunumber', 'cpuspeed', 'memory', 'networkrate', 'rootdisksize'],
    booleans: ['offerha', 'limitcpuuse', 'isvolatile', 'issystem', 'customized'],
  });
  const st = storageType(params);
  if (st !== undefined) input.storagetype = st;
  const domainid = offeringDomain(params);
  if (domainid !== undefined) input.domainid = domainid;
  return input;
}

function diskInput(params: Params): DiskInput {
  const input = copy<DiskInput>({ name: required(params, 'name') }, params, {
    strings: ['displaytext', 'tags', 'provisioningtype'],
    numbers: ['disksize', 'miniops', 'maxiops'],
    booleans: ['customized'],
  });
  const st = storageType(params);
  if (st !== undefined) input.storagetype = st;
  const domainid = offeringDomain(params);
  if (domainid !== undefined) input.domainid = domainid;
  return input;
}

function serviceOfferings(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createServiceOffering',
      description: 'Creates a service offering.',
      isAsync: false,
      access: 'admin',
      objectName: 'serviceoffering',
      params: SERVICE_PARAMS,
      async handler({ params }) {
        return objectOf(await deps.data.offerings.createService(serviceInput(params)));
      },
    }),
    defineCommand({
      name: 'listServiceOfferings',
      description: 'Lists all available service offerings.',
      isAsync: false,
      access: 'user',
      objectName: 'serviceoffering',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'ID of the service offering' },
        { name: 'name', type: 'string', description: 'name of the service offering' },
        { name: 'domainid', type: 'uuid', description: 'the ID of the domain associated with the service offering' },
        { name: 'issystem', type: 'boolean', description: 'is this a system vm offering' },
        { name: 'systemvmtype', type: 'string', description: 'the system VM type. Possible types are "consoleproxy", "secondarystoragevm" or "domainrouter".' },
      ],
      async handler(ctx) {
        if (getBoolean(ctx.params, 'issystem') === true && ctx.caller.role !== 'admin') {
          throw new PermissionDeniedError("Only ROOT admins can access system's offering");
        }
        return listed(ctx, listParams(ctx, ['id', 'name', 'domainid', 'issystem', 'systemvmtype']), {
          page: (q) => deps.data.offerings.listService(ctx.caller, q), scan: (q, w) => deps.data.offerings.scanService(ctx.caller, q, w),
        });
      },
    }),
  ];
}

function diskOfferings(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'createDiskOffering',
      description: 'Creates a disk offering.',
      isAsync: false,
      access: 'admin',
      objectName: 'diskoffering',
      params: [
        { name: 'name', type: 'string', required: true, description: 'name of the disk offering' },
        { name: 'displaytext', type: 'string', description: 'An alternate display text of the disk offering, defaults to \'name\'.', length: 4096 },
        { name: 'disksize', type: 'long', description: 'size of the disk offering in GB (1GB = 1,073,741,824 bytes)' },
        { name: 'customized', type: 'boolean', description: 'whether disk offering size is custom or not' },
        { name: 'storagetype', type: 'string', description: 'the storage type of the disk offering. Values are local and shared.' },
        { name: 'tags', type: 'string', description: 'tags for the disk offering', length: 4096 },
        { name: 'provisioningtype', type: 'string', description: 'provisioning type used to create volumes. Valid values are thin, sparse, fat.' },
        { name: 'miniops', type: 'long', description: 'min iops of the disk offering' },
        { name: 'maxiops', type: 'long', description: 'max iops of the disk offering' },
        DOMAIN_PARAM,
      ],
      async handler({ params }) {
        return objectOf(await deps.data.offerings.createDisk(diskInput(params)));
      },
    }),
    defineCommand({
      name: 'listDiskOfferings',
      description: 'Lists all available disk offerings.',
      isAsync: false,
      access: 'user',
      objectName: 'diskoffering',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'ID of the disk offering' },
        { name: 'name', type: 'string', description: 'name of the disk offering' },
        { name: 'domainid', type: 'uuid', description: 'the ID of the domain of the disk offering.' },
      ],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['id', 'name', 'domainid']), {
          page: (q) => deps.data.offerings.listDisk(ctx.caller, q), scan: (q, w) => deps.data.offerings.scanDisk(ctx.caller, q, w),
        });
      },
    }),
  ];
}

function networkOfferings(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'listNetworkOfferings',
      description: 'Lists all available network offerings.',
      isAsync: false,
      access: 'user',
      objectName: 'networkoffering',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'list network offerings by ID' },
        { name: 'name', type: 'string', description: 'list network offerings by name' },
        { name: 'traffictype', type: 'string', description: 'list by traffic type' },
        { name: 'isdefault', type: 'boolean', description: 'true if need to list only default network offerings. Default value is false' },
        { name: 'specifyvlan', type: 'boolean', description: 'the tags for the network offering.' },
        { name: 'availability', type: 'string', description: 'the availability of network offering. Default value is required' },
        { name: 'guestiptype', type: 'string', description: 'list network offerings by guest type: shared or isolated' },
        { name: 'state', type: 'string', description: 'list network offerings by state' },
        { name: 'forvpc', type: 'boolean', description: 'the network offering can be used only for network creation inside the VPC' },
      ],
      async handler(ctx) {
        const p = listParams(ctx, ['id', 'name', 'traffictype', 'isdefault', 'specifyvlan', 'availability', 'state', 'forvpc']);
        // Stored as Isolated/Shared/L2; clients send any case.
        const guest = getString(ctx.params, 'guestiptype');
        if (guest !== undefined) p['guestiptype'] = ['Isolated', 'Shared', 'L2'].find((g) => g.toLowerCase() === guest.toLowerCase()) ?? guest;
        return listed(ctx, p, {
          page: (q) => deps.data.offerings.listNetwork(q), scan: (q, w) => deps.data.offerings.scanNetwork(q, w),
        });
      },
    }),
    defineCommand({
      name: 'updateNetworkOffering',
      description: 'Updates a network offering.',
      isAsync: false,
      access: 'admin',
      objectName: 'networkoffering',
      params: [
        { name: 'id', type: 'uuid', required: true, description: 'the id of the network offering' },
        { name: 'name', type: 'string', description: 'the name of the network offering' },
        { name: 'displaytext', type: 'string', description: 'the display text of the network offering' },
        { name: 'availability', type: 'string', description: 'the availability of network offering: Required or Optional. ' +
          'Required (one isolated offering with SourceNat at most) is the one a deploy without networkids creates its network from' },
        { name: 'state', type: 'string', description: 'update state for the network offering: Enabled or Disabled' },
      ],
      async handler(ctx) {
        const input = copy({ id: required(ctx.params, 'id') }, ctx.params, { strings: ['name', 'displaytext', 'availability', 'state'] });
        return objectOf(await deps.data.offerings.updateNetwork(input));
      },
    }),
  ];
}

/** Service, disk and network offerings. */
export function offeringCommands(deps: CommandDeps): HandledCommand[] {
  return [...serviceOfferings(deps), ...diskOfferings(deps), ...networkOfferings(deps)];
}
