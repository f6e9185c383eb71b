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
 * Global settings the components read, with CloudStack's names and defaults: every one is read where
 * it is used, at each use, so a change applies at once. Only these are listed and can be updated
 * through the API (listConfigurations / updateConfiguration). Written once at bootstrap (existing
 * values are kept); `set` changes them at run time.
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
  'start.retry': { value: '10', category: 'Advanced', description: 'Start attempts on different hosts before failing' },
  'cluster.cpu.allocated.capacity.notificationthreshold': { value: '0.75', category: 'Alert',
    description: 'Allocated CPU fraction above which a cluster or host is flagged (the metrics lists)' },
  'cluster.cpu.allocated.capacity.disablethreshold': { value: '0.85', category: 'Alert',
    description: 'Allocated CPU fraction above which a cluster or host is flagged as past its disable threshold (the metrics lists)' },
  'cluster.memory.allocated.capacity.notificationthreshold': { value: '0.75', category: 'Alert',
    description: 'Allocated memory fraction above which a cluster or host is flagged (the metrics lists)' },
  'cluster.memory.allocated.capacity.disablethreshold': { value: '0.85', category: 'Alert',
    description: 'Allocated memory fraction above which a cluster or host is flagged as past its disable threshold (the metrics lists)' },
  'cluster.storage.capacity.notificationthreshold': { value: '0.75', category: 'Alert',
    description: 'Used fraction of a primary storage pool above which it is flagged (the metrics lists)' },
  'pool.storage.capacity.disablethreshold': { value: '0.85', category: 'Alert',
    description: 'Used fraction of a primary storage pool above which it is flagged as past its disable threshold (the metrics lists)' },
  'cluster.storage.allocated.capacity.notificationthreshold': { value: '0.75', category: 'Alert',
    description: 'Allocated fraction of a primary storage pool above which it is flagged (the metrics lists)' },
  'pool.storage.allocated.capacity.disablethreshold': { value: '0.85', category: 'Alert',
    description: 'Allocated fraction of a primary storage pool above which it is flagged as past its disable threshold (the metrics lists)' },
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

/** The settings of CONFIG_DEFAULTS only: the table also holds internal records (the seed's). */
const SETTINGS_SPEC: ListSpec<Row, ConfigValue> = {
  ...SPEC,
  // The names are this module's constants (no quote in them), so they can be written into the SQL.
  where: `t.name IN (${Object.keys(CONFIG_DEFAULTS).map((n) => `'${n}'`).join(', ')})`,
};

/** The value a setting accepts: a number where its default is one. */
function checkSettingValue(name: string, value: string): void {
  const d = CONFIG_DEFAULTS[name];
  if (d === undefined) throw new InvalidParameterError(`Config parameter with name ${name} doesn't exist`);
  if (Number.isFinite(Number(d.value)) && (value.trim() === '' || !Number.isFinite(Number(value)))) {
    throw new InvalidParameterError(`${name} takes a number, got ${JSON.stringify(value)}`);
  }
}

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

  /** updateConfiguration: changes one of CONFIG_DEFAULTS (InvalidParameterError for any other name or a bad value). */
  update(name: string, value: string): ConfigValue {
    checkSettingValue(name, value);
    this.set(name, value);
    return this.listSettings({ name }).items[0]!;
  }

  /** listConfigurations: the settings of CONFIG_DEFAULTS only. */
  listSettings(params: ListParams = {}): ListResult<ConfigValue> {
    return listResources(this.ctx, SETTINGS_SPEC, SYSTEM, params);
  }

  /** Every match of `listSettings`, chunk by chunk (see pagination.ts). */
  scanSettings(params: ListParams, window: ScanWindow = {}): ScanChunk<ConfigValue> {
    return scanResources(this.ctx, SETTINGS_SPEC, SYSTEM, params, window);
  }

  list(params: ListParams = {}): ListResult<ConfigValue> {
    return listResources(this.ctx, SPEC, SYSTEM, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(params: ListParams, window: ScanWindow = {}): ScanChunk<ConfigValue> {
    return scanResources(this.ctx, SPEC, SYSTEM, params, window);
  }
}
