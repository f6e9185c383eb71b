import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { AuthError, ConfigError, PeerDownError } from '../../../src/errors.js';
import { WsTransport } from '../../../transports/ws/ws-transport.js';
import {
  HANDSHAKE_VERSION, HandshakeRefusal, newNonce, NonceBook, parseHandshake, signHello, signWelcome, verifyHello, type Hello,
} from '../../../transports/ws/handshake.js';
import { waitFor } from '../../helpers/wait.js';
import { RawPeer } from './raw-peer.js';
import { captureLogger, CLUSTER, Fixture, SECRET, tell } from './ws-helpers.js';

describe('ws transport: handshake', function () {
  this.timeout(10_000);
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  describe('message checks (pure)', () => {
    const ctx = { secret: SECRET, cluster: CLUSTER, self: 'server', now: 1_000_000, maxSkewMs: 30_000 };
    const hello = (over: Partial<Hello> = {}, secret = SECRET): Hello => signHello(secret, {
      t: 'hello', v: HANDSHAKE_VERSION, cluster: CLUSTER, node: 'client', to: 'server', epoch: 'e1', nonce: 'N1',
      cnonce: 'C1', ts: 1_000_000, address: '', ...over,
    });
    const refusal = (fn: () => void): string => {
      try { fn(); } catch (err) { expect(err).to.be.instanceOf(HandshakeRefusal); return (err as HandshakeRefusal).reason; }
      throw new Error('expected a refusal');
    };

    it('accepts a correct hello once, then calls the same nonce a replay', () => {
      const book = new NonceBook(60_000);
      verifyHello(hello(), ctx, 'N1', book);
      expect(refusal(() => verifyHello(hello(), ctx, 'N1', book))).to.match(/replayed/);
      expect(refusal(() => verifyHello(hello(), ctx, 'N2', book))).to.match(/replayed handshake/);
    });

    it('refuses a wrong secret, a missing MAC, another cluster, a skewed clock, another addressee', () => {
      const book = new NonceBook(60_000);
      expect(refusal(() => verifyHello(hello({}, Buffer.from('another-secret-0123456789')), ctx, 'N1', book))).to.match(/wrong cluster secret/);
      expect(refusal(() => verifyHello({ ...hello(), mac: '' }, ctx, 'N1', book))).to.match(/no proof/);
      expect(refusal(() => verifyHello(hello({ cluster: 'other' }), ctx, 'N1', book))).to.match(/cluster name mismatch/);
      expect(refusal(() => verifyHello(hello({ ts: 1_000_000 - 31_000 }), ctx, 'N1', book))).to.match(/off this node's clock/);
      expect(refusal(() => verifyHello(hello({ to: 'someone-else' }), ctx, 'N1', book))).to.match(/addressed to/);
      // A MAC computed over other fields (here: another nonce) does not verify.
      expect(refusal(() => verifyHello({ ...hello({ nonce: 'N9' }), nonce: 'N1' }, ctx, 'N1', book))).to.match(/wrong cluster secret/);
      verifyHello(hello({ ts: 1_000_000 + 29_000 }), ctx, 'N1', book);
    });

    it('parses only well-formed handshake messages', () => {
      const ok = Buffer.from(JSON.stringify(hello()));
      expect(parseHandshake(ok, false, 'hello').t).to.equal('hello');
      expect(refusal(() => parseHandshake(ok, true, 'hello'))).to.match(/binary/);
      expect(refusal(() => parseHandshake(Buffer.from('{'), false, 'hello'))).to.match(/not JSON/);
      expect(refusal(() => parseHandshake(Buffer.from('[1]'), false, 'hello'))).to.match(/not an object/);
      expect(refusal(() => parseHandshake(ok, false, 'welcome'))).to.match(/expected a welcome/);
      expect(refusal(() => parseHandshake(Buffer.from(JSON.stringify({ ...hello(), v: 99 })), false, 'hello'))).to.match(/version 99/);
      expect(refusal(() => parseHandshake(Buffer.from(JSON.stringify({ ...hello(), ts: 'now' })), false, 'hello'))).to.match(/field ts/);
      expect(refusal(() => parseHandshake(Buffer.alloc(5000, 0x20), false, 'hello'))).to.match(/too large/);
    });

    it('forgets nonces once they are older than the window', () => {
      const book = new NonceBook(1_000);
      expect(book.consume('a', 0)).to.equal(true);
      expect(book.consume('a', 500)).to.equal(false);
      expect(book.has('a', 1_001)).to.equal(false);
    });
  });

  describe('over real connections', () => {
    async function server(): Promise<Awaited<ReturnType<Fixture['transport']>> & { records: ReturnType<typeof captureLogger>['records'] }> {
      const { logger, records } = captureLogger();
      const s = await fx.transport('server', { logger });
      return { ...s, records };
    }

    function refusalLines(records: ReturnType<typeof captureLogger>['records']): string[] {
      return records.filter((r) => r.msg === 'refused a peer at the handshake').map((r) => String(r.fields.reason));
    }

    it('a node with a wrong secret is refused, logged, counted, and never a member', async () => {
      const s = await server();
      const { t: intruder, rec: intruderRec } = await fx.transport('intruder', { clusterSecret: Buffer.from('not-the-cluster-secret-at-all'), peerDownGraceMs: 300 });
      const err = await intruder.dial(s.t.address()!).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AuthError);
      expect(s.t.stats().authFailures).to.equal(1);
      expect(intruder.stats().refusedByPeer).to.equal(1);
      expect(refusalLines(s.records)).to.have.length(1);
      expect(refusalLines(s.records)[0]).to.match(/wrong cluster secret/);
      expect(s.rec.ups).to.deep.equal([]);
      expect(intruderRec.ups).to.deep.equal([]);
      expect(s.t.peers()).to.deep.equal([]);
      // It cannot push messages either: sends to the server never connect.
      intruder.learnAddress('server', s.t.address()!);
      intruder.send('server', tell('intruder', 'server'));
      await waitFor(() => intruderRec.undeliverable.length === 1, 5_000);
      expect(intruderRec.undeliverable[0]!.err).to.be.instanceOf(PeerDownError);
      expect(intruderRec.undeliverable[0]!.err.message).to.match(/refused this node's handshake: wrong cluster secret/);
      expect(s.rec.envelopes).to.deep.equal([]);
    });

    it('a peer without the secret (no MAC) is refused', async () => {
      const s = await server();
      const peer = await RawPeer.connect({ address: s.t.address()!, nodeId: 'nosecret', cluster: CLUSTER, secret: undefined });
      expect(peer.welcome).to.equal(undefined);
      expect((await peer.closed).code).to.equal(4003);
      expect(s.t.stats().authFailures).to.equal(1);
      expect(refusalLines(s.records)[0]).to.match(/no proof of the cluster secret/);
      expect(s.rec.ups).to.deep.equal([]);
      expect(() => new WsTransport({ nodeId: 'x', clusterName: CLUSTER, clusterSecret: '' })).to.throw(ConfigError, /clusterSecret/);
    });

    it('nodes of another cluster are refused both ways', async () => {
      const s = await server();
      const { t: other, rec: otherRec } = await fx.transport('other', { clusterName: 'another-cluster' });
      const err = await other.dial(s.t.address()!).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AuthError);
      expect(String((err as Error).message)).to.match(/cluster name mismatch/);
      expect(other.stats().authFailures).to.equal(1); // the dialer saw the challenge and refused
      const peer = await RawPeer.connect({ address: s.t.address()!, nodeId: 'raw-other', cluster: 'another-cluster', secret: SECRET });
      expect((await peer.closed).code).to.equal(4003);
      expect(s.t.stats().authFailures).to.equal(1);
      expect(refusalLines(s.records)[0]).to.match(/cluster name mismatch/);
      expect(s.rec.ups).to.deep.equal([]);
      expect(otherRec.ups).to.deep.equal([]);
    });

    it('a replayed handshake is refused', async () => {
      const s = await server();
      const first = await RawPeer.connect({ address: s.t.address()!, nodeId: 'rec', cluster: CLUSTER, secret: SECRET });
      expect(first.welcome).to.not.equal(undefined);
      await first.close();
      const replay = await RawPeer.connect({ address: s.t.address()!, nodeId: 'rec', cluster: CLUSTER, secret: SECRET, replay: first.hello! });
      expect(replay.welcome).to.equal(undefined);
      expect((await replay.closed).code).to.equal(4003);
      expect(s.t.stats().authFailures).to.equal(1);
      expect(refusalLines(s.records)[0]).to.match(/replayed handshake/);
      expect(s.rec.ups).to.deep.equal(['rec']); // only the genuine one
    });

    it('a handshake timestamp more than 30 s off is refused; 20 s is tolerated', async () => {
      const s = await server();
      const skewed = await RawPeer.connect({ address: s.t.address()!, nodeId: 'skewed', cluster: CLUSTER, secret: SECRET, tsOffsetMs: 45_000 });
      expect((await skewed.closed).code).to.equal(4003);
      expect(refusalLines(s.records)[0]).to.match(/45 s off this node's clock/);
      const late = await RawPeer.connect({ address: s.t.address()!, nodeId: 'late', cluster: CLUSTER, secret: SECRET, tsOffsetMs: -20_000 });
      expect(late.welcome).to.not.equal(undefined);
      expect(s.t.stats().authFailures).to.equal(1);
      expect(s.rec.ups).to.deep.equal(['late']);
      await late.close();
    });

    it('a connection that never completes the handshake is cut and counted; past maxPendingHandshakes the oldest is shed for a newcomer', async () => {
      const s = await fx.transport('server', { handshakeTimeoutMs: 1_000, maxPendingHandshakes: 2 });
      const open = (): { challenged: Promise<void>; closed: Promise<number> } => {
        const ws = new WebSocket(s.t.address()!);
        ws.on('error', () => undefined);
        return {
          challenged: new Promise((resolve) => ws.once('message', () => resolve())),
          closed: new Promise((resolve) => ws.once('close', (code) => resolve(code))),
        };
      };
      const first = open();
      await first.challenged;
      const rest = [open(), open()];
      // The third connection found the table full: the oldest (the first) was cut to admit it.
      expect(await first.closed).to.equal(1006);
      expect(await Promise.all(rest.map((r) => r.closed))).to.deep.equal([4004, 4004]);
      expect(s.t.stats().pendingShed).to.equal(1);
      expect(s.t.stats().handshakeTimeouts).to.equal(2);
      expect(s.rec.ups).to.deep.equal([]);
    });

    it('the server proves the secret too: a welcome with a wrong MAC is refused by the dialer', async () => {
      // A fake server that knows the protocol but not the secret: it answers any hello with a forged welcome.
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      fx.onCleanup(() => new Promise((r) => { wss.close(() => r()); }));
      await new Promise((r) => wss.once('listening', r));
      wss.on('connection', (ws) => {
        const nonce = newNonce();
        ws.send(JSON.stringify({ t: 'challenge', v: HANDSHAKE_VERSION, cluster: CLUSTER, node: 'fake', epoch: 'e', nonce, ts: Date.now() }));
        ws.once('message', (data) => {
          const h = JSON.parse(data.toString()) as Hello;
          ws.send(JSON.stringify(signWelcome(Buffer.from('guessed-secret-0123456789'), {
            t: 'welcome', v: HANDSHAKE_VERSION, cluster: CLUSTER, node: 'fake', to: h.node, epoch: 'e', nonce, cnonce: h.cnonce, ts: Date.now(), dup: false,
          })));
        });
      });
      const { logger, records } = captureLogger();
      const { t: client, rec } = await fx.transport('client', { logger });
      const err = await client.dial(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AuthError);
      expect(String((err as Error).message)).to.match(/wrong cluster secret/);
      expect(client.stats().authFailures).to.equal(1);
      expect(records.some((r) => r.msg === 'refused a peer at the handshake' && /wrong cluster secret/.test(String(r.fields.reason)))).to.equal(true);
      expect(rec.ups).to.deep.equal([]);
      expect(client.peers()).to.deep.equal([]);
    });
  });
});
