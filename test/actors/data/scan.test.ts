import { expect } from 'chai';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { InvalidParameterError, LimitExceededError } from '../../../src/errors.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { dataActor } from '../../../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol, dataClient } from '../../../actors/data/protocol.js';
import type { ScanCursor } from '../../../actors/data/store/pagination.js';
import { memoryLab, type Lab } from './fixtures.js';

/** Issue 18: "one page" (list) and "everything" (scan, and the client's all*) are different reads. */
describe('data store: one page versus every row', () => {
  let t: Lab;
  beforeEach(() => { t = memoryLab(); });
  afterEach(() => t.store.close());

  /** `n` more routing hosts (the lab has 2). */
  function hosts(n: number): string[] {
    return t.store.transaction(() => Array.from({ length: n }, (_v, i) => t.store.hosts.create({ zoneid: t.lab.zoneid, podid: t.lab.podid,
      clusterid: t.lab.clusterid, name: `extra-${String(i).padStart(4, '0')}`, hypervisor: 'Simulator', cpunumber: 4, cpuspeed: 2000,
      memory: 1024 ** 3, state: 'Up' }).id));
  }

  it('a list without page/pagesize refuses more matches than one page instead of cutting them', () => {
    hosts(501);
    expect(() => t.store.hosts.list({})).to.throw(LimitExceededError, /503 rows match.*scan/);
    expect(() => t.store.hosts.list({ pagesize: -1 })).to.throw(InvalidParameterError, /scan/);
    expect(t.store.hosts.list({ page: 2, pagesize: 500 })).to.include({ count: 503 }).and.to.have.property('items').with.length(3);
    expect(t.store.hosts.list({ name: 'extra-0007' }).items).to.have.length(1);
  });

  it('a scan returns every row once, chunk by chunk, even when rows go away between chunks', () => {
    const ids = hosts(600);
    const first = t.store.hosts.scan({}, { limit: 100, count: true });
    expect(first.count).to.equal(602);
    expect(first.items).to.have.length(100);
    const seen = first.items.map((h) => h.id);
    // One host already read and one not read yet are removed while the scan is under way.
    t.store.hosts.transition(ids[10]!, 'Remove');
    t.store.hosts.transition(ids[450]!, 'Remove');
    let next: ScanCursor | null = first.next;
    while (next !== null) {
      const c = t.store.hosts.scan({}, { after: next, limit: 100 });
      expect(c).to.not.have.property('count');
      seen.push(...c.items.map((h) => h.id));
      next = c.next;
    }
    expect(new Set(seen).size).to.equal(seen.length);
    expect(seen).to.include(ids[10]).and.not.include(ids[450]);
    expect(seen).to.have.length(601);
    expect(seen.slice(2)).to.deep.equal(ids.filter((id) => id !== ids[450]));
  });

  it('scans lists sorted by other keys (configuration by name) in their page order', () => {
    const all = t.store.config.list({ page: 1, pagesize: 500 }).items.map((c) => c.name);
    const scanned: string[] = [];
    let after: ScanCursor | undefined;
    for (;;) {
      const c = t.store.config.scan({}, { after, limit: 7 });
      scanned.push(...c.items.map((x) => x.name));
      if (c.next === null) break;
      after = c.next;
    }
    expect(scanned).to.deep.equal(all);
  });

  it('refuses cursors it did not hand out and chunk sizes out of range', () => {
    expect(() => t.store.hosts.scan({}, { after: ['x', 1] })).to.throw(InvalidParameterError, /cursor/);
    expect(() => t.store.hosts.scan({}, { after: [{}] as never })).to.throw(InvalidParameterError, /cursor/);
    expect(() => t.store.hosts.scan({}, { limit: 0 })).to.throw(InvalidParameterError, /limit/);
    expect(() => t.store.hosts.scan({}, { limit: 1001 })).to.throw(InvalidParameterError, /limit/);
  });

  it('a filter matching nothing scans to an empty end', () => {
    expect(t.store.hosts.scan({ zoneid: '00000000-0000-4000-8000-000000000000' }, { count: true })).to.deep.equal({ items: [], next: null, count: 0 });
  });

  describe('through the data service on another node', () => {
    let nodes: Node[];
    beforeEach(async () => {
      const hub = new InprocHub();
      nodes = ['data-node', 'client-node'].map((id) => new Node({
        nodeId: id, transport: new InprocTransport({ nodeId: id, hub }), logger: silentLogger, strict: true,
      }));
      for (const n of nodes) await n.start();
      nodes[0]!.system.spawn(DATA_PATH, dataActor({ store: t.store }));
    });
    afterEach(async () => { for (const n of nodes) await n.stop(); });

    it('the client\'s all* read every match, and refuse past maxAllRows rather than cut', async () => {
      const ids = hosts(700);
      const ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
      const data = dataClient((body) => ref.ask('call', body));
      const all = await data.hosts.all({ type: 'Routing' });
      expect(all.map((h) => h.id).slice(2)).to.deep.equal(ids);
      expect((await data.zones.allPods({ zoneid: t.lab.zoneid })).map((p) => p.id)).to.deep.equal([t.lab.podid]);
      const small = dataClient((body) => ref.ask('call', body), { maxAllRows: 300 });
      const err = await small.hosts.all({}).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(LimitExceededError);
      expect((err as Error).message).to.match(/more than 300 rows/);
    });
  });
});
