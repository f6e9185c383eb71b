import { Packr } from 'msgpackr';
import { CodecError, FrameTooLargeError } from './errors.js';
import type { Envelope, EnvelopeKind, Lane } from './envelope.js';
import { scanMsgpack } from './msgpack-scan.js';
import { isPlainData } from './schema.js';

export interface CodecLimits {
  /** Largest encoded frame accepted or produced, in bytes. Default 1 MiB (ws would allow 100 MiB). */
  maxFrameBytes: number;
  /** Deepest nesting of arrays/maps accepted, checked before decoding so the stack cannot overflow. */
  maxDepth: number;
}

export const DEFAULT_CODEC_LIMITS: CodecLimits = { maxFrameBytes: 1_048_576, maxDepth: 64 };

const KINDS: EnvelopeKind[] = ['tell', 'ask', 'reply', 'error', 'sys'];
const KIND_INDEX: Record<EnvelopeKind, number> = { tell: 0, ask: 1, reply: 2, error: 3, sys: 4 };

// Envelopes travel as fixed-position tuples: smaller and faster to encode than maps, and simple to
// check on arrival. Optional fields are null.
type Tuple = [number, string, string, string, string, string, string, unknown, string | null, number | null, string | null, number];

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, variableMapSize: true });
const unpackr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

function toTuple(e: Envelope): Tuple {
  const flags = (e.dedup ? 1 : 0) | ((e.lane ?? 1) << 1);
  return [KIND_INDEX[e.kind], e.id, e.toNode, e.to, e.fromNode, e.from, e.type, e.body,
    e.corr ?? null, e.ttl ?? null, e.trace ?? null, flags];
}

function isStr(v: unknown): v is string {
  return typeof v === 'string';
}

function fromTuple(t: unknown): Envelope {
  if (!Array.isArray(t) || t.length !== 12) throw new CodecError('envelope is not a 12-field tuple');
  const [k, id, toNode, to, fromNode, from, type, body, corr, ttl, trace, flags] = t as unknown[];
  const kind = typeof k === 'number' ? KINDS[k] : undefined;
  if (kind === undefined) throw new CodecError('envelope has an unknown kind');
  if (!isStr(id) || !isStr(toNode) || !isStr(to) || !isStr(fromNode) || !isStr(from) || !isStr(type)) {
    throw new CodecError('envelope address fields must be strings');
  }
  if (typeof flags !== 'number') throw new CodecError('envelope flags must be a number');
  const env: Envelope = { kind, id, toNode, to, fromNode, from, type, body, lane: ((flags >> 1) & 1) as Lane };
  if (flags & 1) env.dedup = true;
  if (corr !== null) { if (!isStr(corr)) throw new CodecError('corr must be a string'); env.corr = corr; }
  if (ttl !== null) { if (typeof ttl !== 'number') throw new CodecError('ttl must be a number'); env.ttl = ttl; }
  if (trace !== null) { if (!isStr(trace)) throw new CodecError('trace must be a string'); env.trace = trace; }
  return env;
}

/** Encodes a batch of envelopes as one frame. Throws FrameTooLargeError past the frame limit. */
export function encodeFrame(envelopes: readonly Envelope[], limits: CodecLimits = DEFAULT_CODEC_LIMITS): Buffer {
  let buf: Buffer;
  try {
    buf = packr.pack(envelopes.map(toTuple));
  } catch (err) {
    throw new CodecError(`cannot encode frame: ${(err as Error).message}`, { cause: err });
  }
  if (buf.length > limits.maxFrameBytes) {
    throw new FrameTooLargeError(`frame of ${buf.length} bytes exceeds maxFrameBytes ${limits.maxFrameBytes}`,
      { details: { size: buf.length, limit: limits.maxFrameBytes } });
  }
  return buf;
}

/**
 * Decodes a frame. Safe on hostile input: the size is checked first, then a non-recursive scan
 * checks nesting depth, refuses extension types, non-finite floats, unsafe integers and keys such as
 * __proto__, and only then msgpackr decodes. Any problem is a CodecError (FrameTooLargeError for size).
 */
export function decodeFrame(data: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Envelope[] {
  if (data.length > limits.maxFrameBytes) {
    throw new FrameTooLargeError(`frame of ${data.length} bytes exceeds maxFrameBytes ${limits.maxFrameBytes}`);
  }
  scanMsgpack(data, limits.maxDepth);
  let value: unknown;
  try {
    value = unpackr.unpack(data);
  } catch (err) {
    throw new CodecError(`undecodable frame: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(value)) throw new CodecError('frame is not an array of envelopes');
  return value.map(fromTuple);
}

/** Encodes then decodes a value, as strict mode does for local messages to catch what cannot travel. */
export function roundTrip<T>(value: T, limits: CodecLimits = DEFAULT_CODEC_LIMITS): T {
  if (value !== undefined && !isPlainData(value)) {
    throw new CodecError('value cannot travel: only objects, arrays, strings, finite numbers, booleans, null and byte arrays do');
  }
  let buf: Buffer;
  try {
    buf = packr.pack(value);
  } catch (err) {
    throw new CodecError(`value cannot be encoded: ${(err as Error).message}`, { cause: err });
  }
  if (buf.length > limits.maxFrameBytes) throw new FrameTooLargeError(`message of ${buf.length} bytes exceeds maxFrameBytes`);
  scanMsgpack(buf, limits.maxDepth);
  return unpackr.unpack(buf) as T;
}
