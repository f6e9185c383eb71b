import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigError } from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/random.js';
import { Backoff } from '../../../transports/ws/backoff.js';
import { normalizeAddress } from '../../../transports/ws/listener.js';
import { resolveWsOptions, WS_DEFAULTS, type WsTransportOptions } from '../../../transports/ws/options.js';

const base: WsTransportOptions = { nodeId: 'n1', clusterName: 'c', clusterSecret: '0123456789abcdef' };

describe('ws transport: options and backoff', () => {
  it('applies the documented defaults', () => {
    const o = resolveWsOptions(base);
    expect(o.host).to.equal('127.0.0.1');
    expect(o.port).to.equal(0);
    expect(o.maxFrameBytes).to.equal(1_048_576);
    expect(o.maxClockSkewMs).to.equal(30_000);
    expect(o.policy).to.equal('hold');
    expect(o.reconnect).to.deep.equal(WS_DEFAULTS.reconnect);
    expect([o.handshakeTimeoutMs, o.maxPendingHandshakes, o.maxPendingHandshakesPerAddress]).to.deep.equal([5_000, 64, 16]);
    // A smaller table lowers the per-address default with it.
    expect(resolveWsOptions({ ...base, maxPendingHandshakes: 4 }).maxPendingHandshakesPerAddress).to.equal(4);
  });

  it('refuses bad or contradictory options with a message naming the option', () => {
    const bad: [Partial<WsTransportOptions>, RegExp][] = [
      [{ clusterSecret: 'short' }, /clusterSecret/],
      [{ nodeId: 'has space' }, /nodeId/],
      [{ clusterName: '' }, /clusterName/],
      [{ port: 70_000 }, /port/],
      [{ maxFrameBytes: 10 }, /maxFrameBytes/],
      [{ pingIntervalMs: 0 }, /pingIntervalMs/],
      [{ reconnect: { initialMs: 500, maxMs: 100 } }, /reconnect.maxMs/],
      [{ reconnect: { jitter: 2 } }, /jitter/],
      [{ backPressure: { maxHeldBytes: 1024 } }, /maxHeldBytes/],
      [{ backPressure: { policy: 'drop' as never } }, /policy/],
      [{ tls: { cert: 'x' } as never }, /tls/],
      [{ maxPendingHandshakes: 8, maxPendingHandshakesPerAddress: 9 }, /maxPendingHandshakesPerAddress/],
      [{ connectionLogIntervalMs: 0 }, /connectionLogIntervalMs/],
    ];
    for (const [over, re] of bad) expect(() => resolveWsOptions({ ...base, ...over }), re.source).to.throw(ConfigError, re);
  });

  it('normalizes addresses and refuses what is not one', () => {
    expect(normalizeAddress('127.0.0.1:7070', false)).to.equal('ws://127.0.0.1:7070');
    expect(normalizeAddress('127.0.0.1:7070', true)).to.equal('wss://127.0.0.1:7070');
    expect(normalizeAddress('ws://[::1]:7070', false)).to.equal('ws://[::1]:7070');
    for (const bad of ['nohost', 'ws://h', 'ws://h:1/path', 'http//x:1']) expect(() => normalizeAddress(bad, false), bad).to.throw(ConfigError);
  });

  it('backoff grows exponentially up to the cap, with jitter inside each step, and resets', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 1, noNaN: true }),
      (seed, initialMs, capSteps, jitter) => {
        const maxMs = initialMs * capSteps;
        const b = new Backoff({ initialMs, maxMs, factor: 2, jitter }, createSeededRandom(seed));
        for (let i = 0; i < 30; i++) {
          const step = Math.min(maxMs, initialMs * 2 ** i);
          const d = b.next();
          expect(d).to.be.within(Math.floor(step * (1 - jitter)) , Math.ceil(step));
        }
        b.reset();
        expect(b.next()).to.be.at.most(initialMs);
      }));
  });

  it('the same seed gives the same delays', () => {
    const delays = (seed: number): number[] => {
      const b = new Backoff(WS_DEFAULTS.reconnect, createSeededRandom(seed));
      return Array.from({ length: 10 }, () => b.next());
    };
    expect(delays(7)).to.deep.equal(delays(7));
    expect(delays(7)).to.not.deep.equal(delays(8));
  });
});
