import { expect } from 'chai';
import { encodeFrame } from '../../../src/codec.js';
import { DeadLetterError, PeerDownError } from '../../../src/errors.js';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { WsTransport } from '../../../transports/ws/ws-transport.js';
import { EchoProtocol, echoActor } from '../../fixtures/echo-protocol.js';
import { waitFor } from '../../helpers/wait.js';
import { RawPeer } from './raw-peer.js';
import { CLUSTER, Fixture, SECRET, TcpProxy, tell } from './ws-helpers.js';

function portOf(address: string): number {
  return Number(new URL(address).port);
}

describe('ws transport: connections', function () {
  this.timeout(20_000);
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('two nodes dialling each other at once end up with one connection', async () => {
    let duplicatesResolved = 0;
    for (let round = 0; round < 6; round++) {
      const a = await fx.transport(`a${round}`);
      const b = await fx.transport(`b${round}`);
      a.t.learnAddress(b.t.nodeId, b.t.address()!);
      b.t.learnAddress(a.t.nodeId, a.t.address()!);
      // Same turn: each side starts its own dial before hearing from the other.
      a.t.send(b.t.nodeId, tell(a.t.nodeId, b.t.nodeId, { seq: 0 }));
      b.t.send(a.t.nodeId, tell(b.t.nodeId, a.t.nodeId, { seq: 0 }));
      await waitFor(() => a.rec.envelopes.length === 1 && b.rec.envelopes.length === 1, 5_000, 'first tells');
      const [ca, cb] = [a.t.connections(), b.t.connections()];
      expect(ca).to.have.length(1);
      expect(cb).to.have.length(1);
      // The same TCP connection seen from both ends.
      expect(ca[0]!.localPort).to.equal(cb[0]!.remotePort);
      expect(ca[0]!.remotePort).to.equal(cb[0]!.localPort);
      expect([ca[0]!.direction, cb[0]!.direction].sort()).to.deep.equal(['in', 'out']);
      expect(a.rec.ups).to.deep.equal([b.t.nodeId]);
      expect(b.rec.ups).to.deep.equal([a.t.nodeId]);
      for (let i = 1; i <= 50; i++) {
        a.t.send(b.t.nodeId, tell(a.t.nodeId, b.t.nodeId, { seq: i }));
        b.t.send(a.t.nodeId, tell(b.t.nodeId, a.t.nodeId, { seq: i }));
      }
      await waitFor(() => a.rec.envelopes.length === 51 && b.rec.envelopes.length === 51, 5_000, 'more tells');
      expect(b.rec.envelopes.map((e) => (e.body as { seq: number }).seq)).to.deep.equal(Array.from({ length: 51 }, (_v, i) => i));
      expect(a.t.connections()).to.have.length(1);
      duplicatesResolved += a.t.stats().duplicateConnections + b.t.stats().duplicateConnections;
    }
    // Each round raced two dials; the losers were closed by the tie-break, not kept.
    expect(duplicatesResolved).to.be.greaterThan(0);
  });

  it('closes a frame over maxFrameBytes with 1009 and keeps serving the others', async () => {
    const s = await fx.transport('s', { maxFrameBytes: 64 * 1024 });
    const o = await fx.transport('o');
    const raw = await RawPeer.connect({ address: s.t.address()!, nodeId: 'big', cluster: CLUSTER, secret: SECRET });
    expect(raw.welcome).to.not.equal(undefined);
    raw.send(Buffer.alloc(64 * 1024 + 1, 0x90));
    expect((await raw.closed).code).to.equal(1009);
    expect(s.t.stats().framesTooLarge).to.equal(1);
    expect(s.t.stats().decodeErrors).to.equal(1);
    o.t.learnAddress('s', s.t.address()!);
    o.t.send('s', tell('o', 's'));
    await waitFor(() => s.rec.envelopes.length === 1, 5_000);
    s.t.send('o', tell('s', 'o'));
    await waitFor(() => o.rec.envelopes.length === 1, 5_000);
  });

  it('drops envelopes a peer sends in another node\'s name, and survives a runtime fault while delivering', async () => {
    const s = await fx.transport('s');
    let thrown = false;
    const onEnvelope = s.rec.onEnvelope.bind(s.rec);
    s.rec.onEnvelope = (env) => {
      if (!thrown) { thrown = true; throw new Error('runtime fault'); }
      onEnvelope(env);
    };
    const raw = await RawPeer.connect({ address: s.t.address()!, nodeId: 'rawpeer', cluster: CLUSTER, secret: SECRET });
    fx.onCleanup(() => raw.close());
    raw.send(encodeFrame([tell('rawpeer', 's', { n: 1 }), tell('impostor', 's', { n: 2 }), tell('rawpeer', 's', { n: 3 })]));
    await waitFor(() => s.rec.envelopes.length === 1, 5_000);
    expect(s.rec.envelopes.map((e) => (e.body as { n: number }).n)).to.deep.equal([3]);
    expect(s.t.stats().misaddressed).to.equal(1);
    expect(s.t.stats().handlerErrors).to.equal(1);
    expect(s.t.peers()).to.deep.equal(['rawpeer']);
  });

  it('detects a silent peer within two ping intervals and declares it down after the grace period', async () => {
    const s = await fx.transport('s', { pingIntervalMs: 40, peerDownGraceMs: 100 });
    const raw = await RawPeer.connect({ address: s.t.address()!, nodeId: 'mute', cluster: CLUSTER, secret: SECRET, autoPong: false });
    expect(s.rec.ups).to.deep.equal(['mute']);
    await waitFor(() => s.rec.downs.length === 1, 5_000, 'peer down');
    expect(s.t.stats().livenessTimeouts).to.equal(1);
    expect(s.rec.downs[0]!.id).to.equal('mute');
    expect(s.rec.downs[0]!.reason).to.match(/grace period/);
    expect((await raw.closed).code).to.equal(1006); // cut, not closed politely
  });

  it('reconnects after the wire is cut, within the grace period; reports down then up (messages in flight may be lost)', async () => {
    const b = await fx.transport('b');
    const proxy = new TcpProxy(portOf(b.t.address()!));
    await proxy.start();
    fx.onCleanup(() => proxy.stop());
    const a = await fx.transport('a', { reconnect: { initialMs: 20, maxMs: 100 }, peerDownGraceMs: 5_000 });
    a.t.learnAddress('b', proxy.address);
    a.t.send('b', tell('a', 'b', { seq: 1 }));
    await waitFor(() => b.rec.envelopes.length === 1, 5_000);
    proxy.cut();
    await waitFor(() => a.t.linkStates().b === 'up' && a.rec.ups.length === 2, 5_000, 'reconnect');
    expect(a.t.stats().reconnects + b.t.stats().reconnects).to.be.greaterThan(0);
    expect(a.rec.downs.map((d) => d.reason)).to.deep.equal(['connection lost and re-established; messages in flight may be lost']);
    a.t.send('b', tell('a', 'b', { seq: 2 }));
    await waitFor(() => b.rec.envelopes.length === 2, 5_000);
  });

  it('an ask in flight when the wire is cut fails with PeerDownError although the connection comes back', async () => {
    const proxies = [new TcpProxy(0), new TcpProxy(0)];
    for (const p of proxies) { await p.start(); fx.onCleanup(() => p.stop()); }
    const [na, nb] = await Promise.all(['a', 'b'].map(async (id, i) => {
      const transport = new WsTransport({
        nodeId: id, clusterName: CLUSTER, clusterSecret: SECRET, logger: silentLogger, peerDownGraceMs: 10_000,
        reconnect: { initialMs: 20, maxMs: 50 }, advertiseAddress: proxies[i]!.address,
      });
      const n = new Node({ nodeId: id, transport, logger: silentLogger });
      fx.onCleanup(() => n.stop());
      await n.start();
      proxies[i]!.targetPort = transport.listeningPort()!;
      return n;
    }));
    na!.transport!.learnAddress!('b', proxies[1]!.address);
    nb!.system.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
    const ref = na!.system.ref({ node: 'b', path: '/echo' }, EchoProtocol);
    expect(await ref.ask('echo', { text: 'hi' })).to.deep.equal({ text: 'hi' });
    const pending = ref.ask('slow', { ms: 1 }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    await waitFor(() => nb!.system.lookup('/echo')!.current !== undefined, 5_000);
    for (const p of proxies) p.cut();
    expect(await pending).to.be.instanceOf(PeerDownError);
    expect(await na!.system.ref({ node: 'b', path: '/nobody' }, EchoProtocol).ask('echo', { text: 'x' }).catch((e: unknown) => e))
      .to.be.instanceOf(DeadLetterError); // reachable again: the reply comes from b
  });

  it('a partition longer than the grace period fails pending asks with PeerDownError, not a timeout', async () => {
    // Each node behind its own proxy (and advertising it), so stopping both proxies cuts every path.
    const proxies = [new TcpProxy(0), new TcpProxy(0)];
    for (const p of proxies) { await p.start(); fx.onCleanup(() => p.stop()); }
    const [na, nb] = await Promise.all(['a', 'b'].map(async (id, i) => {
      const transport = new WsTransport({
        nodeId: id, clusterName: CLUSTER, clusterSecret: SECRET, logger: silentLogger, peerDownGraceMs: 300,
        reconnect: { initialMs: 20, maxMs: 50 }, advertiseAddress: proxies[i]!.address,
      });
      const n = new Node({ nodeId: id, transport, logger: silentLogger });
      fx.onCleanup(() => n.stop());
      await n.start();
      proxies[i]!.targetPort = transport.listeningPort()!;
      return n;
    }));
    na!.transport!.learnAddress!('b', proxies[1]!.address);
    nb!.system.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
    const ref = na!.system.ref({ node: 'b', path: '/echo' }, EchoProtocol);
    expect(await ref.ask('echo', { text: 'hi' })).to.deep.equal({ text: 'hi' });
    const pending = ref.ask('slow', { ms: 1 }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    await waitFor(() => nb!.system.lookup('/echo')!.current !== undefined, 5_000);
    for (const p of proxies) await p.stop();
    expect(await pending).to.be.instanceOf(PeerDownError);
  });

  it('a peer stopped and restarted on the same port is reachable again', async () => {
    const b1 = await fx.transport('b');
    const port = portOf(b1.t.address()!);
    const a = await fx.transport('a');
    a.t.learnAddress('b', b1.t.address()!);
    a.t.send('b', tell('a', 'b'));
    await waitFor(() => b1.rec.envelopes.length === 1, 5_000);
    await b1.t.stop();
    await waitFor(() => a.rec.downs.length === 1, 5_000);
    expect(a.rec.downs[0]!.reason).to.match(/peer stopped/);
    const b2 = await fx.transport('b', { port });
    a.t.send('b', tell('a', 'b'));
    await waitFor(() => b2.rec.envelopes.length === 1, 5_000);
    expect(a.rec.ups).to.deep.equal(['b', 'b']);
  });

  it('a peer that restarts within the grace period is reported down then up (new incarnation)', async () => {
    const b1 = await fx.transport('b');
    const bPort = portOf(b1.t.address()!);
    const proxyB = new TcpProxy(bPort);
    await proxyB.start();
    fx.onCleanup(() => proxyB.stop());
    const proxyA = new TcpProxy(0);
    await proxyA.start();
    fx.onCleanup(() => proxyA.stop());
    const a = await fx.transport('a', { advertiseAddress: proxyA.address, peerDownGraceMs: 10_000, reconnect: { initialMs: 20, maxMs: 50 } });
    proxyA.targetPort = a.t.listeningPort()!;
    a.t.learnAddress('b', proxyB.address);
    a.t.send('b', tell('a', 'b'));
    await waitFor(() => b1.rec.envelopes.length === 1, 5_000);
    // Partition both ways, then "crash" b (its goodbye cannot reach a) and start it again on the same port.
    const [pa, pb] = [proxyA.port, proxyB.port];
    await proxyA.stop();
    await proxyB.stop();
    await b1.t.stop();
    const b2 = await fx.transport('b', { port: bPort });
    await proxyA.start(pa);
    await proxyB.start(pb);
    await waitFor(() => a.rec.ups.length === 2, 10_000, 'peer up again');
    expect(a.rec.downs.map((d) => d.reason)).to.deep.equal(['peer restarted']);
    a.t.send('b', tell('a', 'b'));
    await waitFor(() => b2.rec.envelopes.length === 1, 5_000);
  });
});
