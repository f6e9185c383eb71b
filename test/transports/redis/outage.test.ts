/**
 * Redis going away under traffic: stopped or killed, then started again; and a subscriber that falls so
 * far behind that Redis cuts it off (client-output-buffer-limit pubsub). Nothing hangs, asks complete or
 * fail with a retryable error before their deadline, what pub/sub lost is counted, and the transport
 * comes back by itself.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { isRetryable, PeerDownError, TimeoutError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { clusterNames } from '../../../transports/redis/channels.js';
import type { RedisTransport } from '../../../transports/redis/redis-transport.js';
import { EchoProtocol, echoActor, type EchoState } from '../../fixtures/echo-protocol.js';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { startChildNode } from './node-child.js';
import { allConnected, testCluster } from './fixture.js';

const rt = (n: Node): RedisTransport => n.transport as RedisTransport;

/** Retries on retryable errors (as callers are expected to), at most `attempts` times. */
async function askUntilOk<T>(ask: () => Promise<T>, attempts = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await ask();
    } catch (err) {
      if (!isRetryable(err) || i >= attempts) throw err;
      await sleep(100);
    }
  }
}
const seenSeqs = (n: Node): number[] => (n.system.lookup('/echo')!.ctx.state as EchoState).seen.map((s) => s.seq);

describe('redis transport: outages', function () {
  this.timeout(60_000);
  let server: RedisServer | undefined;
  let nodes: Node[] = [];

  before(async function () {
    requireRedis(this);
    server = await startRedis();
    if (!server.owned) this.skip(); // cannot stop a Redis given by REDIS_URL
  });
  after(async () => { await server?.dispose(); });
  afterEach(async () => { for (const n of nodes) await n.stop().catch(() => undefined); nodes = []; });

  for (const mode of ['stop', 'kill'] as const) {
    it(`survives a Redis ${mode === 'stop' ? 'stop (SIGTERM)' : 'crash (SIGKILL)'} and restart under traffic`, async () => {
      const c = testCluster(server!.url);
      const [asker, echo, teller, sink] = nodes = ['asker', 'echo', 'teller', 'sink'].map((id) => new Node({ nodeId: id, transport: c.transport(id), logger: silentLogger }));
      echo!.system.spawn('/echo', echoActor());
      sink!.system.spawn('/echo', echoActor());
      for (const n of nodes) await n.start();
      const transports = nodes.map(rt);
      await allConnected(transports);

      // Load: 10 ask loops asker → echo, and a steady stream of numbered tells teller → sink.
      let phase: 'before' | 'outage' | 'after' = 'before';
      let stopLoad = false;
      let ok = 0;
      let okAfter = 0;
      const failures: unknown[] = [];
      const ref = asker!.system.ref({ node: 'echo', path: '/echo' }, EchoProtocol);
      const loops = Array.from({ length: 10 }, async () => {
        while (!stopLoad) {
          try {
            await ref.ask('echo', { text: 'ping' }, { timeoutMs: 8_000 });
            ok++;
            if (phase === 'after') okAfter++;
          } catch (err) {
            failures.push(err);
            await sleep(20);
          }
        }
      });
      const tref = teller!.system.ref({ node: 'sink', path: '/echo' }, EchoProtocol);
      let sent = 0;
      const tells = setInterval(() => { for (let i = 0; i < 5; i++) tref.tell('record', { seq: sent++, from: 'teller' }); }, 2);

      try {
        await waitFor(() => ok >= 200, 10_000, 'asks before the outage');
        phase = 'outage';
        await (mode === 'stop' ? server!.stop() : server!.kill());
        await waitFor(() => transports.every((t) => !t.isConnected()), 5_000, 'every node to notice');
        await sleep(300);
        await server!.start();
        const back = Date.now();
        await waitFor(() => transports.every((t) => t.isConnected()), 10_000, 'every node to resubscribe');
        const resubscribedMs = Date.now() - back;
        await allConnected(transports);
        phase = 'after';
        await waitFor(() => okAfter >= 200, 15_000, 'asks after the restart');
        process.stdout.write(`      (resubscribed ${resubscribedMs} ms after redis came back)\n`);
      } finally {
        clearInterval(tells);
        stopLoad = true;
        await Promise.all(loops);
      }

      // Every ask settled; those that failed did so with a retryable error, not at their deadline.
      expect(failures.length).to.be.greaterThan(0);
      expect(failures.filter((e) => !isRetryable(e) || e instanceof TimeoutError)).to.deep.equal([]);
      expect(failures.some((e) => e instanceof PeerDownError)).to.equal(true);
      for (const t of transports) {
        expect(t.stats().redisDisconnects).to.be.at.least(1);
        expect(t.stats().resubscribes).to.be.at.least(1);
      }

      // Tells: in order, and whatever did not arrive is counted (by the sender or as a sequence gap).
      const counted = (): number => teller!.system.stats().sendFailures + rt(sink!).stats().lostEnvelopes;
      await waitFor(() => seenSeqs(sink!).length + counted() >= sent, 10_000, 'tells delivered or counted');
      const got = seenSeqs(sink!);
      expect(got.every((s, i) => i === 0 || s > got[i - 1]!)).to.equal(true);
      expect(sent - got.length).to.be.at.most(counted());
      expect(teller!.system.stats().sendFailures).to.be.greaterThan(0);

      // The durable lane works again although the restarted Redis lost the stream and its group.
      await rt(teller!).sendDurable('sink', { kind: 'tell', id: 'after-restart', toNode: 'sink', to: '/echo', fromNode: 'teller', from: '', type: 'record', body: { seq: -1, from: 'durable' } });
      await waitFor(() => seenSeqs(sink!).includes(-1), 10_000, 'durable delivery after the restart');
    });
  }

  it('fails asks pending on a peer that lost its own connection to Redis, instead of letting them time out', async () => {
    const c = testCluster(server!.url);
    const [a, b] = nodes = ['a', 'b'].map((id) => new Node({ nodeId: id, transport: c.transport(id), logger: silentLogger }));
    // The handler answers exactly while b is cut off, so its reply is lost for sure.
    b!.system.spawn('/echo', echoActor({ slowWith: () => waitFor(() => !rt(b!).isConnected(), 10_000, 'b cut off', 1) }));
    for (const n of nodes) await n.start();
    await allConnected(nodes.map(rt));
    const ref = a!.system.ref({ node: 'b', path: '/echo' }, EchoProtocol);
    const pending = ref.ask('slow', { ms: 1 }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await waitFor(() => b!.system.lookup('/echo')!.current !== undefined, 5_000, 'the ask to reach b');
    // Only b's command connection drops (as if Redis closed it); a's connections stay up throughout.
    const raw = new Redis(server!.url);
    try {
      const list = await raw.client('LIST') as string;
      const id = /id=(\d+) .*name=cloudstackd:[^ ]*:b:cmd /.exec(list)?.[1];
      expect(id).to.be.a('string');
      await raw.client('KILL', 'ID', id!);
    } finally {
      raw.disconnect();
    }
    expect(await pending).to.be.instanceOf(PeerDownError);
    expect(rt(a!).stats().redisDisconnects).to.equal(0);
    await waitFor(() => rt(b!).isConnected() && a!.transport!.peers().includes('b') && b!.transport!.peers().includes('a'), 5_000, 'b back');
    expect(await ref.ask('echo', { text: 'again' })).to.deep.equal({ text: 'again' });
  });

  it('recovers a subscriber that Redis cut off for falling behind', async function () {
    const limited = await startRedis({ args: ['--client-output-buffer-limit', 'pubsub', '512kb', '256kb', '1'] });
    const c = testCluster(limited.url);
    const a = new Node({ nodeId: 'a', transport: c.transport('a'), logger: silentLogger });
    nodes = [a];
    await a.start();
    const slow = await startChildNode({ url: limited.url, cluster: c.name, secret: c.secret, nodeId: 'slow' });
    const raw = new Redis(limited.url);
    try {
      const ref = a.system.ref({ node: 'slow', path: '/echo' }, EchoProtocol);
      await waitFor(() => a.transport!.peers().includes('slow'), 10_000, 'the child node');
      expect(await ref.ask('echo', { text: 'before' })).to.deep.equal({ text: 'before' });

      slow.child.kill('SIGSTOP'); // it stops reading; Redis buffers for it until the limit
      const stuck = ref.ask('echo', { text: 'while frozen' }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      const channel = clusterNames('cloudstackd', c.name).node('slow');
      const junk = randomBytes(100 * 1024);
      for (let i = 0; i < 300; i++) void raw.publish(channel, junk);
      await waitFor(async () => Number((await raw.pubsub('NUMSUB', channel) as unknown[])[1]) === 0, 10_000, 'redis to cut the subscriber off');
      const info = await raw.info('stats');
      expect(Number(/client_output_buffer_limit_disconnections:(\d+)/.exec(info)?.[1] ?? 1)).to.be.at.least(1);
      expect(await stuck).to.be.instanceOf(PeerDownError); // failed fast, not at its 30 s deadline

      slow.child.kill('SIGCONT');
      // A caller retries retryable errors: right after SIGCONT the child may still heartbeat on its old,
      // cut-off subscription, and the first asks can fail with PeerDownError until it has resubscribed.
      const again = await askUntilOk(() => ref.ask('echo', { text: 'after' }, { timeoutMs: 5_000 }));
      expect(again).to.deep.equal({ text: 'after' });
      const s = await slow.stats();
      expect(s.redisDisconnects).to.be.at.least(1);
      expect(s.resubscribes).to.be.at.least(1);
    } finally {
      raw.disconnect();
      await slow.stop();
      await a.stop();
      nodes = [];
      await limited.dispose();
    }
  });
});
