import { InvalidParameterError, PermissionDeniedError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { displayDomainPath } from '../format.js';
import { resolveCaller, SYSTEM, type Scope } from '../scoping.js';

/**
 * Resource limits of accounts and domains (CloudStack's ResourceLimitService), for the types cloudstackd
 * enforces at deploy time: user VMs, their CPU cores and their memory (MiB). An account's limit is its
 * own row (updateResourceLimit), else the max.account.* setting; root admin accounts are never limited.
 * A domain's is its own row, else none (cloudstackd has no max.domain.* defaults); ROOT is never limited.
 */
export const LIMITED_TYPES = {
  user_vm: { number: 0, setting: 'max.account.user.vms', fallback: 20 },
  cpu: { number: 8, setting: 'max.account.cpus', fallback: 40 },
  memory: { number: 9, setting: 'max.account.memory', fallback: 40960 },
} as const;

export type LimitedType = keyof typeof LIMITED_TYPES;
export const LIMITED_TYPE_NAMES = Object.keys(LIMITED_TYPES) as LimitedType[];

/** listResourceLimits' / updateResourceLimit's `resourcelimit` object. */
export interface ResourceLimit {
  resourcetype: string;
  resourcetypename: LimitedType;
  /** -1: no limit. */
  max: number;
  account?: string;
  domainid: string;
  domain: string;
  domainpath: string;
}

/** Whose limits: an account or a domain, by public id. */
export type LimitOwner = { accountid: string } | { domainid: string };

export interface UpdateLimitInput {
  type: LimitedType;
  /** -1 for no limit. */
  max: number;
}

interface AccountRow { id: number; uuid: string; name: string; domain_id: number; type: string }
interface DomainRow { id: number; uuid: string; name: string; path: string; parent_id: number | null }

/** The effective limit of an account (its row, else the setting); -1 for root admins and "unlimited". */
export function accountLimit(ctx: StoreContext, account: { id: number; type: string }, type: LimitedType): number {
  if (account.type === 'Admin') return -1;
  const row = ctx.one<{ max: number }>('SELECT max FROM resource_limit WHERE account_id = ? AND type = ?', account.id, type);
  const max = row?.max ?? setting(ctx, LIMITED_TYPES[type].setting, LIMITED_TYPES[type].fallback);
  return max < 0 ? -1 : max;
}

/** The limit set on a domain itself (-1 when none): ancestors are checked one by one by the caller. */
export function domainLimit(ctx: StoreContext, domainId: number, type: LimitedType): number {
  const row = ctx.one<{ max: number }>('SELECT max FROM resource_limit WHERE domain_id = ? AND type = ?', domainId, type);
  return row === undefined || row.max < 0 ? -1 : row.max;
}

function setting(ctx: StoreContext, name: string, fallback: number): number {
  const v = ctx.one<{ value: string | null }>('SELECT value FROM configuration WHERE name = ?', name)?.value;
  const n = v === undefined || v === null ? fallback : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export class ResourceLimitRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** The effective limits of one account or domain, one per limited type (or only `type`). */
  list(scope: Scope, owner: LimitOwner, type?: LimitedType): ResourceLimit[] {
    const types = type === undefined ? LIMITED_TYPE_NAMES : [type];
    if ('accountid' in owner) {
      const a = this.account(owner.accountid);
      this.checkSees(scope, this.domainById(a.domain_id));
      return types.map((t) => this.item(t, accountLimit(this.ctx, a, t), this.domainById(a.domain_id), a.name));
    }
    const d = this.domain(owner.domainid);
    this.checkSees(scope, d);
    return types.map((t) => this.item(t, d.parent_id === null ? -1 : domainLimit(this.ctx, d.id, t), d));
  }

  /**
   * updateResourceLimit, with ResourceLimitManagerImpl's rules: a root admin account takes only -1; no
   * one limits ROOT; a domain admin changes neither its own account's nor its own domain's limits; a
   * domain's limit is at most its parent's.
   */
  update(scope: Scope, owner: LimitOwner, input: UpdateLimitInput): ResourceLimit {
    if (!Number.isInteger(input.max) || input.max < -1) {
      throw new InvalidParameterError("Please specify either '-1' for an infinite limit, or a limit that is at least '0'.");
    }
    return this.ctx.tx(() => {
      const rc = scope === SYSTEM ? undefined : resolveCaller(this.ctx, scope);
      if ('accountid' in owner) {
        const a = this.account(owner.accountid);
        const d = this.domainById(a.domain_id);
        this.checkSees(scope, d);
        if (a.type === 'Admin' && input.max !== -1) throw new InvalidParameterError('Only -1 limit is supported for Root Admin accounts');
        if (rc !== undefined && rc.role === 'domainadmin' && rc.accountId === a.id) {
          throw new PermissionDeniedError(`Unable to update resource limit for their own account ${a.uuid}, permission denied`);
        }
        this.save('account_id', a.id, input);
        return this.item(input.type, accountLimit(this.ctx, a, input.type), d, a.name);
      }
      const d = this.domain(owner.domainid);
      this.checkSees(scope, d);
      if (d.parent_id === null) throw new PermissionDeniedError(`Cannot update resource limit for ROOT domain ${d.uuid}, permission denied`);
      if (rc !== undefined && rc.role === 'domainadmin' && rc.domainId === d.id) {
        throw new PermissionDeniedError(`Unable to update resource limit for domain ${d.uuid}, permission denied`);
      }
      const parent = this.domainById(d.parent_id);
      const parentMax = parent.parent_id === null ? -1 : domainLimit(this.ctx, parent.id, input.type);
      if (parentMax >= 0 && input.max > parentMax) {
        throw new InvalidParameterError(`Domain ${d.name} (id: ${parent.uuid}) has maximum allowed resource limit ${parentMax} for ` +
          `${input.type}, please specify a value less than or equal to ${parentMax}`);
      }
      this.save('domain_id', d.id, input);
      return this.item(input.type, domainLimit(this.ctx, d.id, input.type), d);
    });
  }

  private save(column: 'account_id' | 'domain_id', ownerId: number, input: UpdateLimitInput): void {
    const now = this.ctx.now();
    const changed = this.ctx.run(`UPDATE resource_limit SET max = ?, updated = ? WHERE ${column} = ? AND type = ?`,
      input.max, now, ownerId, input.type).changes;
    if (changed === 0) {
      this.ctx.run(`INSERT INTO resource_limit (type, ${column}, max, updated) VALUES (?, ?, ?, ?)`, input.type, ownerId, input.max, now);
    }
  }

  private item(type: LimitedType, max: number, d: DomainRow, account?: string): ResourceLimit {
    const out: ResourceLimit = { resourcetype: String(LIMITED_TYPES[type].number), resourcetypename: type, max,
      domainid: d.uuid, domain: d.name, domainpath: displayDomainPath(d.path) };
    if (account !== undefined) out.account = account;
    return out;
  }

  /** A domain the caller may not see is answered as one that does not exist (CloudStack's checkAccess). */
  private checkSees(scope: Scope, d: DomainRow): void {
    if (scope === SYSTEM) return;
    const rc = resolveCaller(this.ctx, scope);
    if (rc.role === 'admin' || (rc.role === 'domainadmin' && d.path.startsWith(rc.domainPath)) || rc.domainId === d.id) return;
    throw new PermissionDeniedError(`Account ${scope.accountId} does not have permission to access domain ${d.uuid}`);
  }

  private account(uuid: string): AccountRow {
    const a = this.ctx.one<AccountRow>(`SELECT a.id, a.uuid, a.name, a.domain_id, r.type FROM account a JOIN role r ON r.id = a.role_id
      WHERE a.uuid = ? AND a.removed IS NULL`, uuid);
    if (a === undefined) throw new InvalidParameterError(`Unable to find account ${uuid}`);
    return a;
  }

  private domain(uuid: string): DomainRow {
    const d = this.ctx.one<DomainRow>('SELECT id, uuid, name, path, parent_id FROM domain WHERE uuid = ? AND removed IS NULL', uuid);
    if (d === undefined) throw new InvalidParameterError(`Unable to find domain ${uuid}`);
    return d;
  }

  private domainById(id: number): DomainRow {
    return this.ctx.one<DomainRow>('SELECT id, uuid, name, path, parent_id FROM domain WHERE id = ?', id)!;
  }
}
