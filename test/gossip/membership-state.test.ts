import { expect } from 'chai';
import { LimitExceededError } from '../../src/errors.js';
import { makeNode, meta } from './harness.js';
import type { Update } from '../../src/gossip/messages.js';

const alive = (node: string, inc: number, epoch = 1, m = meta(node)): Update => ({ t: 'alive', node, epoch, inc, meta: m });
const suspect = (node: string, inc: number, from: string, epoch = 1): Update => ({ t: 'suspect', node, epoch, inc, from });
const dead = (node: string, inc: number, from: string, epoch = 1): Update => ({ t: 'dead', node, epoch, inc, from });
const types = (n: ReturnType<typeof makeNode>) => n.events.map((e) => `${e.type} ${e.member.id}`);

describe('gossip/membership: state transitions', () => {
  it('alive: a new member joins, a newer incarnation updates it, an older one is ignored', () => {
    const n = makeNode(['b']);
    n.receive('b', { t: 'gossip' }, [alive('c', 0)]);
    expect(n.m.member('c')?.status).to.equal('alive');
    const services = [{ name: 'data', version: '1.0' }];
    n.receive('b', { t: 'gossip' }, [alive('c', 1, 1, meta('c', { services }))]);
    expect(n.m.member('c')?.meta.services).to.deep.equal(services);
    n.receive('b', { t: 'gossip' }, [alive('c', 0)]);
    expect(n.m.member('c')?.incarnation).to.equal(1);
    expect(types(n)).to.deep.equal(['joined c', 'updated c']);
  });

  it('suspect → alive: a refutation with a higher incarnation clears the suspicion', () => {
    const n = makeNode(['b', 'c', 'd']);
    n.receive('c', { t: 'gossip' }, [suspect('b', 0, 'c')]);
    expect(n.m.member('b')?.status).to.equal('suspect');
    n.receive('b', { t: 'gossip' }, [alive('b', 1)]);
    expect(n.m.member('b')?.status).to.equal('alive');
    n.clock.advance(60_000);
    expect(types(n)).to.deep.equal(['suspected b', 'recovered b']);
  });

  it('suspect: an older incarnation cannot suspect a member that already refuted', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'gossip' }, [alive('b', 3)]);
    n.receive('c', { t: 'gossip' }, [suspect('b', 2, 'c')]);
    expect(n.m.member('b')?.status).to.equal('alive');
  });

  it('dead: a dead verdict from gossip is final for that incarnation, and a higher one brings it back', () => {
    const n = makeNode(['b', 'c']);
    n.receive('c', { t: 'gossip' }, [dead('b', 0, 'c')]);
    expect(n.m.member('b')?.status).to.equal('dead');
    n.receive('c', { t: 'gossip' }, [alive('b', 0), suspect('b', 0, 'c')]);
    expect(n.m.member('b')?.status).to.equal('dead');
    n.receive('b', { t: 'gossip' }, [alive('b', 1)]);
    expect(n.m.member('b')?.status).to.equal('alive');
    expect(types(n)).to.deep.equal(['failed b', 'joined b']);
  });

  it('left: a graceful leave is recorded as "left", distinct from failed', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'gossip' }, [{ t: 'left', node: 'b', epoch: 1, inc: 1 }]);
    expect(n.m.member('b')?.status).to.equal('left');
    expect(types(n)).to.deep.equal(['left b']);
  });

  it('restart: a new epoch supersedes the old incarnation at once, even one recorded dead', () => {
    const n = makeNode(['b', 'c']);
    n.receive('c', { t: 'gossip' }, [dead('b', 5, 'c')]);
    n.receive('b', { t: 'gossip' }, [alive('b', 0, 2)]);
    const b = n.m.member('b');
    expect(b?.status).to.equal('alive');
    expect(b?.epoch).to.equal(2);
    // Late news about the old epoch changes nothing.
    n.receive('c', { t: 'gossip' }, [suspect('b', 9, 'c', 1), dead('b', 9, 'c', 1), alive('b', 9, 1)]);
    expect(n.m.member('b')?.status).to.equal('alive');
    expect(n.m.member('b')?.epoch).to.equal(2);
    expect(types(n)).to.deep.equal(['failed b', 'restarted b']);
  });

  it('refutation: a suspected node bumps its incarnation, raises its health score and answers the accuser directly', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'gossip' }, [suspect('a', 0, 'b')]);
    expect(n.m.self.incarnation).to.equal(1);
    expect(n.m.self.status).to.equal('alive');
    expect(n.m.healthScore).to.equal(1);
    const direct = n.sentTo('b', 'gossip').flatMap((s) => s.env.updates);
    expect(direct).to.deep.include(alive('a', 1, 1, n.m.self.meta));
  });

  it('refutation: a node declared dead refutes as well', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'gossip' }, [dead('a', 0, 'b')]);
    expect(n.m.self.incarnation).to.equal(1);
    expect(n.m.self.status).to.equal('alive');
  });

  it('an accuser still holding an incarnation already refuted is answered with the current one', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'gossip' }, [suspect('a', 0, 'b')]);
    n.clear();
    n.receive('c', { t: 'gossip' }, [suspect('a', 0, 'c')]);
    expect(n.m.self.incarnation).to.equal(1);
    expect(n.sentTo('c', 'gossip').flatMap((s) => s.env.updates)).to.deep.include(alive('a', 1, 1, n.m.self.meta));
  });

  it('buddy rule, receiving side: the ack to a ping that carries a suspicion carries the refutation', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'ping', seq: 7, target: 'a', epoch: 1 }, [suspect('a', 0, 'b')]);
    const [ack] = n.sentTo('b', 'ack');
    expect(ack?.env.body).to.deep.equal({ t: 'ack', seq: 7 });
    expect(ack?.env.updates.some((u) => u.t === 'alive' && u.node === 'a' && u.inc === 1)).to.equal(true);
  });

  it('a ping for a previous epoch is not acked but answered with the new epoch', () => {
    const n = makeNode(['b'], {}, 'a', 2);
    n.receive('b', { t: 'ping', seq: 1, target: 'a', epoch: 1 });
    expect(n.sentTo('b', 'ack')).to.have.length(0);
    expect(n.sentTo('b', 'gossip').flatMap((s) => s.env.updates).some((u) => u.t === 'alive' && u.epoch === 2)).to.equal(true);
  });

  it('push-pull: a remote "dead" becomes a suspicion here, never an instant death, and the state is answered', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'push-pull', join: false, reply: false, members: [
      { node: 'c', epoch: 1, inc: 0, status: 'dead', meta: meta('c') },
      { node: 'd', epoch: 1, inc: 0, status: 'alive', meta: meta('d') },
    ] });
    expect(n.m.member('c')?.status).to.equal('suspect');
    expect(n.m.member('d')?.status).to.equal('alive');
    const [reply] = n.sentTo('b', 'push-pull');
    expect(reply?.env.body.t === 'push-pull' && reply.env.body.reply).to.equal(true);
  });

  it('cluster label: messages from another cluster are dropped', () => {
    const n = makeNode(['b']);
    n.receive('b', { t: 'gossip' }, [alive('x', 0)], 'other-cluster');
    expect(n.m.member('x')).to.equal(undefined);
    expect(n.m.stats().droppedForeignCluster).to.equal(1);
  });

  it('drops malformed messages and senders that do not match the transport\'s idea of them', () => {
    const n = makeNode(['b', 'c']);
    n.m.handle('b', { v: 1, cluster: 'test-cluster', from: 'b', body: { t: 'ack' }, updates: [] });
    n.m.handle('b', { v: 1, cluster: 'test-cluster', from: 'c', body: { t: 'gossip' }, updates: [alive('x', 0)] });
    expect(n.m.member('x')).to.equal(undefined);
    const st = n.m.stats();
    expect(st.droppedInvalid).to.equal(1);
    expect(st.droppedSpoofed).to.equal(1);
  });

  it('metadata: updates go out under a new incarnation; oversized metadata is refused here and dropped from others', () => {
    const n = makeNode(['b'], { maxMetadataBytes: 512 });
    n.m.updateMetadata({ services: [{ name: 'data', version: '1.0' }] });
    expect(n.m.self.incarnation).to.equal(1);
    expect(n.m.self.meta.services).to.deep.equal([{ name: 'data', version: '1.0' }]);
    expect(n.m.self.meta.addresses).to.deep.equal(['sim://a']);
    expect(() => n.m.updateMetadata({ roles: ['r'.repeat(200), 's'.repeat(200), 't'.repeat(200)] })).to.throw(LimitExceededError, /maxMetadataBytes/);
    n.receive('b', { t: 'gossip' }, [alive('big', 0, 1, meta('big', { roles: ['r'.repeat(200), 's'.repeat(200), 't'.repeat(200)] }))]);
    expect(n.m.member('big')).to.equal(undefined);
    expect(n.m.stats().droppedOversizedMeta).to.equal(1);
  });

  it('keeps a push-pull state within maxStateBytes, itself always included', () => {
    const peers = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const n = makeNode(peers, { maxStateBytes: 2048, maxMetadataBytes: 512 });
    n.receive('p1', { t: 'push-pull', join: false, reply: false, members: [] });
    const [reply] = n.sentTo('p1', 'push-pull');
    const members = reply?.env.body.t === 'push-pull' ? reply.env.body.members : [];
    expect(members[0]?.node).to.equal('a');
    expect(members.length).to.be.greaterThan(5).and.lessThan(41);
    expect(JSON.stringify(members).length).to.be.lessThan(2048);
  });

  it('stays within maxMembers', () => {
    const n = makeNode(['b'], { maxMembers: 3 });
    n.receive('b', { t: 'gossip' }, [alive('c', 0), alive('d', 0)]);
    expect(n.m.members()).to.have.length(3);
    expect(n.m.stats().droppedTableFull).to.equal(1);
  });

  it('forgets dead members after deadRetention', () => {
    const n = makeNode(['b', 'c'], { deadRetention: 5000 });
    n.m.start();
    n.receive('c', { t: 'gossip' }, [dead('b', 0, 'c')]);
    n.clock.advance(6000);
    expect(n.m.member('b')).to.equal(undefined);
    expect(types(n)).to.include('removed b');
  });
});
