import { InvalidParameterError, NotFoundError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { bool, compact, formatDate, parseJson } from '../format.js';
import { listResources, scanResources, type FilterSpec, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, resolveCaller, type Condition, type Scope } from '../scoping.js';
import { boolInt, getGlobal, updateColumns } from './common.js';

const GIB = 1024 ** 3;

/** listServiceOfferings' `serviceoffering` object (memory in MiB, cpuspeed in MHz). */
export interface ServiceOffering {
  id: string;
  name: string;
  displaytext?: string;
  cpunumber?: number;
  cpuspeed?: number;
  memory?: number;
  created: string;
  storagetype: 'shared' | 'local';
  offerha: boolean;
  limitcpuuse: boolean;
  isvolatile: boolean;
  tags?: string;
  hosttags?: string;
  issystem: boolean;
  systemvmtype?: string;
  defaultuse: boolean;
  iscustomized: boolean;
  domain?: string;
  domainid?: string;
  networkrate?: number;
  rootdisksize?: number;
}

export interface CreateServiceOfferingInput {
  name: string;
  displaytext?: string;
  cpunumber?: number;
  cpuspeed?: number;
  /** MiB. */
  memory?: number;
  offerha?: boolean;
  limitcpuuse?: boolean;
  isvolatile?: boolean;
  storagetype?: 'shared' | 'local';
  tags?: string;
  hosttags?: string;
  issystem?: boolean;
  systemvmtype?: string;
  /** Restrict to a domain (and its subtree); default public. */
  domainid?: string;
  networkrate?: number;
  /** GiB. */
  rootdisksize?: number;
  customized?: boolean;
}

/** listDiskOfferings' `diskoffering` object (disksize in GiB). */
export interface DiskOffering {
  id: string;
  name: string;
  displaytext?: string;
  disksize: number;
  iscustomized: boolean;
  created: string;
  storagetype: 'shared' | 'local';
  tags?: string;
  provisioningtype: string;
  miniops?: number;
  maxiops?: number;
  domain?: string;
  domainid?: string;
}

export interface CreateDiskOfferingInput {
  name: string;
  displaytext?: string;
  /** GiB; 0 with customized=true lets the volume choose its size. */
  disksize?: number;
  customized?: boolean;
  storagetype?: 'shared' | 'local';
  tags?: string;
  provisioningtype?: string;
  miniops?: number;
  maxiops?: number;
  domainid?: string;
}

export interface NetworkService {
  name: string;
  provider: { name: string }[];
}

/** listNetworkOfferings' `networkoffering` object. */
export interface NetworkOffering {
  id: string;
  name: string;
  displaytext?: string;
  traffictype: string;
  guestiptype: 'Isolated' | 'Shared' | 'L2';
  isdefault: boolean;
  specifyvlan: boolean;
  conservemode: boolean;
  specifyipranges: boolean;
  availability: string;
  state: 'Enabled' | 'Disabled';
  service: NetworkService[];
  forvpc: boolean;
  ispersistent: boolean;
  egressdefaultpolicy: boolean;
  serviceofferingid?: string;
  networkrate?: number;
  created: string;
}

export interface CreateNetworkOfferingInput {
  name: string;
  displaytext?: string;
  guestiptype: 'Isolated' | 'Shared' | 'L2';
  traffictype?: string;
  isdefault?: boolean;
  specifyvlan?: boolean;
  conservemode?: boolean;
  specifyipranges?: boolean;
  availability?: string;
  state?: 'Enabled' | 'Disabled';
  service?: NetworkService[];
  forvpc?: boolean;
  ispersistent?: boolean;
  egressdefaultpolicy?: boolean;
  serviceofferingid?: string;
  networkrate?: number;
}

/** updateNetworkOffering's changes; values are matched case-insensitively, as CloudStack does. */
export interface UpdateNetworkOfferingInput {
  id: string;
  name?: string;
  displaytext?: string;
  /** Required or Optional; only one isolated offering with source NAT may be Required. */
  availability?: string;
  /** Enabled or Disabled. */
  state?: string;
}

/**
 * Offerings restricted to a domain are visible in that domain's subtree only; public ones to everyone.
 */
function domainVisibility(ctx: StoreContext, scope: Scope): Condition {
  if (scope === SYSTEM) return { sql: '', args: [] };
  const rc = resolveCaller(ctx, scope);
  if (rc.role === 'admin') return { sql: '', args: [] };
  return { sql: 't.domain_id IS NULL OR t.domain_id IN (SELECT id FROM domain WHERE substr(?, 1, length(path)) = path)',
    args: [rc.domainPath] };
}

/**
 * CloudStack's `domainid` filter of offering lists: the offerings usable in that domain — public ones
 * and those of the domain or any of its parents (the UI's deploy wizard asks with the caller's domain,
 * and must see the public offerings). An unknown domain matches nothing.
 */
const usableInDomain: FilterSpec = {
  custom: (v, ctx) => {
    const row = ctx.one<{ path: string }>('SELECT path FROM domain WHERE uuid = ? AND removed IS NULL', String(v));
    if (row === undefined) return null;
    return { sql: '(t.domain_id IS NULL OR t.domain_id IN (SELECT id FROM domain WHERE substr(?, 1, length(path)) = path))', args: [row.path] };
  },
};

/** Wraps a possibly OR-ed condition so that it composes with AND. */
function paren(c: Condition): Condition {
  return c.sql === '' ? c : { sql: `(${c.sql})`, args: c.args };
}

type Row = Record<string, number | string | null> & { uuid: string; name: string; created: number };

const str = (v: number | string | null | undefined): string | undefined => (v === null || v === undefined ? undefined : String(v));
const num = (v: number | string | null | undefined): number | undefined => (v === null || v === undefined ? undefined : Number(v));

const SERVICE_SPEC: ListSpec<Row, ServiceOffering> = {
  table: 'service_offering',
  columns: 't.*, d.uuid AS d_uuid, d.name AS d_name, d.path AS d_path',
  joins: 'LEFT JOIN domain d ON d.id = t.domain_id',
  scope: (ctx, scope, p) => {
    const vis = paren(domainVisibility(ctx, scope));
    // System offerings (virtual routers...) are listed only when asked for, as in CloudStack.
    const sys = p.issystem === true || p.issystem === 'true' ? 't.is_system = 1' : 't.is_system = 0';
    return { sql: vis.sql === '' ? sys : `${vis.sql} AND ${sys}`, args: vis.args };
  },
  where: 't.removed IS NULL',
  filters: { name: { eq: 'name' }, domainid: usableInDomain,
    systemvmtype: { eq: 'system_vm_type' }, offerha: { bool: 'offer_ha' } },
  keyword: ['name', 'display_text'],
  map: (r) => compact<ServiceOffering>({
    id: r.uuid, name: r.name, displaytext: str(r.display_text), cpunumber: num(r.cpu_number),
    cpuspeed: num(r.cpu_speed), memory: num(r.memory), created: formatDate(r.created),
    storagetype: r.storage_type as 'shared' | 'local', offerha: bool(num(r.offer_ha)),
    limitcpuuse: bool(num(r.limit_cpu_use)), isvolatile: bool(num(r.is_volatile)), tags: str(r.tags),
    hosttags: str(r.host_tags), issystem: bool(num(r.is_system)), systemvmtype: str(r.system_vm_type),
    defaultuse: bool(num(r.default_use)), iscustomized: bool(num(r.is_customized)), domain: str(r.d_name),
    domainid: str(r.d_uuid), networkrate: num(r.network_rate), rootdisksize: num(r.root_disk_size),
  }),
};

const DISK_SPEC: ListSpec<Row, DiskOffering> = {
  table: 'disk_offering',
  columns: 't.*, d.uuid AS d_uuid, d.name AS d_name, d.path AS d_path',
  joins: 'LEFT JOIN domain d ON d.id = t.domain_id',
  scope: (ctx, scope) => paren(domainVisibility(ctx, scope)),
  where: 't.removed IS NULL',
  filters: { name: { eq: 'name' }, domainid: usableInDomain },
  keyword: ['name', 'display_text'],
  map: (r) => compact<DiskOffering>({
    id: r.uuid, name: r.name, displaytext: str(r.display_text), disksize: Math.round(Number(r.disk_size) / GIB),
    iscustomized: bool(num(r.is_customized)), created: formatDate(r.created),
    storagetype: r.storage_type as 'shared' | 'local', tags: str(r.tags), provisioningtype: String(r.provisioning_type),
    miniops: num(r.min_iops), maxiops: num(r.max_iops), domain: str(r.d_name), domainid: str(r.d_uuid),
  }),
};

const NETWORK_SPEC: ListSpec<Row, NetworkOffering> = {
  table: 'network_offering',
  columns: 't.*, s.uuid AS s_uuid',
  joins: 'LEFT JOIN service_offering s ON s.id = t.service_offering_id',
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { name: { eq: 'name' }, guestiptype: { eq: 'guest_ip_type' }, traffictype: { eq: 'traffic_type' },
    state: { eq: 'state' }, isdefault: { bool: 'is_default' }, specifyvlan: { bool: 'specify_vlan' },
    forvpc: { bool: 'for_vpc' }, availability: { eq: 'availability' } },
  keyword: ['name', 'display_text'],
  map: (r) => compact<NetworkOffering>({
    id: r.uuid, name: r.name, displaytext: str(r.display_text), traffictype: String(r.traffic_type),
    guestiptype: r.guest_ip_type as 'Isolated' | 'Shared' | 'L2', isdefault: bool(num(r.is_default)),
    specifyvlan: bool(num(r.specify_vlan)), conservemode: bool(num(r.conserve_mode)),
    specifyipranges: bool(num(r.specify_ip_ranges)), availability: String(r.availability),
    state: r.state as 'Enabled' | 'Disabled', service: parseJson<NetworkService[]>(str(r.services)) ?? [],
    forvpc: bool(num(r.for_vpc)), ispersistent: bool(num(r.is_persistent)),
    egressdefaultpolicy: bool(num(r.egress_default_policy)), serviceofferingid: str(r.s_uuid),
    networkrate: num(r.network_rate), created: formatDate(r.created),
  }),
};

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
    throw new InvalidParameterError(`${name} must be a positive integer, got ${v}`);
  }
}

export class OfferingRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** A domain-restricted offering is visible in that domain's subtree (and to the root admin). */
  private visible<T>(scope: Scope, found: { row: Row; item: T }, what: string, uuid: string): T {
    const path = found.row.d_path;
    if (path === null || path === undefined || scope === SYSTEM) return found.item;
    const rc = resolveCaller(this.ctx, scope);
    if (rc.role !== 'admin' && !rc.domainPath.startsWith(String(path))) {
      throw new NotFoundError(`Unable to find ${what} with id ${uuid}`);
    }
    return found.item;
  }

  /** One service offering (system ones included); NotFoundError when missing or restricted to another domain. */
  getService(scope: Scope, uuid: string): ServiceOffering {
    return this.visible(scope, getGlobal(this.ctx, SERVICE_SPEC, 'service offering', uuid), 'service offering', uuid);
  }

  listService(scope: Scope, params: ListParams = {}): ListResult<ServiceOffering> {
    return listResources(this.ctx, SERVICE_SPEC, scope, params);
  }

  /** Every match of `listService`, chunk by chunk (see pagination.ts). */
  scanService(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<ServiceOffering> {
    return scanResources(this.ctx, SERVICE_SPEC, scope, params, window);
  }

  createService(input: CreateServiceOfferingInput): ServiceOffering {
    const custom = input.customized ?? (input.cpunumber === undefined || input.memory === undefined);
    if (!custom) {
      positive('cpunumber', input.cpunumber);
      positive('memory', input.memory);
    }
    positive('cpuspeed', input.cpuspeed);
    return this.ctx.tx(() => {
      const uuid = this.ctx.uuid();
      const domainId = this.ctx.optionalId('domain', input.domainid, 'domain');
      this.ctx.run(`INSERT INTO service_offering (uuid, name, display_text, cpu_number, cpu_speed, memory, offer_ha,
        limit_cpu_use, is_volatile, storage_type, tags, host_tags, is_system, system_vm_type, is_customized, domain_id,
        network_rate, root_disk_size, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.displaytext ?? input.name, input.cpunumber ?? null, input.cpuspeed ?? null,
      input.memory ?? null, boolInt(input.offerha), boolInt(input.limitcpuuse), boolInt(input.isvolatile),
      input.storagetype ?? 'shared', input.tags ?? null, input.hosttags ?? null, boolInt(input.issystem),
      input.systemvmtype ?? null, custom ? 1 : 0, domainId, input.networkrate ?? null, input.rootdisksize ?? null,
      this.ctx.now());
      return this.getService(SYSTEM, uuid);
    });
  }

  getDisk(scope: Scope, uuid: string): DiskOffering {
    return this.visible(scope, getGlobal(this.ctx, DISK_SPEC, 'disk offering', uuid), 'disk offering', uuid);
  }

  listDisk(scope: Scope, params: ListParams = {}): ListResult<DiskOffering> {
    return listResources(this.ctx, DISK_SPEC, scope, params);
  }

  /** Every match of `listDisk`, chunk by chunk (see pagination.ts). */
  scanDisk(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<DiskOffering> {
    return scanResources(this.ctx, DISK_SPEC, scope, params, window);
  }

  createDisk(input: CreateDiskOfferingInput): DiskOffering {
    const custom = input.customized ?? (input.disksize === undefined || input.disksize === 0);
    if (!custom) positive('disksize', input.disksize);
    return this.ctx.tx(() => {
      const uuid = this.ctx.uuid();
      const domainId = this.ctx.optionalId('domain', input.domainid, 'domain');
      this.ctx.run(`INSERT INTO disk_offering (uuid, name, display_text, disk_size, is_customized, storage_type, tags,
        provisioning_type, min_iops, max_iops, domain_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.displaytext ?? input.name, (input.disksize ?? 0) * GIB, custom ? 1 : 0,
      input.storagetype ?? 'shared', input.tags ?? null, input.provisioningtype ?? 'thin', input.miniops ?? null,
      input.maxiops ?? null, domainId, this.ctx.now());
      return this.getDisk(SYSTEM, uuid);
    });
  }

  getNetwork(uuid: string): NetworkOffering {
    return getGlobal(this.ctx, NETWORK_SPEC, 'network offering', uuid).item;
  }

  listNetwork(params: ListParams = {}): ListResult<NetworkOffering> {
    return listResources(this.ctx, NETWORK_SPEC, SYSTEM, params);
  }

  /** Every match of `listNetwork`, chunk by chunk (see pagination.ts). */
  scanNetwork(params: ListParams, window: ScanWindow = {}): ScanChunk<NetworkOffering> {
    return scanResources(this.ctx, NETWORK_SPEC, SYSTEM, params, window);
  }

  createNetwork(input: CreateNetworkOfferingInput): NetworkOffering {
    return this.ctx.tx(() => {
      const uuid = this.ctx.uuid();
      const so = input.serviceofferingid === undefined ? null
        : this.ctx.requireId('service_offering', input.serviceofferingid, 'service offering');
      this.ctx.run(`INSERT INTO network_offering (uuid, name, display_text, traffic_type, guest_ip_type, is_default,
        specify_vlan, conserve_mode, specify_ip_ranges, availability, state, services, for_vpc, is_persistent,
        egress_default_policy, service_offering_id, network_rate, created)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, input.name, input.displaytext ?? input.name, input.traffictype ?? 'Guest', input.guestiptype,
      boolInt(input.isdefault), boolInt(input.specifyvlan), boolInt(input.conservemode, true),
      boolInt(input.specifyipranges), input.availability ?? 'Optional', input.state ?? 'Enabled',
      JSON.stringify(input.service ?? []), boolInt(input.forvpc), boolInt(input.ispersistent),
      boolInt(input.egressdefaultpolicy), so, input.networkrate ?? null, this.ctx.now());
      return this.getNetwork(uuid);
    });
  }

  /**
   * updateNetworkOffering (ConfigurationManagerImpl.updateNetworkOffering): name, display text, state,
   * and availability — Required only for an isolated offering with SourceNat, and for one offering at
   * most, because a deploy without networkids creates its default network from that one.
   */
  updateNetwork(input: UpdateNetworkOfferingInput): NetworkOffering {
    return this.ctx.tx(() => {
      const row = this.ctx.one<{ id: number; guest_ip_type: string; services: string }>(
        'SELECT id, guest_ip_type, services FROM network_offering WHERE uuid = ? AND removed IS NULL', input.id);
      if (row === undefined) throw new InvalidParameterError(`unable to find network offering ${input.id}`);
      const state = input.state === undefined ? undefined : oneOf(input.state, ['Enabled', 'Disabled'], `Incorrect state value: ${input.state}`);
      const availability = input.availability === undefined ? undefined : oneOf(input.availability, ['Required', 'Optional'],
        'Invalid value for Availability. Supported types: Required, Optional');
      if (availability === 'Required') this.checkCanBeRequired(row);
      const cols = updateColumns({ name: input.name, display_text: input.displaytext, state, availability });
      if (cols.sql !== '') {
        uniquely(`a network offering named ${input.name ?? ''} already exists`,
          () => this.ctx.run(`UPDATE network_offering SET ${cols.sql} WHERE id = ?`, ...cols.args, row.id));
      }
      return this.getNetwork(input.id);
    });
  }

  private checkCanBeRequired(row: { id: number; guest_ip_type: string; services: string }): void {
    const services = parseJson<NetworkService[]>(row.services) ?? [];
    if (row.guest_ip_type !== 'Isolated' || !services.some((s) => s.name === 'SourceNat')) {
      throw new InvalidParameterError('Availability can be Required only for networkOfferings of type Isolated and with SourceNat enabled');
    }
    const other = this.ctx.one<{ uuid: string }>(`SELECT uuid FROM network_offering WHERE availability = 'Required'
      AND removed IS NULL AND id <> ? ORDER BY id LIMIT 1`, row.id);
    if (other !== undefined) throw new InvalidParameterError(`System already has network offering id=${other.uuid} with availability Required`);
  }
}

/** The canonical spelling of a case-insensitive enumerated value, or InvalidParameterError. */
function oneOf<T extends string>(value: string, allowed: readonly T[], message: string): T {
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (found === undefined) throw new InvalidParameterError(message);
  return found;
}
