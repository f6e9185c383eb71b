/**
 * One member of the PostgreSQL store pool (see store-threads.ts): a thread with its own DataStore and
 * connection, running the calls it is given one at a time, each as one transaction.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CloudstackdError, InternalError, TimeoutError, toWire } from '../../src/errors.js';
import { PostgresConnection } from './store/sql/postgres-connection.js';
import { deployHandlers, executeWork, isReadOnlyWork } from './call-executor.js';
import { isDataRead } from './protocol.js';
import type { DataStore } from './store/index.js';
import { DataStore as Store } from './store/index.js';
import type { PostgresOptions } from './store/sql/postgres-connection.js';
import type { StoreWork, StoreReply } from './store-threads.js';

const { postgres } = workerData as { postgres: PostgresOptions };
let store: DataStore;
try {
  store = Store.open({ postgres });
  parentPort!.postMessage({ ready: true });
} catch (err) {
  parentPort!.postMessage({ ready: false, error: toWire(err instanceof CloudstackdError ? err : new InternalError((err as Error).message)) });
  throw err;
}

const ops = deployHandlers(store);

function perform(w: StoreWork): unknown {
  return store.transaction(() => executeWork(store, ops, w), { readOnly: isReadOnlyWork(w, isDataRead) });
}

const conn = store.sql instanceof PostgresConnection ? store.sql : undefined;

parentPort!.on('message', (msg: { id: number; work: StoreWork; deadline?: number; arrived?: number } | { close: true }) => {
  if ('close' in msg) {
    store.close();
    parentPort!.close();
    return;
  }
  let reply: StoreReply;
  try {
    // A write its caller no longer waits for must not land later (the caller may have moved on).
    if (msg.deadline !== undefined && Date.now() >= msg.deadline) {
      throw new TimeoutError('the data call was not run: its caller\'s deadline passed while it waited for a connection');
    }
    conn?.setCall({ arrived: msg.arrived, deadline: msg.deadline });
    reply = { id: msg.id, ok: true, value: perform(msg.work) };
  } catch (err) {
    const known = err instanceof CloudstackdError;
    reply = { id: msg.id, ok: false, known, error: toWire(known ? err : new InternalError((err as Error).message, { cause: err })) };
  }
  conn?.setCall(undefined);
  parentPort!.postMessage(reply);
});
