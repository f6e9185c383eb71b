import { expect } from 'chai';
import { parseEnvelope, type WireLimits } from '../../src/gossip/messages.js';
import { envelope, meta } from './harness.js';

const LIM: WireLimits = { maxUpdatesPerMessage: 4, maxMembers: 3, maxStringLength: 32, maxMetaEntries: 4 };

describe('gossip/messages (wire check)', () => {
  it('accepts every well-formed body and update', () => {
    const updates = [
      { t: 'alive' as const, node: 'b', epoch: 1, inc: 2, meta: meta('b', { services: [{ name: 'data', version: '1.0' }], load: { inFlight: 3 } }) },
      { t: 'suspect' as const, node: 'c', epoch: 1, inc: 0, from: 'b' },
      { t: 'dead' as const, node: 'd', epoch: 1, inc: 0, from: 'b' },
      { t: 'left' as const, node: 'e', epoch: 1, inc: 4 },
    ];
    const bodies = [
      { t: 'ping' as const, seq: 1, target: 'a', epoch: 1 },
      { t: 'ping-req' as const, seq: 1, target: 'c', epoch: 1, addr: ['sim://c'], nack: true },
      { t: 'ack' as const, seq: 1 }, { t: 'nack' as const, seq: 1 }, { t: 'gossip' as const },
      { t: 'push-pull' as const, join: true, reply: false, members: [{ node: 'b', epoch: 1, inc: 0, status: 'alive' as const, meta: meta('b') }] },
    ];
    for (const body of bodies) expect(parseEnvelope(envelope('b', body, updates), LIM).ok, body.t).to.equal(true);
  });

  it('survives a msgpack-like copy (plain data only)', () => {
    const env = envelope('b', { t: 'gossip' }, [{ t: 'alive', node: 'b', epoch: 1, inc: 0, meta: meta('b') }]);
    expect(parseEnvelope(JSON.parse(JSON.stringify(env)), LIM).ok).to.equal(true);
  });

  const bad: [string, unknown][] = [
    ['null', null],
    ['array', []],
    ['wrong version', { ...envelope('b', { t: 'gossip' }), v: 2 }],
    ['no cluster', { ...envelope('b', { t: 'gossip' }), cluster: '' }],
    ['unknown body', envelope('b', { t: 'shout' } as never)],
    ['negative seq', envelope('b', { t: 'ack', seq: -1 })],
    ['fractional seq', envelope('b', { t: 'ack', seq: 1.5 })],
    ['infinite epoch', envelope('b', { t: 'ping', seq: 1, target: 'a', epoch: Infinity })],
    ['NaN incarnation', envelope('b', { t: 'gossip' }, [{ t: 'left', node: 'x', epoch: 1, inc: Number.NaN }])],
    ['too many updates', envelope('b', { t: 'gossip' }, Array.from({ length: 5 }, (_, i) => ({ t: 'left' as const, node: `x${i}`, epoch: 1, inc: 0 })))],
    ['long node id', envelope('b', { t: 'gossip' }, [{ t: 'left', node: 'x'.repeat(33), epoch: 1, inc: 0 }])],
    ['suspect without from', envelope('b', { t: 'gossip' }, [{ t: 'suspect', node: 'x', epoch: 1, inc: 0 } as never])],
    ['alive without meta', envelope('b', { t: 'gossip' }, [{ t: 'alive', node: 'x', epoch: 1, inc: 0 } as never])],
    ['non-numeric load', envelope('b', { t: 'gossip' }, [{ t: 'alive', node: 'x', epoch: 1, inc: 0, meta: { ...meta('x'), load: { cpu: 'high' } } } as never])],
    ['too many roles', envelope('b', { t: 'gossip' }, [{ t: 'alive', node: 'x', epoch: 1, inc: 0, meta: meta('x', { roles: ['a', 'b', 'c', 'd', 'e'] }) }])],
    ['oversized push-pull', envelope('b', { t: 'push-pull', join: false, reply: false, members: Array.from({ length: 4 }, (_, i) => ({ node: `n${i}`, epoch: 1, inc: 0, status: 'alive' as const, meta: meta(`n${i}`) })) })],
    ['bad status', envelope('b', { t: 'push-pull', join: false, reply: false, members: [{ node: 'n', epoch: 1, inc: 0, status: 'zombie', meta: meta('n') } as never] })],
    ['ping-req without nack flag', envelope('b', { t: 'ping-req', seq: 1, target: 'c', epoch: 1, addr: [] } as never)],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name} without throwing`, () => {
      const r = parseEnvelope(value, LIM);
      expect(r.ok).to.equal(false);
    });
  }
});
