import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM } from '../scoping.js';

/** listConfigurations' `configuration` object. */
export interface ConfigValue {
  name: string;
  value?: string;
  defaultvalue?: string;
  category: string;
  description?: string;
}

interface Default {
  value: string;
  category: string;
  description: string;
}

/**
 * Global settings the components read, with CloudStack's names and defaults. Written once at bootstrap
 * (existing values are kept); `set` changes them at run time.
 */
export const CONFIG_DEFAULTS: Readonly<Record<string, Default>> = {
  'max.account.user.vms': { value: '20', category: 'Account Defaults', description: 'User VMs an account (not root admin) may have; -1 = unlimited' },
  'max.account.cpus': { value: '40', category: 'Account Defaults', description: 'CPU cores of VMs an account (not root admin) may have; -1 = unlimited' },
  'max.account.memory': { value: '40960', category: 'Account Defaults', description: 'Memory (MiB) of VMs an account (not root admin) may have; -1 = unlimited' },
  'cpu.overprovisioning.factor': { value: '1', category: 'Advanced',
    description: 'CPU over-provisioning: allocatable MHz = cores × speed × factor' },
  'mem.overprovisioning.factor': { value: '1', category: 'Advanced',
    description: 'Memory over-provisioning: allocatable bytes = memory × factor' },
  'storage.overprovisioning.factor': { value: '2', category: 'Storage',
    description: 'Primary storage over-provisioning: allocatable bytes = capacity × factor' },
  'vm.allocation.algorithm': { value: 'random', category: 'Advanced',
    description: 'Host order when deploying: random, firstfit, userdispersing, firstfitleastconsumed...' },
  'default.page.size': { value: '500', category: 'Advanced', description: 'Default and maximum list page size' },
  'start.retry': { value: '10', category: 'Advanced', description: 'Start attempts on different hosts before failing' },
  'ping.interval': { value: '60', category: 'Advanced', description: 'Seconds between host pings' },
  'ping.timeout': { value: '2.5', category: 'Advanced', description: 'Multiplier of ping.interval before a host is behind' },
  'expunge.delay': { value: '86400', category: 'Advanced', description: 'Seconds a destroyed VM waits before expunge' },
  'expunge.interval': { value: '86400', category: 'Advanced', description: 'Seconds between expunge runs' },
  'guest.vlan.bits': { value: '12', category: 'Network', description: 'Bits of a guest VLAN id' },
  'network.gc.interval': { value: '600', category: 'Network', description: 'Seconds between network garbage collection' },
  'cluster.cpu.allocated.capacity.disablethreshold': { value: '0.85', category: 'Alert',
    description: 'Allocated CPU fraction above which a cluster is skipped by the planner' },
  'cluster.memory.allocated.capacity.disablethreshold': { value: '0.85', category: 'Alert',
    description: 'Allocated memory fraction above which a cluster is skipped by the planner' },
};

interface Row {
  name: string;
  value: string | null;
  default_value: string | null;
  category: string;
  description: string | null;
}

const SPEC: ListSpec<Row, ConfigValue> = {
  table: 'configuration',
  columns: 't.name, t.value, t.default_value, t.category, t.description',
  scope: 'none',
  filters: { name: { eq: 'name' }, category: { eq: 'category' } },
  keyword: ['name'],
  order: ['t.name'],
  map: (r) => {
    const out: ConfigValue = { name: r.name, category: r.category };
    if (r.value !== null) out.value = r.value;
    if (r.default_value !== null) out.defaultvalue = r.default_value;
    if (r.description !== null) out.description = r.description;
    return out;
  },
};

export class ConfigRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** Inserts the defaults that are missing (idempotent). */
  ensureDefaults(): void {
    this.ctx.tx(() => {
      for (const [name, d] of Object.entries(CONFIG_DEFAULTS)) {
        this.ctx.run(`INSERT INTO configuration (name, value, default_value, category, description, updated)
          VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, name, d.value, d.value, d.category,
        d.description, this.ctx.now());
      }
    });
  }

  get(name: string): string | undefined {
    return this.ctx.one<{ value: string | null }>('SELECT value FROM configuration WHERE name = ?', name)?.value
      ?? CONFIG_DEFAULTS[name]?.value;
  }

  /** A numeric setting; InvalidParameterError if it is set to something that is not a number. */
  number(name: string, fallback: number): number {
    const v = this.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidParameterError(`configuration ${name} is not a number: ${v}`);
    return n;
  }

  set(name: string, value: string): ConfigValue {
    if (name.endsWith('.overprovisioning.factor') && !(Number(value) > 0)) {
      throw new InvalidParameterError(`${name} must be a positive number, got ${value}`);
    }
    return this.ctx.tx(() => {
      this.ctx.run(`INSERT INTO configuration (name, value, category, updated) VALUES (?, ?, 'Advanced', ?)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated`, name, value, this.ctx.now());
      return this.list({ name }).items[0]!;
    });
  }

  list(params: ListParams = {}): ListResult<ConfigValue> {
    return listResources(this.ctx, SPEC, SYSTEM, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(params: ListParams, window: ScanWindow = {}): ScanChunk<ConfigValue> {
    return scanResources(this.ctx, SPEC, SYSTEM, params, window);
  }
}
