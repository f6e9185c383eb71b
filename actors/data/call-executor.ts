import { UnknownMessageError } from '../../src/errors.js';
import type { Fence } from '../../src/lease.js';
import { isDataMethod, type DataCall } from './protocol.js';
import type { DataStore } from './store/index.js';

/**
 * Runs one data call on a store: only allowlisted (repository, method) pairs, the lease fence checked
 * inside the call's own transaction (so a write is never made after its lease moved on). Shared by the
 * data actor (SQLite, in its thread) and the store threads (PostgreSQL).
 */
export function executeCall(store: DataStore, c: DataCall, onFenced?: (f: Fence, err: unknown) => void): unknown {
  if (!isDataMethod(c.repo, c.method)) throw new UnknownMessageError(`the data service has no operation ${c.repo}.${c.method}`);
  if (c.fence !== undefined) {
    try {
      store.leases.checkFence(c.fence);
    } catch (err) {
      onFenced?.(c.fence, err);
      throw err;
    }
  }
  const repo = (store as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[c.repo]!;
  const result = repo[c.method]!.apply(repo, c.args);
  return result === undefined ? null : result;
}

/** A batch: every call in one transaction, the batch's fence applied to calls without their own. */
export function executeBatch(store: DataStore, calls: readonly DataCall[], fence: Fence | undefined,
  onFenced?: (f: Fence, err: unknown) => void): unknown[] {
  return calls.map((c) => executeCall(store, fence === undefined || c.fence !== undefined ? c : { ...c, fence }, onFenced));
}
