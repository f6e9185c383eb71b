/**
 * The data actor waiting for a database that cannot be reached (PostgreSQL restarting): calls wait on
 * a timer, in order, while the process stays responsive; they fail with ResourceUnavailableError after
 * unavailableRetryMs; a call whose caller gave up meanwhile is never run. The database here is an
 * in-memory store whose transactions fail as a lost PostgreSQL connection does while `down` is set.
 */
import { expect } from 'chai';
import { dataActor } from '../../../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol, dataClient } from '../../../actors/data/protocol.js';
import { DataStore, SYSTEM } from '../../../actors/data/store/index.js';
import { PostgresError } from '../../../actors/data/store/sql/postgres-connection.js';
import { seedLab } from '../../../actors/data/store/seed.js';
import { ResourceUnavailableError, TimeoutError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { openTestStore } from '../../helpers/test-store.js';

/** What PostgresConnection throws when the server cannot be reached (its retry window spent). */
function lostConnection(): ResourceUnavailableError {
  return new ResourceUnavailableError('PostgreSQL at postgresql://test has been unreachable for 0 ms (unavailableRetryMs): connect ECONNREFUSED',
    { cause: new PostgresError({ message: 'connect ECONNREFUSED 127.0.0.1:1', connection: true }, 'BEGIN ISOLATION LEVEL SERIALIZABLE') });
}

describe('data actor: waiting for an unreachable database', () => {
  let store: DataStore;
  let nodes: Node[];
  const db = { down: false };

  async function start(unavailableRetryMs: number): Promise<void> {
    store = openTestStore();
    seedLab(store, { hosts: 1 });
    const flaky = new Proxy(store, {
      get(target, key) {
        if (key === 'transaction') return <T>(fn: () => T): T => { if (db.down) throw lostConnection(); return target.transaction(fn); };
        return Reflect.get(target, key) as unknown;
      },
    });
    const hub = new InprocHub();
    nodes = ['data-node', 'client-node'].map((id) => new Node({ nodeId: id, transport: new InprocTransport({ nodeId: id, hub }), logger: silentLogger }));
    for (const n of nodes) await n.start();
    nodes[0]!.system.spawn(DATA_PATH, dataActor({ store: flaky, maxCallsPerCommit: 1, unavailableRetryMs }));
  }
  const client = (timeoutMs = 10_000) => {
    const ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
    return dataClient((body) => ref.ask('call', body, { timeoutMs }));
  };
  /** The test's events in the order they were written. */
  const events = (): string[] => store.ctx.all<{ d: string }>("SELECT description AS d FROM event WHERE description LIKE 'wait-test%' ORDER BY id")
    .map((r) => r.d);

  afterEach(async () => {
    db.down = false;
    for (const n of nodes) await n.stop();
    store.close();
  });

  it('holds calls while the database is down, keeps the process responsive, and runs them in order once it is back', async () => {
    await start(5_000);
    db.down = true;
    const t0 = Date.now();
    const calls = ['wait-test a', 'wait-test b', 'wait-test c'].map((d) => client().events.create(SYSTEM, { type: 'TEST.WAIT', description: d }));
    // The thread is free meanwhile: timers fire on time.
    const ticks: number[] = [];
    for (let i = 0; i < 5; i++) { const s = Date.now(); await new Promise((r) => setTimeout(r, 20)); ticks.push(Date.now() - s); }
    expect(Math.max(...ticks)).to.be.below(200);
    setTimeout(() => { db.down = false; }, 400);
    await Promise.all(calls);
    expect(Date.now() - t0).to.be.within(350, 3_000);
    expect(events()).to.deep.equal(['wait-test a', 'wait-test b', 'wait-test c']);
  });

  it('fails a call after unavailableRetryMs, saying so, without running it', async () => {
    await start(300);
    db.down = true;
    const t0 = Date.now();
    const err = await client().events.create(SYSTEM, { type: 'TEST.WAIT', description: 'wait-test late' }).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).to.be.instanceOf(ResourceUnavailableError);
    expect((err as Error).message).to.match(/has been unreachable for 300 ms \(unavailableRetryMs, --database-unavailable-retry\): connect ECONNREFUSED/);
    expect(took).to.be.within(280, 1_500);
    db.down = false;
    expect(events()).to.deep.equal([]);
    // Reachable again: calls run at once.
    await client().events.create(SYSTEM, { type: 'TEST.WAIT', description: 'wait-test after' });
    expect(events()).to.deep.equal(['wait-test after']);
  });

  it('never runs a call whose caller gave up while it waited', async () => {
    await start(5_000);
    db.down = true;
    const err = await client(200).events.create(SYSTEM, { type: 'TEST.WAIT', description: 'wait-test abandoned' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TimeoutError);
    db.down = false;
    await client().events.create(SYSTEM, { type: 'TEST.WAIT', description: 'wait-test next' });
    expect(events()).to.deep.equal(['wait-test next']);
  });
});
