import { InvalidParameterError, NotFoundError } from '../../../../src/errors.js';
import { checkVmLimits } from './account-limits.js';
import type { StoreContext } from '../context.js';
import { SYSTEM, assertVisible, resolveCaller, type Scope } from '../scoping.js';
import { defaultNetworkId, type DeployZone } from './default-network.js';
import type { NetworkRepository } from './networks.js';
import type { NicRepository } from './nics.js';
import type { VolumeRepository } from './volumes.js';

const GIB = 1024 ** 3;

/** ROOT disk size when neither the template nor the request gives one. */
export const DEFAULT_ROOT_DISK_GIB = 8;

/** deployVirtualMachine's parameters as far as the data model is concerned. */
export interface CreateVmInput {
  zoneid: string;
  serviceofferingid: string;
  templateid: string;
  name?: string;
  displayname?: string;
  /** Owner (admins deploying for an account); default the caller's account. */
  accountid?: string;
  /**
   * Guest networks, the first one default. Absent (or empty): the zone's default network, as CloudStack
   * chooses it (default-network.ts), created for the owner when it has none.
   */
  networkids?: readonly string[];
  /** An extra DATADISK from this offering. */
  diskofferingid?: string;
  /** GiB for a customized disk offering. */
  size?: number;
  /** GiB of the ROOT disk (default: the template's size). */
  rootdisksize?: number;
  keypair?: string;
  userdata?: string;
  /** Registered user data (registerUserData) instead of `userdata`. */
  userdataid?: string;
  /** Affinity groups by id, or by name in the owner's account (not both). */
  affinitygroupids?: readonly string[];
  affinitygroupnames?: readonly string[];
  group?: string;
  hypervisor?: string;
  details?: Record<string, string>;
  /** For customized service offerings. */
  cpunumber?: number;
  cpuspeed?: number;
  memory?: number;
}

interface Owner {
  accountId: number;
  domainId: number;
  userId: number | undefined;
}

function checkZone(ctx: StoreContext, scope: Scope, zoneUuid: string): DeployZone {
  const z = ctx.one<{ id: number; allocation_state: string; network_type: 'Basic' | 'Advanced'; security_groups_enabled: number }>(
    'SELECT id, allocation_state, network_type, security_groups_enabled FROM zone WHERE uuid = ? AND removed IS NULL', zoneUuid);
  if (z === undefined) throw new InvalidParameterError(`Unable to find zone with id ${zoneUuid}`);
  const admin = scope === SYSTEM || resolveCaller(ctx, scope).role === 'admin';
  if (z.allocation_state !== 'Enabled' && !admin) {
    throw new InvalidParameterError(`zone ${zoneUuid} is disabled: cannot deploy there`);
  }
  return { id: z.id, uuid: zoneUuid, networkType: z.network_type, securityGroups: z.security_groups_enabled === 1 };
}

function sizing(ctx: StoreContext, input: CreateVmInput): { id: number; cpu: number; speed: number; mem: number; ha: number } {
  const so = ctx.one<{ id: number; cpu_number: number | null; cpu_speed: number | null; memory: number | null;
    offer_ha: number; is_system: number }>(`SELECT id, cpu_number, cpu_speed, memory, offer_ha, is_system
    FROM service_offering WHERE uuid = ? AND removed IS NULL`, input.serviceofferingid);
  if (so === undefined || so.is_system === 1) {
    throw new InvalidParameterError(`Unable to find service offering with id ${input.serviceofferingid}`);
  }
  const cpu = so.cpu_number ?? input.cpunumber;
  const mem = so.memory ?? input.memory;
  const speed = so.cpu_speed ?? input.cpuspeed ?? 1000;
  if (cpu === undefined || mem === undefined || !(cpu > 0 && mem > 0 && speed > 0)) {
    throw new InvalidParameterError('a customized service offering needs positive cpunumber and memory (and cpuspeed)');
  }
  return { id: so.id, cpu, speed, mem, ha: so.offer_ha };
}

function template(ctx: StoreContext, scope: Scope, input: CreateVmInput, zoneId: number):
  { id: number; size: number | null; os: number | null; hypervisor: string | null } {
  const t = ctx.one<{ id: number; account_id: number; domain_id: number; is_public: number; size: number | null;
    os_type_id: number | null; hypervisor: string | null }>(`SELECT id, account_id, domain_id, is_public, size, os_type_id,
    hypervisor FROM template WHERE uuid = ? AND removed IS NULL`, input.templateid);
  if (t === undefined || (t.is_public === 0 && scope !== SYSTEM && !visible(ctx, scope, t))) {
    throw new InvalidParameterError(`Unable to find template with id ${input.templateid}`);
  }
  const tz = ctx.one<{ is_ready: number }>('SELECT is_ready FROM template_zone WHERE template_id = ? AND zone_id = ?', t.id, zoneId);
  if (tz?.is_ready !== 1) throw new InvalidParameterError(`Template ${input.templateid} is not ready in zone ${input.zoneid}`);
  return { id: t.id, size: t.size, os: t.os_type_id, hypervisor: t.hypervisor };
}

function visible(ctx: StoreContext, scope: Scope, owner: { account_id: number; domain_id: number }): boolean {
  try {
    assertVisible(ctx, scope, 'template', '', owner);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

function networks(ctx: StoreContext, scope: Scope, input: CreateVmInput, zoneId: number): number[] {
  return (input.networkids ?? []).map((uuid) => {
    const n = ctx.one<{ id: number; account_id: number; domain_id: number; zone_id: number; acl_type: string; state: string }>(
      'SELECT id, account_id, domain_id, zone_id, acl_type, state FROM network WHERE uuid = ? AND removed IS NULL', uuid);
    if (n === undefined) throw new InvalidParameterError(`Unable to find network with id ${uuid}`);
    if (n.acl_type === 'Account') assertVisible(ctx, scope, 'network', uuid, n);
    if (n.zone_id !== zoneId) throw new InvalidParameterError(`network ${uuid} is not in zone ${input.zoneid}`);
    return n.id;
  });
}

function diskOffering(ctx: StoreContext, input: CreateVmInput): { id: number; size: number } | undefined {
  if (input.diskofferingid === undefined) return undefined;
  const d = ctx.one<{ id: number; disk_size: number; is_customized: number }>(
    'SELECT id, disk_size, is_customized FROM disk_offering WHERE uuid = ? AND removed IS NULL', input.diskofferingid);
  if (d === undefined) throw new InvalidParameterError(`Unable to find disk offering with id ${input.diskofferingid}`);
  const size = d.is_customized === 1 ? (input.size ?? 0) * GIB : d.disk_size;
  if (!(size > 0)) throw new InvalidParameterError('a customized disk offering needs size (GiB)');
  return { id: d.id, size };
}

/** The repositories a VM's rows are written through. */
export interface VmRowRepos {
  nics: NicRepository;
  volumes: VolumeRepository;
  /** Creates the owner's default network when the deploy names none and the owner has none. */
  networks: NetworkRepository;
}

/** Validates and inserts the VM, its NICs and its volumes; returns the VM's UUID. */
export function createVmRows(ctx: StoreContext, scope: Scope, owner: Owner, input: CreateVmInput, repos: VmRowRepos): string {
  const uuid = ctx.uuid();
  const name = input.name ?? `VM-${uuid}`;
  validateHostname(name);
  const zone = checkZone(ctx, scope, input.zoneid);
  const zoneId = zone.id;
  const so = sizing(ctx, input);
  const tpl = template(ctx, scope, input, zoneId);
  const named = input.networkids !== undefined && input.networkids.length > 0 ? networks(ctx, scope, input, zoneId) : undefined;
  const data = diskOffering(ctx, input);
  checkVmLimits(ctx, owner.accountId, { cpu: so.cpu, memory: so.mem });
  if (input.keypair !== undefined && ctx.one('SELECT 1 FROM ssh_keypair WHERE account_id = ? AND name = ?',
    owner.accountId, input.keypair) === undefined) {
    throw new InvalidParameterError(`Unable to find key pair ${input.keypair} for the VM's account`);
  }
  // Chosen last, so that a deploy refused for any other reason never creates the owner's default network.
  const netIds = named ?? [defaultNetworkId(ctx, scope, repos.networks, owner, zone)];
  const res = ctx.run(`INSERT INTO vm_instance (uuid, name, display_name, instance_name, account_id, domain_id, user_id,
    zone_id, service_offering_id, template_id, disk_offering_id, os_type_id, hypervisor, state, ha_enabled, cpu_number,
    cpu_speed, memory, group_name, keypair, user_data, details, created)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Stopped', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  uuid, name, input.displayname ?? name, `i-${uuid}`, owner.accountId, owner.domainId, owner.userId ?? null, zoneId,
  so.id, tpl.id, data?.id ?? null, tpl.os, input.hypervisor ?? tpl.hypervisor, so.ha, so.cpu, so.speed, so.mem,
  input.group ?? null, input.keypair ?? null, input.userdata ?? null,
  input.details === undefined ? null : JSON.stringify(input.details), ctx.now());
  const vmId = Number(res.lastInsertRowid);
  netIds.forEach((n, i) => repos.nics.insert(vmId, n, i, i === 0));
  const rootSize = input.rootdisksize !== undefined ? input.rootdisksize * GIB : tpl.size ?? DEFAULT_ROOT_DISK_GIB * GIB;
  repos.volumes.insert({ name: `ROOT-${name}`, type: 'ROOT', accountId: owner.accountId, domainId: owner.domainId, zoneId,
    size: rootSize, templateId: tpl.id, vmId, deviceId: 0 });
  if (data !== undefined) {
    repos.volumes.insert({ name: `DATA-${name}`, type: 'DATADISK', accountId: owner.accountId, domainId: owner.domainId, zoneId,
      size: data.size, diskOfferingId: data.id, vmId, deviceId: 1 });
  }
  return uuid;
}

/** CloudStack's hostname rule for VM names. */
export function validateHostname(name: string): void {
  if (!/^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) {
    throw new InvalidParameterError(`Invalid name ${name}. Vm name can contain ASCII letters 'a' through 'z', ` +
      "'A' through 'Z', the digits '0' through '9', and the hyphen ('-'), must be between 1 and 63 characters long, " +
      "and can't start or end with '-' and can't start with digit");
  }
}
