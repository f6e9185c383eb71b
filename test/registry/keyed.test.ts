import { expect } from 'chai';
import type { ServiceInfo, Update } from '../../src/gossip/messages.js';
import { createServiceRegistry, type RegistryEvent } from '../../src/registry/registry.js';
import type { KeyPage } from '../../src/registry/keyed.js';
import { KeyTable } from '../../src/cluster/keyed-services.js';
import { makeNode, meta } from '../gossip/harness.js';

/** Issue 18: instances of a keyed service are read from their node, not carried in gossip metadata. */

const keyed = (name: string, version: string, rev: number): ServiceInfo => ({ name, version, keys: rev });
const alive = (node: string, inc: number, services: ServiceInfo[], epoch = 1): Update =>
  ({ t: 'alive', node, epoch, inc, meta: meta(node, { services }) });
const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await Promise.resolve(); };

function setup() {
  const n = makeNode([]);
  // What each node would answer: its own key table, paged as the real actor pages.
  const tables = new Map<string, KeyTable>();
  const down = new Set<string>();
  const asked: string[] = [];
  const fetch = async (node: string, service: string, after: string | undefined): Promise<KeyPage> => {
    asked.push(`${node}:${after ?? ''}`);
    if (down.has(node)) throw new Error(`node ${node} unreachable`);
    return tables.get(node)!.page(service, after);
  };
  const reg = createServiceRegistry(n.m, { keyed: { fetch, clock: n.clock, retryMs: 500 } });
  const events: string[] = [];
  reg.onChange((e: RegistryEvent) => {
    if ('instance' in e) events.push(`${e.type} ${e.instance.service}@${e.instance.node}${e.type === 'service-removed' ? ` (${e.reason})` : ''}`);
  });
  const publish = (node: string, keys: string[], inc: number, epoch = 1): void => {
    let table = tables.get(node);
    if (table === undefined) { table = new KeyTable(); tables.set(node, table); }
    const rev = table.set('compute', keys);
    n.receive(node, { t: 'gossip' }, [alive(node, inc, [{ name: 'data', version: '1.0' }, keyed('compute', '1.0', rev)], epoch)]);
  };
  return { n, reg, events, publish, down, asked, tables };
}

const hostNames = (prefix: string, count: number): string[] => Array.from({ length: count }, (_v, i) => `${prefix}-${String(i).padStart(4, '0')}`);

describe('registry: keyed services', () => {
  it('routes to thousands of keys of a node whose metadata holds one entry', async () => {
    const { n, reg, publish, asked } = setup();
    publish('b', hostNames('b', 2500), 1);
    const size = JSON.stringify(n.m.member('b')!.meta).length;
    expect(size).to.be.below(200);
    expect(reg.lookup('compute/b-0007')).to.deep.equal([]); // nobody follows compute yet: nothing fetched
    expect(asked).to.deep.equal([]);
    expect(reg.followKeys('compute')).to.equal(true);
    await settle();
    expect(asked).to.deep.equal(['b:', 'b:b-0999', 'b:b-1999']); // three pages of 1,000
    expect(reg.lookup('compute/b-2499', { version: '1.0' }).map((i) => [i.node, i.service, i.version])).to.deep.equal([['b', 'compute/b-2499', '1.0']]);
    expect(reg.lookup('compute/b-2499', { version: '2.0' })).to.deep.equal([]);
    expect(reg.select('compute/b-0001').node).to.equal('b');
    expect(reg.lookup('compute')).to.deep.equal([]); // the keyed entry is not a plain service
    expect(reg.services().filter((s) => s.startsWith('compute/'))).to.have.length(2500);
    expect(reg.lookup('data').map((i) => i.node)).to.deep.equal(['b']);
  });

  it('streams service-added and service-removed for keys as for plain services', async () => {
    const { n, reg, events, publish } = setup();
    reg.followKeys('compute');
    publish('b', ['h1', 'h2'], 1);
    await settle();
    publish('b', ['h2', 'h3'], 2);
    await settle();
    n.receive('b', { t: 'gossip' }, [alive('b', 0, [keyed('compute', '1.0', 1)], 2)]); // restarted: keys read again
    await settle();
    n.receive('x', { t: 'gossip' }, [{ t: 'dead', node: 'b', epoch: 2, inc: 0, from: 'x' }]);
    expect(events.filter((e) => e.includes('compute/'))).to.deep.equal([
      'service-added compute/h1@b', 'service-added compute/h2@b',
      'service-removed compute/h1@b (unpublished)', 'service-added compute/h3@b',
      'service-removed compute/h2@b (restarted)', 'service-removed compute/h3@b (restarted)',
      'service-added compute/h2@b', 'service-added compute/h3@b',
      'service-removed compute/h2@b (failed)', 'service-removed compute/h3@b (failed)',
    ]);
    expect(reg.lookup('compute/h2')).to.deep.equal([]);
  });

  it('retries a node it cannot reach yet, until it answers', async () => {
    const { n, reg, publish, down } = setup();
    down.add('c');
    publish('c', ['c1'], 1);
    reg.followKeys('compute');
    await settle();
    expect(reg.lookup('compute/c1')).to.deep.equal([]);
    down.delete('c');
    n.clock.advance(500);
    await settle();
    expect(reg.lookup('compute/c1').map((i) => i.node)).to.deep.equal(['c']);
  });

  it('a key table refuses keys that cannot be instance names, and too many of them', () => {
    const t = new KeyTable(3);
    expect(() => t.set('compute', ['a/b'])).to.throw(/without "\/"/);
    expect(() => t.set('compute', [''])).to.throw(/1-128/);
    expect(() => t.set('compute', ['a', 'b', 'c', 'd'])).to.throw(/already has 3 keys/);
    expect(t.set('compute', ['b', 'a', 'a'])).to.equal(1);
    expect(t.page('compute', undefined)).to.deep.equal({ rev: 1, keys: ['a', 'b'], more: false });
    expect(t.page('compute', 'a')).to.deep.equal({ rev: 1, keys: ['b'], more: false });
    expect(t.page('other', undefined)).to.deep.equal({ rev: 0, keys: [], more: false });
  });
});
