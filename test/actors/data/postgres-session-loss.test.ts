/**
 * A PostgreSQL session that dies between two statements of one transaction (terminated by an
 * administrator, a pooler, idle_in_transaction_session_timeout) takes the transaction with it. The
 * connection must then run the whole transaction again, never carry on with the rest of it on a new
 * session, where each statement would commit on its own: the first write would be lost while the
 * operation reported success.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { PostgresConnection } from '../../../actors/data/store/sql/postgres-connection.js';
import { projectRoot } from '../../helpers/paths.js';
import { requirePostgres, startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';

/** Ends session `pid` from another process: this thread is blocked inside the transaction meanwhile. */
function terminateFromElsewhere(url: string, pid: number): void {
  const script = `const pg = require('pg'); const c = new pg.Client({ connectionString: ${JSON.stringify(url)} });
    c.connect().then(() => c.query('SELECT pg_terminate_backend($1)', [${pid}])).then(() => c.end());`;
  execFileSync(process.execPath, ['-e', script], { cwd: projectRoot() });
}

function blockingSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('PostgreSQL connection: a session lost inside a transaction', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let url: string;
  let admin: pg.Client;

  before(async function () {
    requirePostgres(this);
    server = await startPostgres();
    url = await server.createDatabase('session_loss');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)');
  });
  after(async () => {
    await admin?.end().catch(() => undefined);
    await server?.stop();
  });

  for (const outcome of ['commits', 'fails'] as const) {
    it(`runs the whole transaction again on a new session when it ${outcome === 'commits' ? 'then commits' : 'then fails'}: all of it or nothing`, async () => {
      await admin.query('TRUNCATE t');
      const conn = new PostgresConnection({ url, unavailableRetryMs: 5_000 });
      let attempts = 0;
      try {
        const run = (): string => conn.tx(() => {
          attempts++;
          conn.run('INSERT INTO t (v) VALUES (?)', [`first-${attempts}`]);
          if (attempts === 1) {
            terminateFromElsewhere(url, conn.one<{ pid: number }>('SELECT pg_backend_pid() AS pid', [])!.pid);
            blockingSleep(300); // the worker thread sees its session end
          }
          conn.run('INSERT INTO t (v) VALUES (?)', [`second-${attempts}`]);
          if (outcome === 'fails') throw new Error('the operation fails after both writes');
          return 'done';
        });
        if (outcome === 'commits') expect(run()).to.equal('done');
        else expect(run).to.throw('the operation fails after both writes');
      } finally {
        conn.close();
      }
      const rows = (await admin.query<{ v: string }>('SELECT v FROM t ORDER BY id')).rows.map((r) => r.v);
      expect(attempts).to.equal(2);
      expect(rows).to.deep.equal(outcome === 'commits' ? ['first-2', 'second-2'] : []);
    });
  }
});
