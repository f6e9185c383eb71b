/** Pure parts of the Redis transport: frame sealing, peer and sequence tracking, options, backoff. */
import { expect } from 'chai';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../../src/errors.js';
import { createSeededRandom } from '../../../src/random.js';
import { clusterNames } from '../../../transports/redis/channels.js';
import { reconnectDelay } from '../../../transports/redis/connections.js';
import { FrameKind, FrameSealer } from '../../../transports/redis/mac.js';
import { redactUrl, resolveRedisOptions } from '../../../transports/redis/options.js';
import { PeerTable, SequenceTracker } from '../../../transports/redis/peer-table.js';

const secret = randomBytes(32);

describe('redis transport units', () => {
  describe('FrameSealer', () => {
    const sealer = new FrameSealer(secret, 'prod', 'node-é', Buffer.from('0123456789abcdef', 'hex'));

    it('round-trips header and payload, and refuses any single-byte change', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 2 ** 40 }), fc.nat(), (payload, seq, flip) => {
        const frame = sealer.seal('ch', FrameKind.Envelopes, seq, 3, payload, 1_700_000_000_123);
        const f = sealer.open('ch', frame);
        expect(f).to.deep.include({ kind: FrameKind.Envelopes, seq, units: 3, sender: 'node-é', instance: '0123456789abcdef', sentAt: 1_700_000_000_123 });
        expect(Buffer.from((f as { payload: Buffer }).payload)).to.deep.equal(Buffer.from(payload));
        const bad = Buffer.from(frame);
        bad[flip % bad.length]! ^= 0x40;
        expect(sealer.open('ch', bad)).to.be.a('string');
      }), { numRuns: 200 });
    });

    it('binds frames to their channel, cluster name and secret', () => {
      const frame = sealer.seal('ch-a', FrameKind.Heartbeat, 0, 1, Buffer.from([1]), 0);
      expect(sealer.open('ch-b', frame)).to.equal('mac');
      expect(new FrameSealer(secret, 'staging', 'x', randomBytes(8)).open('ch-a', frame)).to.equal('mac');
      expect(new FrameSealer(randomBytes(32), 'prod', 'x', randomBytes(8)).open('ch-a', frame)).to.equal('mac');
      expect(new FrameSealer(secret, 'prod', 'x', randomBytes(8)).open('ch-a', frame)).to.be.an('object');
    });

    it('refuses short, foreign and truncated input without throwing', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(sealer.open('ch', Buffer.from(bytes))).to.be.a('string');
      }), { numRuns: 300 });
      const frame = sealer.seal('ch', FrameKind.Envelopes, 0, 1, Buffer.alloc(10), 0);
      expect(sealer.open('ch', frame.subarray(0, 40))).to.equal('short');
    });
  });

  describe('PeerTable', () => {
    it('tracks up, restarted, silent and departed peers', () => {
      const t = new PeerTable(2);
      expect(t.heard('a', 'i1', 0, 10)).to.equal('new');
      expect(t.heard('a', 'i1', 100)).to.equal('known');
      expect(t.heard('a', 'i2', 150)).to.equal('ignored'); // an envelope frame cannot switch instances
      expect(t.heard('a', 'i2', 200, 20)).to.equal('restarted');
      expect(t.heard('a', 'i1', 250, 10)).to.equal('ignored'); // the older instance, still talking
      expect(t.markDown('a', 'left', 'i1')).to.equal(false); // an old incarnation cannot take the new one down
      t.heard('b', 'j', 0);
      expect(t.heard('a', 'i2', 900)).to.equal('known');
      expect(t.silentFor(500, 1_000)).to.deep.equal(['b']);
      expect(t.markDown('b', 'silent')).to.equal(true);
      expect(t.markDown('never-seen', 'nothing subscribed')).to.equal(false);
      expect(t.downReason('never-seen')).to.equal('nothing subscribed');
      expect(t.downReason('b')).to.equal('silent');
      expect(t.ids()).to.deep.equal(['a']);
      expect(t.heard('b', 'j', 1_100)).to.equal('new');
      expect(t.downReason('b')).to.equal(undefined);
      for (const id of ['c', 'd', 'e']) { t.heard(id, 'x', 0); t.markDown(id, 'gone'); }
      expect([t.downReason('c'), t.downReason('d'), t.downReason('e')]).to.deep.equal([undefined, 'gone', 'gone']);
    });
  });

  describe('SequenceTracker', () => {
    it('counts gaps in units and refuses replays', () => {
      const s = new SequenceTracker(10);
      expect(s.check('i', 'ch', 40, 5)).to.equal(0); // first frame: nothing known before it
      expect(s.check('i', 'ch', 45, 2)).to.equal(0);
      expect(s.check('i', 'ch', 50, 1)).to.equal(3);
      expect(s.check('i', 'ch', 45, 2)).to.equal(-1);
      expect(s.check('i', 'other', 0, 1)).to.equal(0);
      s.forget('i');
      expect(s.check('i', 'ch', 0, 1)).to.equal(0);
    });
  });

  describe('options and backoff', () => {
    const base = { nodeId: 'n', clusterName: 'prod', clusterSecret: 'sixteen-bytes-secret' };

    it('refuses unsafe or contradictory options, naming the option', () => {
      expect(() => resolveRedisOptions({ ...base, clusterName: 'a:b' })).to.throw(ConfigError, /clusterName/);
      expect(() => resolveRedisOptions({ ...base, clusterSecret: 'short' })).to.throw(ConfigError, /clusterSecret/);
      expect(() => resolveRedisOptions({ ...base, url: 'http://x' })).to.throw(ConfigError, /url/);
      expect(() => resolveRedisOptions({ ...base, heartbeatIntervalMs: 1_000, peerTimeoutMs: 1_500 })).to.throw(ConfigError, /peerTimeoutMs/);
      expect(() => resolveRedisOptions({ ...base, maxFrameBytes: 0 })).to.throw(ConfigError, /maxFrameBytes/);
      expect(resolveRedisOptions(base).limits.maxFrameBytes).to.equal(1_048_576);
    });

    it('never waits longer than reconnectMaxMs between attempts, so resubscribing after a restart is quick', () => {
      const r = createSeededRandom(7);
      const delays = Array.from({ length: 50 }, (_v, i) => reconnectDelay(i + 1, 50, 500, r));
      expect(Math.max(...delays)).to.be.at.most(500);
      expect(Math.min(...delays)).to.be.at.least(1);
      expect(delays[0]).to.be.at.most(50);
      expect(delays.slice(10).every((d) => d >= 250)).to.equal(true); // capped, jittered down to half
    });

    it('keeps passwords out of messages and prefixes every name with the cluster', () => {
      expect(redactUrl('redis://alice:hunter2@h:6379/0')).to.equal('redis://alice:***@h:6379/0');
      const n = clusterNames('cloudstackd', 'prod');
      expect([n.broadcast, n.node('a:b'), n.stream('a')]).to.deep.equal(['cloudstackd:prod:broadcast', 'cloudstackd:prod:node:a:b', 'cloudstackd:prod:stream:a']);
    });
  });
});
