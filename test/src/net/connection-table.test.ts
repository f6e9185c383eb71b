import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import { addressKey, UNKNOWN_SOURCE } from '../../../src/net/address-key.js';
import { ConnectionTable } from '../../../src/net/connection-table.js';
import { EventTally } from '../../../src/net/event-tally.js';
import { FreshMarks } from '../../../src/net/fresh-marks.js';

describe('src/net: connection admission', () => {
  describe('addressKey', () => {
    it('keeps IPv4, unwraps IPv4-mapped IPv6, groups IPv6 by /64', () => {
      expect(addressKey('10.1.2.3')).to.equal('10.1.2.3');
      expect(addressKey('::ffff:10.1.2.3')).to.equal('10.1.2.3');
      expect(addressKey('2001:db8:1:2:aaaa::1')).to.equal('2001:db8:1:2::/64');
      expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).to.equal('2001:db8:1:2::/64');
      expect(addressKey('2001:db8::1')).to.equal('2001:db8:0:0::/64');
      expect(addressKey('::1')).to.equal('0:0:0:0::/64');
      expect(addressKey('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
      expect(addressKey('64:ff9b::192.0.2.1')).to.equal('64:ff9b:0:0::/64');
    });

    it('puts what is missing or unparseable under one key', () => {
      expect(addressKey(undefined)).to.equal(UNKNOWN_SOURCE);
      expect(addressKey('')).to.equal(UNKNOWN_SOURCE);
      expect(addressKey('not-an-address')).to.equal(UNKNOWN_SOURCE);
    });
  });

  describe('ConnectionTable', () => {
    it('admits freely below both caps', () => {
      const t = new ConnectionTable<string>({ maxConnections: 3, maxPerAddress: 2 });
      expect(t.admit('a')).to.deep.equal({ admitted: true, evict: undefined });
      t.add('a1', 'a', 'incomplete');
      t.add('a2', 'a', 'busy');
      expect(t.size).to.equal(2);
      expect(t.sizeOf('a')).to.equal(2);
      expect(t.admit('b')).to.deep.equal({ admitted: true, evict: undefined });
    });

    it('a newcomer from an address at its cap evicts that address\'s oldest incomplete, then idle; refused when all are busy', () => {
      const t = new ConnectionTable<string>({ maxConnections: 10, maxPerAddress: 3 });
      t.add('idle-old', 'a', 'idle');
      t.add('inc-1', 'a', 'incomplete');
      t.add('inc-2', 'a', 'incomplete');
      t.add('other', 'b', 'incomplete');
      expect(t.admit('a')).to.deep.equal({ admitted: true, evict: 'inc-1' });
      t.remove('inc-1');
      t.setTier('inc-2', 'busy');
      t.add('new', 'a', 'busy');
      expect(t.admit('a')).to.deep.equal({ admitted: true, evict: 'idle-old' });
      t.remove('idle-old');
      t.add('new2', 'a', 'busy');
      expect(t.admit('a')).to.deep.equal({ admitted: false, reason: 'address-full' });
      expect(t.admit('b')).to.deep.equal({ admitted: true, evict: undefined });
    });

    it('when the table is full, the heaviest address with something evictable pays', () => {
      const t = new ConnectionTable<string>({ maxConnections: 6, maxPerAddress: 6 });
      t.add('a-old', 'a', 'incomplete');
      t.add('b-1', 'b', 'idle');
      t.add('b-2', 'b', 'incomplete');
      t.add('c-1', 'c', 'busy');
      t.add('c-2', 'c', 'busy');
      t.add('c-3', 'c', 'busy');
      // c is heaviest but has nothing evictable; b is next, and its incomplete goes before its older idle.
      expect(t.admit('d')).to.deep.equal({ admitted: true, evict: 'b-2' });
      t.setTier('b-2', 'busy');
      expect(t.admit('d')).to.deep.equal({ admitted: true, evict: 'b-1' });
      t.setTier('b-1', 'busy');
      expect(t.admit('d')).to.deep.equal({ admitted: true, evict: 'a-old' });
      t.setTier('a-old', 'busy');
      expect(t.admit('d')).to.deep.equal({ admitted: false, reason: 'table-full' });
    });

    it('setTier moves a connection to the back of its queue; remove forgets it and its address', () => {
      const t = new ConnectionTable<string>({ maxConnections: 2, maxPerAddress: 2 });
      t.add('x', 'a', 'idle');
      t.add('y', 'a', 'idle');
      expect(t.admit('a')).to.deep.equal({ admitted: true, evict: 'x' });
      t.setTier('x', 'idle');
      expect(t.admit('a')).to.deep.equal({ admitted: true, evict: 'y' });
      expect(t.remove('x')).to.equal(true);
      expect(t.remove('x')).to.equal(false);
      t.remove('y');
      expect(t.size).to.equal(0);
      expect(t.sizeOf('a')).to.equal(0);
      expect(() => { t.add('z', 'a', 'idle'); t.add('z', 'a', 'idle'); }).to.throw(/twice/);
    });
  });

  describe('fresh connections', () => {
    it('are passed over while the owner says so; a newcomer is refused when nothing else is evictable', () => {
      const fresh = new Set(['a2', 'a3']);
      const t = new ConnectionTable<string>({ maxConnections: 3, maxPerAddress: 3, mayEvict: (c) => !fresh.has(c) });
      t.add('a1', 'a', 'incomplete');
      t.add('a2', 'a', 'incomplete');
      t.add('a3', 'a', 'incomplete');
      expect(t.admit('a')).to.deep.equal({ admitted: true, evict: 'a1' });
      t.remove('a1');
      t.add('a4', 'a', 'incomplete');
      fresh.add('a4');
      expect(t.admit('a')).to.deep.equal({ admitted: false, reason: 'address-full' });
      expect(t.admit('b')).to.deep.equal({ admitted: false, reason: 'table-full' });
      fresh.delete('a3');
      expect(t.admit('b')).to.deep.equal({ admitted: true, evict: 'a3' });
    });

    it('FreshMarks: fresh until the event loop has polled once more after the accept', async () => {
      const marks = new FreshMarks<string>();
      const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
      marks.mark('x');
      expect(marks.isFresh('x')).to.equal(true);
      await turn();
      marks.mark('y');
      expect([marks.isFresh('x'), marks.isFresh('y')]).to.deep.equal([true, true]);
      await turn();
      expect([marks.isFresh('x'), marks.isFresh('y')]).to.deep.equal([false, true]);
      await turn();
      await turn();
      expect(marks.isFresh('y')).to.equal(false);
      expect(marks.isFresh('never')).to.equal(false);
    });
  });

  describe('EventTally', () => {
    it('logs the first event at once, sums the rest into one line per interval, and flushes on demand', () => {
      const clock = new SimulatedClock(0);
      const lines: { counts: Record<string, number>; windowMs: number; source: string; detail: Record<string, unknown>; longestLifeMs: number | undefined }[] = [];
      const tally = new EventTally(['shed', 'timeout'] as const, { clock, intervalMs: 1_000, report: (counts, last) => lines.push({ counts, ...last }) });
      tally.add('shed', '10.0.0.1');
      expect(lines).to.have.length(1);
      expect(lines[0]!.counts).to.deep.equal({ shed: 1, timeout: 0 });
      clock.advance(100);
      tally.add('timeout', '10.0.0.2', {}, 700);
      tally.add('timeout', '10.0.0.3', { why: 'slow' }, 500);
      expect(lines).to.have.length(1);
      clock.advance(899);
      expect(lines).to.have.length(1);
      clock.advance(1);
      expect(lines).to.have.length(2);
      expect(lines[1]).to.deep.equal({ counts: { shed: 0, timeout: 2 }, windowMs: 1_000, source: '10.0.0.3', detail: { why: 'slow' }, longestLifeMs: 700 });
      expect(lines[0]!.longestLifeMs).to.equal(undefined);
      clock.advance(5_000);
      expect(lines).to.have.length(2);
      tally.add('shed', '10.0.0.4');
      expect(lines).to.have.length(3);
      clock.advance(10);
      tally.add('shed', '10.0.0.4');
      tally.flush();
      expect(lines).to.have.length(4);
      tally.flush();
      expect(lines).to.have.length(4);
    });
  });
});
