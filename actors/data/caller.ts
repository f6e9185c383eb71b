import { t, type Infer } from '../../src/schema.js';

/**
 * Who an operation is done for, declared once: the schema every protocol carries it with, and (inferred
 * from it) the type the store scopes by, the API authenticates into and the orchestrator keeps in a job.
 * Other components reach it through actors/data/protocol.ts; the store imports this file directly, so
 * that the store does not depend on its own protocol.
 */

const uuid = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });

/** CloudStack's three account types: root admin (1), domain admin (2), user (0). */
export const CallerRoleSchema = t.literal('admin', 'domainadmin', 'user');
export type CallerRole = Infer<typeof CallerRoleSchema>;

/**
 * An authenticated caller. Ids are public UUIDs; `domainPath` is informational ('ROOT/D1'): the store
 * derives the subtree from `domainId` and takes the role from the account's stored role, so a stale or
 * forged field cannot widen access.
 */
export const CallerSchema = t.object({
  accountId: uuid(), userId: uuid(), domainId: uuid(), domainPath: t.string({ maxLength: 1024 }),
  role: CallerRoleSchema,
});
export type Caller = Infer<typeof CallerSchema>;

/** The components' own identity (orchestrator, network...): unscoped access. Never built from a request. */
export const SYSTEM = 'system' as const;

/** A caller, or the components themselves. */
export const ScopeSchema = t.union(t.literal(SYSTEM), CallerSchema);
export type Scope = Infer<typeof ScopeSchema>;
