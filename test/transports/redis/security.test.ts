/**
 * What the Redis transport refuses: frames without this cluster's MAC (forged, tampered, moved between
 * channels, replayed, stale), traffic of another cluster on the same Redis, and wrong credentials.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { encodeFrame } from '../../../src/codec.js';
import type { Envelope } from '../../../src/envelope.js';
import { AuthError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { clusterNames } from '../../../transports/redis/channels.js';
import { FrameKind, FrameSealer } from '../../../transports/redis/mac.js';
import type { RedisTransport } from '../../../transports/redis/redis-transport.js';
import { EchoProtocol, echoActor, type EchoState } from '../../fixtures/echo-protocol.js';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { allConnected, newClusterName, testCluster, type TestCluster } from './fixture.js';

function recordTell(to: string, seq: number, fromNode = 'intruder'): Envelope {
  return { kind: 'tell', id: `forged-${seq}-${randomBytes(3).toString('hex')}`, toNode: to, to: '/echo', fromNode, from: '', type: 'record', body: { seq, from: fromNode }, lane: 1 };
}

async function startPair(c: TestCluster, ids: [string, string], extra = {}): Promise<[Node, Node]> {
  const nodes = ids.map((id) => new Node({ nodeId: id, transport: c.transport(id, extra), logger: silentLogger })) as [Node, Node];
  for (const n of nodes) await n.start();
  await allConnected(nodes.map((n) => n.transport!));
  return nodes;
}

const rt = (n: Node): RedisTransport => n.transport as RedisTransport;
const seen = (n: Node): EchoState => n.system.lookup('/echo')!.ctx.state as EchoState;

describe('redis transport: security', function () {
  this.timeout(30_000);
  let server: RedisServer | undefined;
  let raw: Redis | undefined;
  let nodes: Node[] = [];

  before(async function () {
    requireRedis(this);
    server = await startRedis();
    raw = new Redis(server.url);
  });
  after(async () => { raw?.disconnect(); await server?.dispose(); });
  afterEach(async () => { for (const n of nodes) await n.stop().catch(() => undefined); nodes = []; });

  it('drops and counts frames injected with a raw PUBLISH without a valid MAC', async () => {
    const c = testCluster(server!.url);
    const [a, b] = await startPair(c, ['a', 'b']);
    nodes = [a, b];
    b.system.spawn('/echo', echoActor());
    const names = clusterNames('cloudstackd', c.name);
    const ch = names.node('b');
    const payload = encodeFrame([recordTell('b', 1)]);
    const good = new FrameSealer(c.secret, c.name, 'intruder', randomBytes(8));
    const wrongSecret = new FrameSealer(randomBytes(32), c.name, 'intruder', randomBytes(8));
    const tampered = good.seal(ch, FrameKind.Envelopes, 0, 1, payload, Date.now());
    tampered[tampered.length - 3]! ^= 0x01;
    const forged = [
      Buffer.from('PUBLISH from redis-cli'),                                  // not a frame at all
      payload,                                                               // a valid envelope, unsigned
      wrongSecret.seal(ch, FrameKind.Envelopes, 0, 1, payload, Date.now()),  // signed with another secret
      good.seal(names.node('a'), FrameKind.Envelopes, 0, 1, payload, Date.now()), // signed for another channel
      tampered,                                                              // modified after signing
      wrongSecret.seal(names.broadcast, FrameKind.Heartbeat, 0, 1, Buffer.from([1]), Date.now()), // fake peer
    ];
    for (const [i, f] of forged.entries()) expect(await raw!.publish(i === 5 ? names.broadcast : ch, f)).to.be.greaterThan(0);
    await waitFor(() => rt(b).stats().macFailures >= 6, 5_000, 'MAC failures to be counted');
    const s = rt(b).stats();
    expect(s.macFailures).to.equal(6);
    expect(s.authFailures).to.equal(6);
    expect(s.decodeErrors).to.equal(0);
    expect(seen(b).seen).to.deep.equal([]);
    expect(b.transport!.peers()).to.deep.equal(['a']);
    // The properly signed frame passes, once: publishing it again is a replay.
    const signed = good.seal(ch, FrameKind.Envelopes, 0, 1, payload, Date.now());
    await raw!.publish(ch, signed);
    await raw!.publish(ch, signed);
    const stale = good.seal(ch, FrameKind.Envelopes, 5, 1, encodeFrame([recordTell('b', 2)]), Date.now() - 120_000);
    await raw!.publish(ch, stale);
    await waitFor(() => rt(b).stats().staleFrames === 1 && rt(b).stats().replayedFrames === 1, 5_000, 'replay and stale frames refused');
    expect(seen(b).seen).to.deep.equal([{ seq: 1, from: 'intruder' }]);
    const ref = a.system.ref({ node: 'b', path: '/echo' }, EchoProtocol);
    expect(await ref.ask('echo', { text: 'still serving' })).to.deep.equal({ text: 'still serving' });
  });

  it('keeps two clusters on one Redis apart, even with the same node ids and secret', async () => {
    const secret = randomBytes(32);
    const x = testCluster(server!.url, newClusterName('x'), secret);
    const y = testCluster(server!.url, newClusterName('y'), secret);
    const [x1, x2] = await startPair(x, ['n1', 'n2']);
    const [y1, y2] = await startPair(y, ['n1', 'n2']);
    nodes = [x1, x2, y1, y2];
    x2.system.spawn('/echo', echoActor());
    y2.system.spawn('/echo', echoActor());
    const xref = x1.system.ref({ node: 'n2', path: '/echo' }, EchoProtocol);
    for (let i = 0; i < 200; i++) xref.tell('record', { seq: i, from: 'x' });
    await rt(x1).sendDurable('n2', recordTell('n2', 1000, 'n1'));
    await waitFor(() => seen(x2).seen.length === 201, 5_000, 'cluster x traffic');
    await sleep(300); // long enough for a stray frame to show up on the other cluster
    expect(seen(y2).seen).to.deep.equal([]);
    for (const n of nodes) {
      expect(n.transport!.peers()).to.deep.equal([n.id === 'n1' ? 'n2' : 'n1']);
      expect(rt(n).stats().authFailures).to.equal(0);
    }
    // Frames of cluster x do not verify in cluster y even with the same secret: the key mixes in the name.
    const fromX = new FrameSealer(secret, x.name, 'n1', randomBytes(8));
    const ych = clusterNames('cloudstackd', y.name).node('n2');
    await raw!.publish(ych, fromX.seal(ych, FrameKind.Envelopes, 0, 1, encodeFrame([recordTell('n2', 1)]), Date.now()));
    await waitFor(() => rt(y2).stats().macFailures === 1, 5_000, 'cross-cluster frame refused');
    expect(seen(y2).seen).to.deep.equal([]);
  });

  describe('AUTH with an ACL user', function () {
    let acl: RedisServer | undefined;
    before(async function () {
      if (!server!.owned) this.skip(); // REDIS_URL points at a server we must not reconfigure
      acl = await startRedis({ args: ['--user', 'default', 'off', '--user', 'orchestrator', 'on', '>s3cret-pw',
        '~cloudstackd:acl-*', '&cloudstackd:acl-*', '+@pubsub', '+@stream', '+@connection', '+info'] });
    });
    after(async () => { await acl?.dispose(); });

    const withUser = (user: string, pw: string): string => acl!.url.replace('redis://', `redis://${user}:${encodeURIComponent(pw)}@`);

    it('works for a user confined to the cluster namespace', async () => {
      const c = testCluster(withUser('orchestrator', 's3cret-pw'), newClusterName('acl'));
      const [a, b] = await startPair(c, ['a', 'b']);
      nodes = [a, b];
      b.system.spawn('/echo', echoActor());
      expect(await a.system.ref({ node: 'b', path: '/echo' }, EchoProtocol).ask('echo', { text: 'authorised' })).to.deep.equal({ text: 'authorised' });
      await rt(a).sendDurable('b', recordTell('b', 7, 'a'));
      await waitFor(() => seen(b).seen.length === 1, 5_000, 'durable delivery under ACL');
    });

    it('refuses a wrong password, and no password, with a clear AuthError', async () => {
      for (const url of [withUser('orchestrator', 'wrong'), acl!.url]) {
        const t = testCluster(url, newClusterName('acl')).transport('a');
        const err = await t.start({ onEnvelope() {}, onPeerUp() {}, onPeerDown() {}, onUndeliverable() {} }).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(AuthError);
        expect((err as Error).message).to.match(/refused user "(orchestrator|default)"/).and.match(/check the user and password/);
        expect((err as Error).message).not.to.contain('wrong');
        expect(t.isConnected()).to.equal(false);
      }
    });

    it('refuses a cluster outside the user\'s key and channel patterns', async () => {
      const t = testCluster(withUser('orchestrator', 's3cret-pw'), newClusterName('other')).transport('a');
      const err = await t.start({ onEnvelope() {}, onPeerUp() {}, onPeerDown() {}, onUndeliverable() {} }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AuthError);
      expect((err as Error).message).to.match(/NOPERM/).and.match(/ACL rules/);
      expect(t.isConnected()).to.equal(false);
    });
  });
});
