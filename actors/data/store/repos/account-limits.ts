import { LimitExceededError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { subtreeRange } from '../scoping.js';
import { accountLimit, domainLimit, LIMITED_TYPE_NAMES, type LimitedType } from './resource-limits.js';

/**
 * Resource limits for VMs, as CloudStack's ResourceLimitService applies them at deploy time: the number
 * of user VMs, their CPU cores and their memory (MiB), against the account's limit (its own, set by
 * updateResourceLimit, else max.account.user.vms / max.account.cpus / max.account.memory; -1 =
 * unlimited) and then against the limit of each domain above it that has one, counting every VM of
 * that domain's subtree. Root admin accounts are not limited. Checked in the same transaction as the
 * insert, so concurrent deploys cannot together pass a limit.
 */

/** VM states that no longer count against an account. */
const GONE = "('Destroyed', 'Expunging', 'Expunged', 'Error')";

type Usage = Record<LimitedType, number>;

export function checkVmLimits(ctx: StoreContext, accountId: number, add: { cpu: number; memory: number }): void {
  const acct = ctx.one<{ id: number; name: string; domain_id: number; domain: string; type: string }>(`SELECT a.id, a.name, a.domain_id,
    d.uuid AS domain, r.type FROM account a JOIN role r ON r.id = a.role_id JOIN domain d ON d.id = a.domain_id WHERE a.id = ?`, accountId);
  if (acct === undefined || acct.type === 'Admin') return;
  const mine = usage(ctx, 'v.account_id = ?', [accountId], add);
  for (const type of LIMITED_TYPE_NAMES) {
    const limit = accountLimit(ctx, acct, type);
    if (limit >= 0 && mine[type] > limit) {
      throw new LimitExceededError(`Maximum number of resources of type '${type}' for account name=${acct.name} in domain id=${acct.domain} has been exceeded (limit ${limit}, would be ${mine[type]}).`);
    }
  }
  // The domains above the account, nearest first; ROOT (no parent) is never limited.
  let domainId: number | null = acct.domain_id;
  while (domainId !== null) {
    const d: { uuid: string; path: string; parent_id: number | null } = ctx.one('SELECT uuid, path, parent_id FROM domain WHERE id = ?', domainId)!;
    if (d.parent_id === null) break;
    const limits = LIMITED_TYPE_NAMES.map((type) => [type, domainLimit(ctx, domainId!, type)] as const).filter(([, max]) => max >= 0);
    if (limits.length > 0) {
      const [lo, hi] = subtreeRange(d.path);
      const used = usage(ctx, 'v.account_id IN (SELECT a.id FROM account a JOIN domain dd ON dd.id = a.domain_id WHERE dd.path >= ? AND dd.path < ?)', [lo, hi], add);
      for (const [type, limit] of limits) {
        if (used[type] > limit) {
          throw new LimitExceededError(`Maximum number of resources of type '${type}' for domain id=${d.uuid} has been exceeded (limit ${limit}, would be ${used[type]}).`);
        }
      }
    }
    domainId = d.parent_id;
  }
}

/** What the VMs matching `where` use, plus one more VM of `add`'s size. */
function usage(ctx: StoreContext, where: string, args: unknown[], add: { cpu: number; memory: number }): Usage {
  const u = ctx.one<{ n: number; cpu: number | null; mem: number | null }>(`SELECT COUNT(*) AS n, SUM(v.cpu_number) AS cpu,
    SUM(v.memory) AS mem FROM vm_instance v WHERE ${where} AND v.removed IS NULL AND v.state NOT IN ${GONE}`, ...args)!;
  return { user_vm: Number(u.n) + 1, cpu: Number(u.cpu ?? 0) + add.cpu, memory: Number(u.mem ?? 0) + add.memory };
}
