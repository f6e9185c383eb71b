import { UnknownMessageError } from '../../src/errors.js';
import type { Fence } from '../../src/lease.js';
import { deployHandlers, type DeployHandlers } from './deploy-handlers.js';
import { isDataMethod, type DataCall } from './protocol.js';
import type { DataStore } from './store/index.js';

/** The work one data message asks for: a generic call, a batch, or a named operation. */
export type StoreWork =
  | { kind: 'call'; call: DataCall }
  | { kind: 'batch'; calls: DataCall[]; fence?: Fence }
  | { kind: 'op'; name: keyof DeployHandlers; req: object };

/** Named operations that only read (run as read-only transactions on PostgreSQL). */
const READ_OPS: ReadonlySet<string> = new Set(['startContext']);

export function isReadOnlyWork(w: StoreWork, isRead: (c: DataCall) => boolean): boolean {
  if (w.kind === 'call') return isRead(w.call);
  if (w.kind === 'batch') return w.calls.every(isRead);
  return READ_OPS.has(w.name);
}

/** The fence a piece of work carries, if any. */
export function fenceOf(w: StoreWork): Fence | undefined {
  if (w.kind === 'call') return w.call.fence;
  if (w.kind === 'batch') return w.fence ?? w.calls.find((c) => c.fence !== undefined)?.fence;
  return (w.req as { fence?: Fence }).fence;
}

/** Runs a piece of work on a store (inside the caller's transaction). */
export function executeWork(store: DataStore, ops: DeployHandlers, w: StoreWork, onFenced?: (f: Fence, err: unknown) => void): unknown {
  if (w.kind === 'call') return executeCall(store, w.call, onFenced);
  if (w.kind === 'batch') return executeBatch(store, w.calls, w.fence, onFenced);
  const fence = fenceOf(w);
  if (fence !== undefined) checkFence(store, fence, onFenced);
  return (ops[w.name] as (req: object) => unknown)(w.req);
}

export { deployHandlers };

function checkFence(store: DataStore, fence: Fence, onFenced?: (f: Fence, err: unknown) => void): void {
  try {
    store.leases.checkFence(fence);
  } catch (err) {
    onFenced?.(fence, err);
    throw err;
  }
}

/**
 * Runs one data call on a store: only allowlisted (repository, method) pairs, the lease fence checked
 * inside the call's own transaction (so a write is never made after its lease moved on). Shared by the
 * data actor (SQLite, in its thread) and the store threads (PostgreSQL).
 */
export function executeCall(store: DataStore, c: DataCall, onFenced?: (f: Fence, err: unknown) => void): unknown {
  if (!isDataMethod(c.repo, c.method)) throw new UnknownMessageError(`the data service has no operation ${c.repo}.${c.method}`);
  if (c.fence !== undefined) checkFence(store, c.fence, onFenced);
  const repo = (store as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[c.repo]!;
  const result = repo[c.method]!.apply(repo, c.args);
  return result === undefined ? null : result;
}

/** A batch: every call in one transaction, the batch's fence applied to calls without their own. */
export function executeBatch(store: DataStore, calls: readonly DataCall[], fence: Fence | undefined,
  onFenced?: (f: Fence, err: unknown) => void): unknown[] {
  return calls.map((c) => executeCall(store, fence === undefined || c.fence !== undefined ? c : { ...c, fence }, onFenced));
}
