/**
 * The at-least-once lane on Redis Streams: delivery to a node that is not running yet, a consumer that
 * crashes before XACK (its entry claimed with XAUTOCLAIM and delivered again, the handler still running
 * once thanks to dedup), the stream cap, and MAC checks on stream entries.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Envelope } from '../../../src/envelope.js';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { clusterNames } from '../../../transports/redis/channels.js';
import { FrameSealer } from '../../../transports/redis/mac.js';
import { resolveRedisOptions } from '../../../transports/redis/options.js';
import type { RedisTransport } from '../../../transports/redis/redis-transport.js';
import { emptyRedisStats } from '../../../transports/redis/stats.js';
import { StreamsLane } from '../../../transports/redis/streams-lane.js';
import { echoActor, type EchoState } from '../../fixtures/echo-protocol.js';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';
import { TEST_TIMERS, testCluster, type TestCluster } from './fixture.js';

function record(to: string, seq: number, from = 'a'): Envelope {
  return { kind: 'tell', id: `d-${seq}-${randomBytes(4).toString('hex')}`, toNode: to, to: '/echo', fromNode: from, from: '', type: 'record', body: { seq, from }, lane: 1 };
}

const rt = (n: Node): RedisTransport => n.transport as RedisTransport;
const seqs = (n: Node): number[] => (n.system.lookup('/echo')!.ctx.state as EchoState).seen.map((s) => s.seq);

describe('redis transport: durable lane (streams)', function () {
  this.timeout(30_000);
  let server: RedisServer | undefined;
  let raw: Redis | undefined;
  let nodes: Node[] = [];
  let c: TestCluster;

  const node = (id: string, extra = {}): Node => {
    const n = new Node({ nodeId: id, transport: c.transport(id, extra), logger: silentLogger });
    nodes.push(n);
    return n;
  };
  const pending = async (nodeId: string): Promise<number> => {
    const names = clusterNames('cloudstackd', c.name);
    return Number(((await raw!.xpending(names.stream(nodeId), names.group)) as unknown[])[0]);
  };

  before(async function () {
    requireRedis(this);
    server = await startRedis();
    raw = new Redis(server.url);
  });
  after(async () => { raw?.disconnect(); await server?.dispose(); });
  beforeEach(() => { c = testCluster(server!.url); });
  afterEach(async () => { for (const n of nodes) await n.stop().catch(() => undefined); nodes = []; });

  it('delivers every entry once, also those sent before the receiver started, and acknowledges them', async () => {
    const a = node('a');
    await a.start();
    for (let i = 0; i < 50; i++) await rt(a).sendDurable('b', record('b', i));
    const b = node('b');
    b.system.spawn('/echo', echoActor());
    await b.start();
    for (let i = 50; i < 300; i++) void rt(a).sendDurable('b', record('b', i));
    await waitFor(() => seqs(b).length === 300, 10_000, 'all durable entries');
    expect(new Set(seqs(b)).size).to.equal(300);
    await waitFor(async () => (await pending('b')) === 0, 5_000, 'entries acknowledged');
    expect(rt(b).stats().durableReceived).to.equal(300);
    expect(rt(a).stats().durableSent).to.equal(300);
  });

  it('claims the entries of a consumer that crashed before XACK; the handler still runs once per id', async () => {
    const b = node('b');
    b.system.spawn('/echo', echoActor());
    const a = node('a');
    await a.start();
    // A consumer of b's stream that will crash: the real lane code, stopped between delivery and XACK.
    const o = resolveRedisOptions({ nodeId: 'b', clusterName: c.name, clusterSecret: c.secret, url: server!.url, ...TEST_TIMERS });
    const cmd = new Redis(server!.url);
    const block = new Redis(server!.url);
    const crashing = new StreamsLane({
      o, names: clusterNames('cloudstackd', c.name), sealer: new FrameSealer(c.secret, c.name, 'b', randomBytes(8)),
      cmd, block, consumer: 'b/crashed', stats: emptyRedisStats(), log: silentLogger, deliver: (env) => b.remoting.receive(env),
    });
    await crashing.ensureGroup();
    await rt(a).sendDurable('b', record('b', 1));
    await rt(a).sendDurable('b', record('b', 2));
    const read = await crashing.readNew();
    expect(read).to.have.length(2);
    crashing.deliver([read[0]!]); // the first is handled by b's echo actor...
    cmd.disconnect();               // ...then the consumer dies: no XACK for either entry
    block.disconnect();
    await waitFor(() => seqs(b).length === 1, 5_000, 'first delivery');
    expect(await pending('b')).to.equal(2);

    await b.start(); // b's own consumer claims both after claimIdleMs
    await waitFor(async () => (await pending('b')) === 0, 10_000, 'claimed entries acknowledged');
    expect(rt(b).stats().durableClaimed).to.be.at.least(2);
    expect(seqs(b).sort()).to.deep.equal([1, 2]);
    expect(b.system.stats().duplicatesDropped).to.be.at.least(1);
  });

  it('prunes consumers of earlier instances once idle with nothing pending, never one holding entries', async () => {
    const names = clusterNames('cloudstackd', c.name);
    const o = resolveRedisOptions({ nodeId: 'b', clusterName: c.name, clusterSecret: c.secret, url: server!.url, ...TEST_TIMERS, claimIdleMs: 30 });
    const lane = new StreamsLane({ o, names, sealer: new FrameSealer(c.secret, c.name, 'b', randomBytes(8)), cmd: raw!, block: raw!,
      consumer: 'b/current', stats: emptyRedisStats(), log: silentLogger, deliver: () => undefined });
    await lane.ensureGroup();
    const key = names.stream('b');
    await raw!.xadd(key, '*', 'f', 'x');
    await raw!.xadd(key, '*', 'f', 'y');
    const read = await raw!.xreadgroup('GROUP', names.group, 'b/old-done', 'COUNT', 1, 'STREAMS', key, '>') as [string, [string, string[]][]][];
    await raw!.xack(key, names.group, read[0]![1][0]![0]);
    await raw!.xreadgroup('GROUP', names.group, 'b/old-holding', 'COUNT', 1, 'STREAMS', key, '>');
    await raw!.xreadgroup('GROUP', names.group, 'b/current', 'COUNT', 1, 'STREAMS', key, '0');
    await waitFor(async () => (await lane.pruneConsumers()) === 1, 5_000, 'the idle, empty consumer pruned');
    const left = (await raw!.xinfo('CONSUMERS', key, names.group) as unknown[][]).map((row) => String(row[1])).sort();
    expect(left).to.deep.equal(['b/current', 'b/old-holding']);
  });

  it('caps each stream with MAXLEN ~', async () => {
    const a = node('a', { streamMaxLen: 100 });
    await a.start();
    await Promise.all(Array.from({ length: 2_000 }, (_v, i) => rt(a).sendDurable('nobody', record('nobody', i))));
    const len = await raw!.xlen(clusterNames('cloudstackd', c.name).stream('nobody'));
    expect(len).to.be.at.least(100).and.below(400);
  });

  it('drops and acknowledges stream entries without a valid MAC', async () => {
    const b = node('b');
    b.system.spawn('/echo', echoActor());
    await b.start();
    const key = clusterNames('cloudstackd', c.name).stream('b');
    await raw!.xadd(key, '*', 'f', Buffer.from('XADD from redis-cli'));
    await raw!.xadd(key, '*', 'f', new FrameSealer(randomBytes(32), c.name, 'x', randomBytes(8)).seal(key, 0, 0, 1, Buffer.from([0x90]), Date.now()));
    await waitFor(() => rt(b).stats().macFailures === 2, 5_000, 'refused entries counted');
    await waitFor(async () => (await pending('b')) === 0, 5_000, 'refused entries acknowledged');
    expect(seqs(b)).to.deep.equal([]);
  });
});
