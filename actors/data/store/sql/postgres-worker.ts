/**
 * The thread that owns the PostgreSQL connection. The store is synchronous, so the data actor's thread
 * posts one request at a time and sleeps on a shared flag until this thread has the answer (see
 * postgres-connection.ts); the answer travels back as a message it then takes with
 * receiveMessageOnPort. node-postgres (`pg`) does the protocol work here.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';

export interface WorkerConfig {
  connectionString: string;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
}

export type WorkerRequest =
  /**
   * `inTransaction`: the statement belongs to a transaction already begun on the current session. If
   * that session is gone, it must fail (the server rolled the transaction back) instead of running on a
   * new session, where it would commit on its own and the rest of the transaction after it.
   */
  | { op: 'query'; text: string; params: unknown[]; inTransaction?: boolean; name?: string }
  | { op: 'close' };

export interface WorkerError { message: string; code?: string; detail?: string; connection: boolean }
export type WorkerReply =
  | { ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { ok: false; error: WorkerError };

// BIGINT (20) and NUMERIC (1700, what SUM and AVG of bigint give) arrive as strings by default so that
// no precision is lost; the store's integers are epoch milliseconds, counts and sizes, all far below
// 2^53, and SQLite gives them as numbers, so here they are numbers too.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));
// Booleans only come from expressions (EXISTS, comparisons in a select list): the store's flags are 0/1
// integers, as SQLite gives such expressions, so these are 0/1 too.
pg.types.setTypeParser(16, (v) => (v === 't' ? 1 : 0));

const { config, port, flag } = workerData as { config: WorkerConfig; port: MessagePort; flag: Int32Array };
let client: pg.Client | undefined;
let broken = false;

async function connected(): Promise<pg.Client> {
  if (client !== undefined && !broken) return client;
  if (client !== undefined) { client.end().catch(() => undefined); client = undefined; }
  const c = new pg.Client({
    connectionString: config.connectionString,
    statement_timeout: config.statementTimeoutMs,
    connectionTimeoutMillis: config.connectTimeoutMs,
    application_name: config.applicationName,
    // The store's statements are short OLTP reads and writes: parallel workers cost more to start than
    // they save (25-60 ms measured on two cores), and the 15-table VM select is written in its join
    // order, which the planner otherwise spends up to 100+ ms re-deriving (1.2 ms with the limit).
    options: '-c max_parallel_workers_per_gather=0 -c join_collapse_limit=1',
  });
  // A lost connection is reported on the next request (as a connection error, which the store retries).
  c.on('error', () => { broken = true; });
  broken = false;
  await c.connect();
  client = c;
  return c;
}

function isConnectionError(err: { code?: string; message?: string }): boolean {
  const code = err.code ?? '';
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(err.message ?? '');
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  if (req.op === 'close') {
    await client?.end().catch(() => undefined);
    client = undefined;
    return { ok: true, rows: [], rowCount: 0 };
  }
  if (req.inTransaction === true && (client === undefined || broken)) {
    return { ok: false, error: { message: 'the connection was lost inside a transaction (the server rolled it back)', connection: true } };
  }
  try {
    const c = await connected();
    // A named statement is parsed and planned once per connection (a third of the round trip's cost).
    const res = await c.query({ text: req.text, values: req.params, ...(req.name === undefined ? {} : { name: req.name }) });
    return { ok: true, rows: res.rows as Record<string, unknown>[], rowCount: res.rowCount ?? 0 };
  } catch (e) {
    const err = e as { code?: string; message?: string; detail?: string };
    const connection = isConnectionError(err);
    if (connection) broken = true;
    return { ok: false, error: { message: err.message ?? String(e), connection,
      ...(err.code === undefined ? {} : { code: err.code }), ...(err.detail === undefined ? {} : { detail: err.detail }) } };
  }
}

port.on('message', (req: WorkerRequest) => {
  void handle(req).then((reply) => {
    port.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
