import type { StoreContext } from './context.js';
import { DEFAULT_ROLES } from './repos/accounts.js';
import type { ConfigRepository } from './repos/config.js';

/** Internal keys of the system account, which owns built-in templates and system events. */
export interface SystemOwner {
  accountId: number;
  domainId: number;
}

export const SYSTEM_ACCOUNT_NAME = 'system';

/**
 * Rows every database needs before anything else: the default roles, the ROOT domain, the system
 * account and the default global settings. Idempotent, one transaction.
 */
export function bootstrap(ctx: StoreContext, config: ConfigRepository): SystemOwner {
  return ctx.tx(() => {
    const now = ctx.now();
    for (const r of DEFAULT_ROLES) {
      ctx.run('INSERT INTO role (uuid, name, type, description, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
        ctx.uuid(), r.name, r.type, r.description, now);
    }
    let root = ctx.one<{ id: number }>("SELECT id FROM domain WHERE path = '/' AND removed IS NULL");
    if (root === undefined) {
      const res = ctx.run("INSERT INTO domain (uuid, name, parent_id, path, level, created) VALUES (?, 'ROOT', NULL, '/', 0, ?)",
        ctx.uuid(), now);
      root = { id: Number(res.lastInsertRowid) };
    }
    let sys = ctx.one<{ id: number }>('SELECT id FROM account WHERE domain_id = ? AND name = ? AND removed IS NULL',
      root.id, SYSTEM_ACCOUNT_NAME);
    if (sys === undefined) {
      const role = ctx.one<{ id: number }>("SELECT id FROM role WHERE type = 'Admin' ORDER BY id LIMIT 1")!;
      const res = ctx.run('INSERT INTO account (uuid, name, domain_id, role_id, created) VALUES (?, ?, ?, ?, ?)',
        ctx.uuid(), SYSTEM_ACCOUNT_NAME, root.id, role.id, now);
      sys = { id: Number(res.lastInsertRowid) };
    }
    config.ensureDefaults();
    return { accountId: sys.id, domainId: root.id };
  });
}
