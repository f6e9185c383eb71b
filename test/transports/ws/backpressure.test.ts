import { expect } from 'chai';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeFrame } from '../../../src/codec.js';
import { BackPressureError } from '../../../src/errors.js';
import type { BackPressurePolicy } from '../../../transports/ws/options.js';
import { waitFor } from '../../helpers/wait.js';
import { RawPeer } from './raw-peer.js';
import { CLUSTER, Fixture, SECRET, tell } from './ws-helpers.js';

const HWM = 256 * 1024;
const MAX_HELD = 2 * 1024 * 1024;
const FRAME = 256 * 1024;
const PER_TURN = 64;
const BODY = 'p'.repeat(4 * 1024);
// Loopback kernel buffers hold several MiB before the socket's own buffer grows; stop long after.
const MAX_TURNS = 2_000;

describe('ws transport: back-pressure', function () {
  this.timeout(30_000);
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  async function congested(policy: BackPressurePolicy) {
    const s = await fx.transport('s', {
      maxFrameBytes: FRAME, pingIntervalMs: 60_000,
      backPressure: { policy, highWaterMarkBytes: HWM, maxHeldBytes: MAX_HELD },
    });
    const raw = await RawPeer.connect({ address: s.t.address()!, nodeId: 'slow', cluster: CLUSTER, secret: SECRET });
    fx.onCleanup(() => raw.close());
    raw.pause(); // a peer that stops reading
    let sent = 0;
    let maxHeld = 0;
    let maxBuffered = 0;
    for (let turn = 0; turn < MAX_TURNS && s.rec.undeliverable.length === 0; turn++) {
      for (let i = 0; i < PER_TURN; i++) { s.t.send('slow', tell('s', 'slow', { seq: sent, pad: BODY })); sent++; }
      await nextTurn();
      const c = s.t.connections()[0]!;
      maxHeld = Math.max(maxHeld, c.heldBytes);
      maxBuffered = Math.max(maxBuffered, c.bufferedAmount);
    }
    return { s, raw, sent, maxHeld, maxBuffered };
  }

  function receivedSeqs(raw: RawPeer): number[] {
    return raw.frames.flatMap((f) => decodeFrame(f, { maxFrameBytes: FRAME, maxDepth: 64 })).map((e) => (e.body as { seq: number }).seq);
  }

  it("'hold' keeps frames out of the socket up to maxHeldBytes, then refuses with BackPressureError; all held frames flow once the peer reads", async () => {
    const { s, raw, sent, maxHeld, maxBuffered } = await congested('hold');
    const refused = s.rec.undeliverable;
    expect(refused.length).to.be.greaterThan(0);
    expect(refused.every((u) => u.err instanceof BackPressureError && u.err.retryable)).to.equal(true);
    expect(s.t.stats().backpressureRejects).to.equal(refused.length);
    expect(s.t.stats().backpressureEvents).to.be.greaterThan(0);
    // Memory stays bounded: the socket holds about the high-water mark plus one frame, the transport at most maxHeldBytes plus one turn.
    expect(maxBuffered).to.be.below(HWM + 2 * FRAME);
    expect(maxHeld).to.be.below(MAX_HELD + 2 * FRAME);
    expect(maxHeld).to.be.greaterThan(0);
    raw.resume();
    const accepted = sent - refused.length;
    await waitFor(() => receivedSeqs(raw).length === accepted, 20_000, 'held frames delivered');
    const refusedSeqs = new Set(refused.map((u) => (u.env.body as { seq: number }).seq));
    expect(receivedSeqs(raw)).to.deep.equal(Array.from({ length: sent }, (_v, i) => i).filter((i) => !refusedSeqs.has(i)));
    expect(s.t.stats().heldBytes).to.equal(0);
  });

  it("'error' refuses new envelopes with BackPressureError as soon as the socket passes the high-water mark", async () => {
    const { s, raw, sent, maxHeld, maxBuffered } = await congested('error');
    const refused = s.rec.undeliverable;
    expect(refused.length).to.be.greaterThan(0);
    expect(refused.every((u) => u.err instanceof BackPressureError)).to.equal(true);
    expect(String(refused[0]!.err.message)).to.match(/highWaterMarkBytes/);
    expect(maxBuffered).to.be.below(HWM + 2 * FRAME);
    expect(maxHeld).to.be.below(2 * FRAME); // nothing piles up in the transport either
    raw.resume();
    await waitFor(() => receivedSeqs(raw).length === sent - refused.length, 20_000, 'accepted frames delivered');
    // Drained: sending works again.
    s.t.send('slow', tell('s', 'slow', { seq: -1 }));
    await waitFor(() => receivedSeqs(raw).includes(-1), 5_000);
    expect(s.rec.undeliverable.length).to.equal(refused.length);
  });
});
