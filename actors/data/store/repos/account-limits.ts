import { LimitExceededError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';

/**
 * Account resource limits for VMs, as CloudStack's ResourceLimitService applies them at deploy time:
 * the number of user VMs, their CPU cores and their memory (MiB) per account, from the global settings
 * max.account.user.vms / max.account.cpus / max.account.memory (-1 = unlimited). Root admin accounts
 * are not limited. Checked in the same transaction as the insert, so concurrent deploys cannot
 * together pass a limit.
 */
export const ACCOUNT_LIMIT_SETTINGS = {
  vms: { name: 'max.account.user.vms', fallback: 20, type: 'user_vm' },
  cpus: { name: 'max.account.cpus', fallback: 40, type: 'cpu' },
  memory: { name: 'max.account.memory', fallback: 40960, type: 'memory' },
} as const;

/** VM states that no longer count against an account. */
const GONE = "('Destroyed', 'Expunging', 'Expunged', 'Error')";

export function checkVmLimits(ctx: StoreContext, accountId: number, add: { cpu: number; memory: number }): void {
  const acct = ctx.one<{ name: string; domain: string; type: string }>(`SELECT a.name, d.uuid AS domain, r.type FROM account a
    JOIN role r ON r.id = a.role_id JOIN domain d ON d.id = a.domain_id WHERE a.id = ?`, accountId);
  if (acct === undefined || acct.type === 'Admin') return;
  const used = ctx.one<{ n: number; cpu: number | null; mem: number | null }>(`SELECT COUNT(*) AS n, SUM(cpu_number) AS cpu,
    SUM(memory) AS mem FROM vm_instance WHERE account_id = ? AND removed IS NULL AND state NOT IN ${GONE}`, accountId)!;
  const want = { vms: used.n + 1, cpus: (used.cpu ?? 0) + add.cpu, memory: (used.mem ?? 0) + add.memory };
  for (const key of ['vms', 'cpus', 'memory'] as const) {
    const s = ACCOUNT_LIMIT_SETTINGS[key];
    const limit = setting(ctx, s.name, s.fallback);
    if (limit >= 0 && want[key] > limit) {
      throw new LimitExceededError(`Maximum number of resources of type '${s.type}' for account name=${acct.name} in domain id=${acct.domain} has been exceeded (limit ${limit}, would be ${want[key]}).`);
    }
  }
}

function setting(ctx: StoreContext, name: string, fallback: number): number {
  const v = ctx.one<{ value: string | null }>('SELECT value FROM configuration WHERE name = ?', name)?.value;
  const n = v === undefined || v === null ? fallback : Number(v);
  return Number.isFinite(n) ? n : fallback;
}
