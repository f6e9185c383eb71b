/**
 * One conformance suite for every transport. A transport's test file calls
 * `transportConformance(factory)`; the same test code then runs against in-process, ws and redis.
 */
import { expect } from 'chai';
import { Node } from '../../src/node.js';
import { silentLogger } from '../../src/logger.js';
import { DeadLetterError, FrameTooLargeError, PeerDownError, TimeoutError, UnknownMessageError, ValidationError, CodecError } from '../../src/errors.js';
import type { Transport } from '../../src/transport.js';
import { createRealClock } from '../../src/clock.js';
import { createSeededRandom } from '../../src/random.js';
import { FaultInjector } from '../../transports/fault/fault-injector.js';
import { FaultTransport } from '../../transports/fault/fault-transport.js';
import { EchoProtocol, echoActor, type EchoState } from '../fixtures/echo-protocol.js';
import { waitFor } from '../helpers/wait.js';
import { ask, defineProtocol } from '../../src/protocol.js';
import { t } from '../../src/schema.js';

export interface TransportCluster {
  transports: Transport[];
  /** Makes the listed transports reachable from each other (dial seeds, learn addresses...). */
  connect?(nodes: Node[]): Promise<void>;
  /** Sends raw bytes to `target` as if from a misbehaving peer; resolves when delivered. */
  injectRawFrame?(target: Transport, bytes: Buffer): Promise<void>;
  cleanup(): Promise<void>;
}

export interface TransportFactory {
  name: string;
  /** Frame limit the transports are created with. */
  maxFrameBytes: number;
  create(nodeIds: string[]): Promise<TransportCluster>;
}

export async function startNodes(cluster: TransportCluster, wrap?: (t: Transport) => Transport): Promise<Node[]> {
  const nodes = cluster.transports.map((t) => new Node({
    nodeId: t.nodeId, transport: wrap ? wrap(t) : t, logger: silentLogger, askTimeoutMs: 10_000,
  }));
  for (const n of nodes) await n.start();
  await cluster.connect?.(nodes);
  return nodes;
}

export function transportConformance(factory: TransportFactory): void {
  describe(`transport conformance: ${factory.name}`, function () {
    this.timeout(60_000);
    let cluster: TransportCluster | undefined;
    let nodes: Node[] = [];

    async function setup(n: number, wrap?: (t: Transport) => Transport): Promise<Node[]> {
      cluster = await factory.create(Array.from({ length: n }, (_v, i) => `${factory.name}-n${i}-${Math.random().toString(36).slice(2, 7)}`));
      nodes = await startNodes(cluster, wrap);
      return nodes;
    }

    afterEach(async () => {
      for (const n of nodes) await n.stop().catch(() => undefined);
      nodes = [];
      await cluster?.cleanup();
      cluster = undefined;
    });

    it('refuses a reply that does not match the protocol (ValidationError to the asker, counted)', async () => {
      const [a, b] = await setup(2);
      // An actor that claims the echo protocol but answers `count` with text: a bug, or a peer of
      // another version. The asker's node checks the reply as the receiver checks requests.
      b!.system.spawn('/liar', { protocol: EchoProtocol, init: () => null,
        handlers: { count: () => 'many' as never } } as never);
      const ref = a!.system.ref({ node: b!.id, path: '/liar' }, EchoProtocol);
      const before = a!.system.stats().invalidMessages;
      const err = await ref.ask('count', {}).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as Error).message).to.match(/invalid reply to count .*reply: expected a finite number/);
      expect(a!.system.stats().invalidMessages).to.equal(before + 1);
    });

    it('keeps tells in order per sender–receiver pair', async () => {
      const [a, b] = await setup(2);
      b!.system.spawn('/echo', echoActor());
      const ref = a!.system.ref({ node: b!.id, path: '/echo' }, EchoProtocol);
      for (let i = 0; i < 2_000; i++) ref.tell('record', { seq: i, from: a!.id });
      await waitFor(async () => (await ref.ask('count', {})) === 2_000, 10_000);
      const state = b!.system.lookup('/echo')!.ctx.state as EchoState;
      expect(state.seen.map((s) => s.seq)).to.deep.equal(Array.from({ length: 2_000 }, (_v, i) => i));
    });

    it('answers asks and carries typed errors back', async () => {
      const [a, b] = await setup(2);
      b!.system.spawn('/echo', echoActor());
      const ref = a!.system.ref({ node: b!.id, path: '/echo' }, EchoProtocol);
      expect(await ref.ask('echo', { text: 'héllo ✓', seq: 7 })).to.deep.equal({ text: 'héllo ✓', seq: 7 });
      const dead = await a!.system.ref({ node: b!.id, path: '/nobody' }, EchoProtocol).ask('echo', { text: 'x' }).catch((e: unknown) => e);
      expect(dead).to.be.instanceOf(DeadLetterError);
      const invalid = await ref.ask('echo', { text: 42 } as never).catch((e: unknown) => e);
      expect(invalid).to.be.instanceOf(ValidationError);
      const unknown = await ref.ask('nope' as never, {} as never).catch((e: unknown) => e);
      expect(unknown).to.be.instanceOf(UnknownMessageError);
      expect(b!.system.stats().invalidMessages).to.equal(2);
    });

    it('enforces ask deadlines across nodes', async () => {
      const [a, b] = await setup(2);
      b!.system.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
      const ref = a!.system.ref({ node: b!.id, path: '/echo' }, EchoProtocol);
      const err = await ref.ask('slow', { ms: 1 }, { timeoutMs: 150 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(TimeoutError);
    });

    it('fails pending asks fast with PeerDownError when the peer is lost', async () => {
      const [a, b] = await setup(2);
      b!.system.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
      const ref = a!.system.ref({ node: b!.id, path: '/echo' }, EchoProtocol);
      await ref.ask('echo', { text: 'warm' });
      const started = Date.now();
      const pending = ref.ask('slow', { ms: 1 }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      await waitFor(() => b!.system.lookup('/echo')!.current !== undefined, 5_000);
      await b!.stop();
      const err = await pending;
      expect(err).to.be.instanceOf(PeerDownError);
      expect(Date.now() - started).to.be.below(30_000);
    });

    it('passes payloads up to the frame limit and refuses larger ones cleanly', async () => {
      const [a, b] = await setup(2);
      b!.system.spawn('/echo', echoActor());
      const ref = a!.system.ref({ node: b!.id, path: '/echo' }, EchoProtocol);
      const big = 'x'.repeat(factory.maxFrameBytes - 4_096);
      expect((await ref.ask('echo', { text: big })).text.length).to.equal(big.length);
      const tooBig = 'y'.repeat(factory.maxFrameBytes + 10);
      const err = await ref.ask('echo', { text: tooBig }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(FrameTooLargeError);
      expect(await ref.ask('echo', { text: 'still fine' })).to.deep.equal({ text: 'still fine' });
    });

    it('survives malformed frames: counted, other traffic untouched', async function () {
      const [a, b, c] = await setup(3);
      if (!cluster!.injectRawFrame) this.skip();
      c!.system.spawn('/echo', echoActor());
      const ref = a!.system.ref({ node: c!.id, path: '/echo' }, EchoProtocol);
      await ref.ask('echo', { text: 'before' });
      for (const bytes of [Buffer.from([0xc1]), Buffer.from([0x91, 0xd6, 0xff, 0, 0, 0, 0]), Buffer.from('not msgpack at all')]) {
        await cluster!.injectRawFrame!(c!.transport!, bytes);
      }
      await waitFor(() => c!.transport!.stats().decodeErrors >= 3, 5_000);
      expect(await ref.ask('echo', { text: 'after' })).to.deep.equal({ text: 'after' });
      const fromB = b!.system.ref({ node: c!.id, path: '/echo' }, EchoProtocol);
      expect(await fromB.ask('echo', { text: 'b' })).to.deep.equal({ text: 'b' });
      void CodecError;
    });

    it('watches a remote actor: terminated when it stops, and when its node is lost', async () => {
      const [a, b] = await setup(2);
      b!.system.spawn('/echo', echoActor());
      b!.system.spawn('/echo2', echoActor());
      const seen: string[] = [];
      const Watch = defineProtocol('watcher', '1.0', { watch: ask(t.object({ node: t.string(), path: t.string() }), t.string()) });
      const watcher = a!.system.spawn('/watcher', {
        protocol: Watch,
        handlers: { watch: (target, ctx) => { ctx.watch(target); return 'ok'; } },
        onTerminated: (target) => { seen.push(target.path); },
      });
      await watcher.ask('watch', { node: b!.id, path: '/echo' });
      await watcher.ask('watch', { node: b!.id, path: '/echo2' });
      await a!.system.ref({ node: b!.id, path: '/echo' }, EchoProtocol).ask('echo', { text: 'sync' });
      await b!.system.stop('/echo');
      await waitFor(() => seen.includes('/echo'), 10_000, 'terminated for a stopped remote actor');
      expect(seen).to.deep.equal(['/echo']);
      await b!.stop();
      await waitFor(() => seen.includes('/echo2'), 20_000, 'terminated when the node is lost');
    });

    it('10,000 asks from 50 concurrent senders: none lost, none duplicated', async () => {
      const ns = await setup(3);
      const target = ns[2]!;
      target.system.spawn('/echo', echoActor());
      await runLoad(ns.slice(0, 2), target, 10_000, 50, false);
      const state = target.system.lookup('/echo')!.ctx.state as EchoState;
      expect(state.workIds.length).to.equal(10_000);
      expect(new Set(state.workIds).size).to.equal(10_000);
    });

    it('with 1% loss and 1% duplication, retried asks still run each handler once per id', async () => {
      const faults = new FaultInjector(createSeededRandom(42), createRealClock(), { loss: 0.01, duplicate: 0.01 });
      const ns = await setup(3, (t) => new FaultTransport(t, faults));
      const target = ns[2]!;
      target.system.spawn('/echo', echoActor());
      await runLoad(ns.slice(0, 2), target, 10_000, 50, true);
      const state = target.system.lookup('/echo')!.ctx.state as EchoState;
      expect(new Set(state.workIds).size).to.equal(10_000);
      expect(state.workIds.length).to.equal(10_000);
      expect(faults.counters.dropped).to.be.greaterThan(0);
      expect(faults.counters.duplicated).to.be.greaterThan(0);
      expect(target.system.stats().duplicatesDropped).to.be.greaterThan(0);
    });
  });
}

/** `senders` concurrent loops spread over `from` nodes send `total` asks with unique ids to `target`. */
async function runLoad(from: Node[], target: Node, total: number, senders: number, retry: boolean): Promise<void> {
  let next = 0;
  const answers = new Map<string, number>();
  await Promise.all(Array.from({ length: senders }, async (_v, s) => {
    const node = from[s % from.length]!;
    const ref = node.system.ref({ node: target.id, path: '/echo' }, EchoProtocol);
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const id = `${node.id}-${i}`;
      const reply = await ref.ask('work', { id: `w${i}` }, retry ? { id, retry: { intervalMs: 200 }, timeoutMs: 20_000 } : {});
      answers.set(reply, (answers.get(reply) ?? 0) + 1);
    }
  }));
  expect(answers.size).to.equal(total);
  expect([...answers.values()].every((n) => n === 1)).to.equal(true);
}
