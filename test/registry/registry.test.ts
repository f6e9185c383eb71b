import { expect } from 'chai';
import { IncompatibleProtocolError, NoInstanceError } from '../../src/errors.js';
import type { ServiceInfo, Update } from '../../src/gossip/messages.js';
import { createServiceRegistry, type RegistryEvent } from '../../src/registry/registry.js';
import { makeNode, meta } from '../gossip/harness.js';

const svc = (name: string, version: string): ServiceInfo => ({ name, version });
const alive = (node: string, inc: number, services: ServiceInfo[], load: Record<string, number> = {}, epoch = 1): Update =>
  ({ t: 'alive', node, epoch, inc, meta: meta(node, { services, load }) });

/** Node "a" (hosting data 1.0 itself) that learns of b and c with their services. */
function setup() {
  const n = makeNode([]);
  n.m.updateMetadata({ services: [svc('data', '1.0')] });
  n.receive('b', { t: 'gossip' }, [alive('b', 1, [svc('data', '1.0')])]);
  n.receive('c', { t: 'gossip' }, [alive('c', 1, [svc('data', '1.3'), svc('compute/host-7', '2.0')])]);
  const reg = createServiceRegistry(n.m);
  const events: string[] = [];
  reg.onChange((e: RegistryEvent) => {
    events.push('instance' in e ? `${e.type} ${e.instance.service}@${e.instance.node}${e.type === 'service-removed' ? ` (${e.reason})` : ''}` : `${e.type} ${e.member.id}`);
  });
  return { n, reg, events };
}

describe('registry: who serves X', () => {
  it('lists the live instances of a service, this node included', () => {
    const { reg } = setup();
    expect(reg.services()).to.deep.equal(['compute/host-7', 'data']);
    const data = reg.lookup('data');
    expect(data.map((i) => `${i.node}:${i.version}:${i.local}`)).to.deep.equal(['a:1.0:true', 'b:1.0:false', 'c:1.3:false']);
    expect(data[1]!.addresses).to.deep.equal(['sim://b']);
    expect(reg.lookup('compute/host-7', { version: '2.1' }).map((i) => i.node)).to.deep.equal(['c']);
    expect(reg.lookup('compute/host-7', { version: '1.0' })).to.deep.equal([]);
    expect(reg.lookup('nothing')).to.deep.equal([]);
  });

  it('streams changes: joined, service added and removed, failed, left, restarted', () => {
    const { n, events } = setup();
    n.receive('d', { t: 'gossip' }, [alive('d', 0, [svc('storage', '1.0')])]);
    n.receive('b', { t: 'gossip' }, [alive('b', 2, [svc('data', '2.0'), svc('network', '1.0')])]);
    n.receive('b', { t: 'gossip' }, [alive('b', 3, [svc('network', '1.0')])]);
    n.receive('x', { t: 'gossip' }, [{ t: 'dead', node: 'c', epoch: 1, inc: 1, from: 'x' }]);
    n.receive('d', { t: 'gossip' }, [{ t: 'left', node: 'd', epoch: 1, inc: 1 }]);
    n.receive('b', { t: 'gossip' }, [alive('b', 0, [svc('network', '1.0')], {}, 2)]);
    expect(events).to.deep.equal([
      'member-joined d', 'service-added storage@d',
      'service-removed data@b (unpublished)', 'service-added data@b', 'service-added network@b',
      'service-removed data@b (unpublished)',
      'member-failed c', 'service-removed data@c (failed)', 'service-removed compute/host-7@c (failed)',
      'member-left d', 'service-removed storage@d (left)',
      'member-restarted b', 'service-removed network@b (restarted)', 'service-added network@b',
    ]);
  });

  it('tracks this node\'s own services', () => {
    const { n, reg, events } = setup();
    n.m.updateMetadata({ services: [svc('data', '1.0'), svc('api', '1.0')] });
    expect(events).to.deep.equal(['service-added api@a']);
    expect(reg.lookup('api').map((i) => i.local)).to.deep.equal([true]);
  });
});

describe('registry: routing', () => {
  it('round-robin spreads over the instances', () => {
    const { reg } = setup();
    const picks = Array.from({ length: 6 }, () => reg.select('data').node);
    expect(picks).to.deep.equal(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('least-in-flight picks the instance with the fewest requests in flight, then the lowest advertised load', () => {
    const { n, reg } = setup();
    n.receive('b', { t: 'gossip' }, [alive('b', 2, [svc('data', '1.0')], { inFlight: 9 })]);
    const releaseA = [reg.track('a'), reg.track('a')];
    expect(reg.inFlight('a')).to.equal(2);
    expect(reg.select('data', { policy: 'least-in-flight' }).node).to.equal('c');
    const releaseC = reg.track('c');
    reg.track('c');
    reg.track('b');
    expect(reg.select('data', { policy: 'least-in-flight' }).node).to.equal('b');
    reg.track('b');
    // a, b and c all have 2 in flight: b advertises the highest load.
    expect(['a', 'c']).to.include(reg.select('data', { policy: 'least-in-flight' }).node);
    for (const release of releaseA) release();
    releaseA[0]!();
    releaseC();
    expect(reg.inFlight('a')).to.equal(0);
    expect(reg.inFlight('c')).to.equal(1);
    expect(reg.select('data', { policy: 'least-in-flight' }).node).to.equal('a');
  });

  it('refuses an incompatible major version and says which versions exist', () => {
    const { reg } = setup();
    expect(reg.select('data', { version: '1.1' }).version.startsWith('1.')).to.equal(true);
    expect(() => reg.select('data', { version: '2.0' })).to.throw(IncompatibleProtocolError, /speaks protocol 2\.0.*1\.0, 1\.3/);
  });

  it('fails at once with a clear error when no live instance serves the service', () => {
    const { n, reg } = setup();
    expect(() => reg.select('billing')).to.throw(NoInstanceError, /no live member offers it/);
    n.receive('x', { t: 'gossip' }, [{ t: 'dead', node: 'c', epoch: 1, inc: 1, from: 'x' }]);
    expect(() => reg.select('compute/host-7')).to.throw(NoInstanceError);
    expect(() => reg.select('data', { exclude: ['a', 'b'] })).to.throw(NoInstanceError, /excluded/);
  });

  it('uses a suspected instance only when no alive one is left', () => {
    const { n, reg } = setup();
    n.receive('x', { t: 'gossip' }, [{ t: 'suspect', node: 'c', epoch: 1, inc: 1, from: 'x' }]);
    const picks = new Set(Array.from({ length: 6 }, () => reg.select('data').node));
    expect([...picks].sort()).to.deep.equal(['a', 'b']);
    const only = reg.select('compute/host-7');
    expect(only.node).to.equal('c');
    expect(only.status).to.equal('suspect');
  });

  it('prefers this node\'s own instance when asked to', () => {
    const { reg } = setup();
    for (let i = 0; i < 3; i++) expect(reg.select('data', { preferLocal: true }).node).to.equal('a');
  });

  it('offers failover candidates: other live, compatible instances, alive and least busy first', () => {
    const { n, reg } = setup();
    n.receive('d', { t: 'gossip' }, [alive('d', 0, [svc('data', '3.0')])]);
    reg.track('b');
    expect(reg.failoverCandidates('data', 'a', { version: '1.0' }).map((i) => i.node)).to.deep.equal(['c', 'b']);
    n.receive('x', { t: 'gossip' }, [{ t: 'suspect', node: 'c', epoch: 1, inc: 1, from: 'x' }]);
    expect(reg.failoverCandidates('data', 'a', { version: '1.0' }).map((i) => i.node)).to.deep.equal(['b', 'c']);
  });

  it('stops following the membership when closed', () => {
    const { n, reg, events } = setup();
    reg.close();
    n.receive('d', { t: 'gossip' }, [alive('d', 0, [svc('storage', '1.0')])]);
    expect(events).to.deep.equal([]);
    expect(reg.lookup('storage')).to.deep.equal([]);
  });
});
