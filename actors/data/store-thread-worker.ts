/**
 * One member of the PostgreSQL store pool (see store-threads.ts): a thread with its own DataStore and
 * connection, running the calls it is given one at a time, each as one transaction.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CloudstackdError, InternalError, toWire } from '../../src/errors.js';
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

parentPort!.on('message', (msg: { id: number; work: StoreWork } | { close: true }) => {
  if ('close' in msg) {
    store.close();
    parentPort!.close();
    return;
  }
  let reply: StoreReply;
  try {
    reply = { id: msg.id, ok: true, value: perform(msg.work) };
  } catch (err) {
    const known = err instanceof CloudstackdError;
    reply = { id: msg.id, ok: false, known, error: toWire(known ? err : new InternalError((err as Error).message, { cause: err })) };
  }
  parentPort!.postMessage(reply);
});
