import { DeadLetterError, InvalidParameterError, NoInstanceError, NotFoundError } from '../../src/errors.js';
import type { Components } from './components.js';
import type { UndoAction, UndoExecutor } from './journal.js';
import { SYSTEM, vmState, type VmState } from './vm-state.js';

/**
 * Runs recorded compensations. Each one is idempotent (undoing what is already undone succeeds) and is
 * tried `compensationAttempts` times, with a fresh key per try: a receiver that remembers a failed key
 * would otherwise answer the same failure again.
 */
export function createUndoExecutor(c: Components): UndoExecutor {
  return async (action, key) => {
    let last: unknown;
    for (let attempt = 1; attempt <= c.config.compensationAttempts; attempt++) {
      try {
        await undoOnce(c, action, `${key}:${attempt}`);
        return;
      } catch (err) {
        last = err;
        c.log.warn('compensation failed; trying again', { op: action.op, attempt, error: (err as Error).message });
        if (attempt < c.config.compensationAttempts) await sleep(c, c.config.compensationBackoffMs * attempt);
      }
    }
    throw last;
  };
}

async function undoOnce(c: Components, action: UndoAction, key: string): Promise<void> {
  const a = action.args;
  switch (action.op) {
    case 'vmState':
      await gone(vmState(c.data, a['vmid']!, a['event']!, { to: a['to'] as VmState }));
      return;
    case 'releaseHost':
      await gone(c.data.allocation.releaseHost(a['vmid']!, a['hostid']));
      return;
    case 'releaseNic':
      await gone(c.network('releaseNic', { key, nicid: a['nicid']! }));
      return;
    case 'stopOnHost':
      // An agent that no longer exists runs no VM; the host's power reports settle the rest.
      await unreachableOk(c, a['hostname']!, c.compute(a['hostname']!, 'stopVm', { key, vmUuid: a['vmid']!, forced: true }, key));
      return;
    case 'abortMigration':
      await unreachableOk(c, a['hostname']!, c.compute(a['hostname']!, 'migrateVm', { phase: 'abort', key, vmUuid: a['vmid']! }, key));
      return;
    case 'detachVolume':
      await gone(c.data.volumes.detach(SYSTEM, a['volumeid']!), InvalidParameterError);
      return;
    case 'releasePublicIp':
      await gone(c.network('releasePublicIp', { key, ipid: a['ipid']!, scope: SYSTEM }));
  }
}

/** Undoing something that no longer exists is done. */
async function gone(p: Promise<unknown>, also?: abstract new (...args: never[]) => Error): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NotFoundError || (also !== undefined && err instanceof also)) return;
    throw err;
  }
}

async function unreachableOk(c: Components, host: string, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof NoInstanceError || err instanceof DeadLetterError)) throw err;
    c.log.warn('host agent unreachable during compensation; its power reports will settle the VM', { host });
  }
}

function sleep(c: Components, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => { c.clock.setTimeout(resolve, ms); });
}
