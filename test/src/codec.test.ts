import { expect } from 'chai';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { decodeFrame, encodeFrame, roundTrip } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import { CodecError, FrameTooLargeError } from '../../src/errors.js';

const limits = { maxFrameBytes: 64 * 1024, maxDepth: 32 };

const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string().filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const envelope = fc.record({
  kind: fc.constantFrom('tell', 'ask', 'reply', 'error', 'sys') as fc.Arbitrary<Envelope['kind']>,
  id: fc.string(), toNode: fc.string(), to: fc.string(), fromNode: fc.string(), from: fc.string(), type: fc.string(),
  body: plainValue,
  corr: fc.option(fc.string(), { nil: undefined }),
  ttl: fc.option(fc.nat(), { nil: undefined }),
  trace: fc.option(fc.string(), { nil: undefined }),
  dedup: fc.option(fc.constant(true), { nil: undefined }),
  lane: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
}, { requiredKeys: ["kind", "id", "toNode", "to", "fromNode", "from", "type", "body", "lane"] }) as unknown as fc.Arbitrary<Envelope>;

function normalise(e: Envelope): Envelope {
  const out = { ...e };
  for (const k of Object.keys(out) as (keyof Envelope)[]) if (out[k] === undefined) delete out[k];
  const plain = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return { bytes: [...v] };
    if (Object.is(v, -0)) return 0; // msgpack has no negative zero integer: -0 travels as 0
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return plain(out) as Envelope;
}

describe('codec', () => {
  it('encode → decode is the identity for every valid envelope batch', () => {
    fc.assert(fc.property(fc.array(envelope, { minLength: 1, maxLength: 5 }), (batch) => {
      const decoded = decodeFrame(encodeFrame(batch, { maxFrameBytes: 1 << 22, maxDepth: 64 }), { maxFrameBytes: 1 << 22, maxDepth: 64 });
      expect(decoded.map(normalise)).to.deep.equal(batch.map(normalise));
    }), { numRuns: 300 });
  });

  it('random bytes never throw anything but CodecError and never hang', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        decodeFrame(bytes, limits);
      } catch (err) {
        expect(err).to.be.instanceOf(CodecError);
      }
    }), { numRuns: 3_000 });
  });

  it('mutated valid frames never throw anything but CodecError', () => {
    fc.assert(fc.property(envelope, fc.nat(), fc.integer({ min: 0, max: 255 }), (env, at, byte) => {
      const buf = Buffer.from(encodeFrame([env], { maxFrameBytes: 1 << 22, maxDepth: 64 }));
      buf[at % buf.length] = byte;
      try {
        decodeFrame(buf, { maxFrameBytes: 1 << 22, maxDepth: 64 });
      } catch (err) {
        expect(err).to.be.instanceOf(CodecError);
      }
    }), { numRuns: 2_000 });
  });

  it('rejects deep nesting before decoding could overflow the stack', () => {
    const depth = 100_000;
    const deep = Buffer.alloc(depth + 1, 0x91); // [[[[...]]]]
    deep[depth] = 0xc0;
    expect(() => decodeFrame(deep, { maxFrameBytes: 1 << 20, maxDepth: 64 })).to.throw(CodecError, /nesting/);
    let nested: unknown = 1;
    for (let i = 0; i < 40; i++) nested = [nested];
    const buf = new Packr({ useRecords: false }).pack([nested]);
    expect(() => decodeFrame(buf, limits)).to.throw(CodecError, /nesting deeper than 32/);
  });

  it('rejects extension types that would rebuild Date, Error or class instances', () => {
    const packr = new Packr({ useRecords: false, moreTypes: true });
    for (const v of [new Date(0), new Error('x'), /re/g, new Set([1]), new Map([[1, 2]])]) {
      const buf = packr.pack([v]);
      expect(() => decodeFrame(buf, limits), String(v)).to.throw(CodecError);
    }
    const records = new Packr({ useRecords: true }).pack([{ a: 1 }, { a: 2 }]);
    expect(() => decodeFrame(records, limits)).to.throw(CodecError);
  });

  it('rejects __proto__ and constructor keys, non-finite floats and unsafe integers', () => {
    const proto = Buffer.from([0x91, 0x81, 0xa9, ...Buffer.from('__proto__'), 0x01]);
    expect(() => decodeFrame(proto, limits)).to.throw(CodecError, /forbidden key/);
    const ctor = Buffer.from([0x91, 0x81, 0xab, ...Buffer.from('constructor'), 0x01]);
    expect(() => decodeFrame(ctor, limits)).to.throw(CodecError, /forbidden key/);
    const nan = Buffer.from([0x91, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeFrame(nan, limits)).to.throw(CodecError, /non-finite/);
    const big = Buffer.from([0x91, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeFrame(big, limits)).to.throw(CodecError, /2\^53/);
  });

  it('refuses frames over the size limit with FrameTooLargeError, both ways', () => {
    const env: Envelope = { kind: 'tell', id: '1', toNode: 'a', to: '/x', fromNode: 'b', from: '', type: 't', body: 'x'.repeat(70_000) };
    expect(() => encodeFrame([env], limits)).to.throw(FrameTooLargeError);
    expect(() => decodeFrame(Buffer.alloc(70_000), limits)).to.throw(FrameTooLargeError);
  });

  it('rejects truncated input and trailing bytes', () => {
    const env: Envelope = { kind: 'ask', id: '1', toNode: 'a', to: '/x', fromNode: 'b', from: '', type: 't', body: { a: [1, 2, 3] } };
    const buf = encodeFrame([env], limits);
    expect(() => decodeFrame(buf.subarray(0, buf.length - 1), limits)).to.throw(CodecError);
    expect(() => decodeFrame(Buffer.concat([buf, Buffer.from([0])]), limits)).to.throw(CodecError, /trailing/);
  });

  it('roundTrip (strict mode) keeps plain data and refuses what cannot travel', () => {
    expect(roundTrip({ a: [1, 'x', null, true] })).to.deep.equal({ a: [1, 'x', null, true] });
    expect(() => roundTrip(new Date())).to.throw(CodecError);
    class Vm { id = 1; }
    expect(() => roundTrip({ vm: new Vm() })).to.throw(CodecError);
    expect(() => roundTrip({ n: NaN })).to.throw(CodecError);
  });
});
