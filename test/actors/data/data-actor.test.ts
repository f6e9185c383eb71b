import { expect } from 'chai';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { NotFoundError, UnknownMessageError, ValidationError } from '../../../src/errors.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { dataActor } from '../../../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol, dataClient } from '../../../actors/data/protocol.js';
import { DataStore, SYSTEM } from '../../../actors/data/store/index.js';
import { seedLab } from '../../../actors/data/store/seed.js';
import { openTestStore } from '../../helpers/test-store.js';

describe('data actor over a transport', () => {
  let store: DataStore;
  let nodes: Node[];

  beforeEach(async () => {
    store = openTestStore();
    seedLab(store, { hosts: 2 });
    const hub = new InprocHub();
    nodes = ['data-node', 'client-node'].map((id) => new Node({
      nodeId: id, transport: new InprocTransport({ nodeId: id, hub }), logger: silentLogger, strict: true,
    }));
    for (const n of nodes) await n.start();
    nodes[0]!.system.spawn(DATA_PATH, dataActor({ store, maxCallsPerCommit: 256 }));
  });

  afterEach(async () => {
    for (const n of nodes) await n.stop();
    store.close();
  });

  it('serves typed store operations to another node', async () => {
    const ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
    const data = dataClient((body) => ref.ask('call', body));
    const zones = await data.zones.list(SYSTEM, {});
    expect(zones.count).to.equal(1);
    const hosts = await data.hosts.list({ zoneid: zones.items[0]!.id });
    expect(hosts.count).to.equal(2);
    expect(hosts.items[0]).to.have.property('state', 'Up');
    const err = await data.zones.get(SYSTEM, '00000000-0000-0000-0000-000000000000').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
  });

  it('refuses operations outside the allowlist and malformed calls', async () => {
    const ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
    const e1 = await ref.ask('call', { repo: 'users', method: 'insert', args: [] }).catch((e: unknown) => e);
    expect(e1).to.be.instanceOf(UnknownMessageError);
    const e2 = await ref.ask('call', { repo: 'users' } as never).catch((e: unknown) => e);
    expect(e2).to.be.instanceOf(ValidationError);
  });

  it('runs a batch in one transaction, all or nothing', async () => {
    const ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
    const before = store.events.list(SYSTEM, {}).count;
    const err = await ref.ask('batch', {
      calls: [
        { repo: 'events', method: 'create', args: [SYSTEM, { type: 'TEST.EVENT', description: 'first' }] },
        { repo: 'zones', method: 'get', args: [SYSTEM, 'no-such-zone'] },
      ],
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect(store.events.list(SYSTEM, {}).count).to.equal(before);
    const status = await ref.ask('status', {});
    expect(status.schemaVersion).to.be.greaterThan(0);
  });

  it('group commit: calls sent together share a commit, and one failing call undoes only itself', async () => {
    const ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
    const data = dataClient((body) => ref.ask('call', body));
    const before = store.events.list(SYSTEM, {}).count;
    const results = await Promise.allSettled([
      data.events.create(SYSTEM, { type: 'TEST.ONE', description: 'kept' }),
      data.zones.get(SYSTEM, 'no-such-zone'),
      data.events.create(SYSTEM, { type: 'TEST.TWO', description: 'kept too' }),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).to.be.instanceOf(NotFoundError);
    expect(store.events.list(SYSTEM, {}).count).to.equal(before + 2);
  });
});
