import { CodecError } from './errors.js';

/** Hard ceiling on nesting any caller may ask for; the scan stacks are preallocated to it. */
export const MAX_SCAN_DEPTH = 1024;

// The scan is synchronous, so one set of stacks serves every call without allocation.
const remaining = new Float64Array(MAX_SCAN_DEPTH);
const index = new Float64Array(MAX_SCAN_DEPTH);
const isMap = new Uint8Array(MAX_SCAN_DEPTH);

const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // __proto__
const PROTOTYPE = [0x70, 0x72, 0x6f, 0x74, 0x6f, 0x74, 0x79, 0x70, 0x65]; // prototype
const CONSTRUCTOR = [0x63, 0x6f, 0x6e, 0x73, 0x74, 0x72, 0x75, 0x63, 0x74, 0x6f, 0x72]; // constructor

function same(buf: Uint8Array, at: number, word: number[]): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

function forbiddenKey(buf: Uint8Array, at: number, len: number): string | undefined {
  if (len === 9) {
    if (same(buf, at, PROTO)) return '__proto__';
    if (same(buf, at, PROTOTYPE)) return 'prototype';
  } else if (len === 11 && same(buf, at, CONSTRUCTOR)) {
    return 'constructor';
  }
  return undefined;
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) >>> 0) + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

function safeInt64(buf: Uint8Array, at: number, signed: boolean): boolean {
  const b0 = buf[at]!;
  const b1 = buf[at + 1]!;
  if (b0 === 0 && b1 <= 0x1f) return true;
  if (!signed || b0 !== 0xff || b1 < 0xe0) return false;
  if (b1 > 0xe0) return true;
  for (let i = 2; i < 8; i++) if (buf[at + i] !== 0) return true;
  return false; // exactly -2^53
}

/**
 * Walks a msgpack buffer without recursion, without building values and without allocating, so
 * hostile input can neither overflow the stack nor cost much. Refuses: nesting deeper than
 * `maxDepth`, extension types (which rebuild Date, Error, RegExp or class instances) except
 * msgpackr's encoding of `undefined`, non-finite floats, integers beyond 2^53, map keys that are not
 * strings or that name __proto__/constructor/prototype, truncated input and trailing bytes.
 */
export function scanMsgpack(buf: Uint8Array, maxDepth: number): void {
  const limit = Math.min(maxDepth, MAX_SCAN_DEPTH);
  const len = buf.length;
  let depth = 0;
  let pos = 0;
  if (len === 0) throw new CodecError('empty msgpack input');
  for (;;) {
    if (pos >= len) throw new CodecError('truncated msgpack input');
    const top = depth - 1;
    const key = depth > 0 && isMap[top] === 1 && index[top]! % 2 === 0;
    const b = buf[pos++]!;
    let items = -1; // container item count when the value opens an array or map
    let map = 0;
    let skip = 0;
    let strLen = -1;
    if (b <= 0x7f || b >= 0xe0) { /* fixint */ }
    else if (b <= 0x8f) { items = b & 0x0f; map = 1; }
    else if (b <= 0x9f) { items = b & 0x0f; }
    else if (b <= 0xbf) { strLen = b & 0x1f; }
    else {
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: break;
        case 0xc4: if (pos + 1 > len) throw truncated(); skip = buf[pos]!; pos += 1; break;
        case 0xc5: if (pos + 2 > len) throw truncated(); skip = u16(buf, pos); pos += 2; break;
        case 0xc6: if (pos + 4 > len) throw truncated(); skip = u32(buf, pos); pos += 4; break;
        case 0xca: if (pos + 4 > len) throw truncated(); if ((buf[pos]! & 0x7f) === 0x7f && (buf[pos + 1]! & 0x80) === 0x80) throw new CodecError('non-finite float'); skip = 4; break;
        case 0xcb: if (pos + 8 > len) throw truncated(); if ((buf[pos]! & 0x7f) === 0x7f && (buf[pos + 1]! & 0xf0) === 0xf0) throw new CodecError('non-finite float'); skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: if (pos + 8 > len) throw truncated(); if (!safeInt64(buf, pos, b === 0xd3)) throw new CodecError('integer beyond 2^53'); skip = 8; break;
        case 0xd4: if (pos + 2 > len) throw truncated(); if (buf[pos] !== 0 || buf[pos + 1] !== 0) throw new CodecError('msgpack extension types are not accepted'); skip = 2; break;
        case 0xd9: if (pos + 1 > len) throw truncated(); strLen = buf[pos]!; pos += 1; break;
        case 0xda: if (pos + 2 > len) throw truncated(); strLen = u16(buf, pos); pos += 2; break;
        case 0xdb: if (pos + 4 > len) throw truncated(); strLen = u32(buf, pos); pos += 4; break;
        case 0xdc: if (pos + 2 > len) throw truncated(); items = u16(buf, pos); pos += 2; break;
        case 0xdd: if (pos + 4 > len) throw truncated(); items = u32(buf, pos); pos += 4; break;
        case 0xde: if (pos + 2 > len) throw truncated(); items = u16(buf, pos); map = 1; pos += 2; break;
        case 0xdf: if (pos + 4 > len) throw truncated(); items = u32(buf, pos); map = 1; pos += 4; break;
        default: throw new CodecError(`msgpack type 0x${b.toString(16)} is not accepted`);
      }
    }
    if (key && strLen < 0) throw new CodecError('map keys must be strings');
    if (strLen >= 0) {
      if (pos + strLen > len) throw truncated();
      if (key) {
        const bad = forbiddenKey(buf, pos, strLen);
        if (bad !== undefined) throw new CodecError(`forbidden key "${bad}"`);
      }
      pos += strLen;
    } else if (items >= 0) {
      const count = map === 1 ? items * 2 : items;
      if (count > 0) {
        if (depth >= limit) throw new CodecError(`msgpack nesting deeper than ${limit}`);
        if (count > len - pos) throw new CodecError('msgpack container declares more items than bytes left');
        remaining[depth] = count;
        index[depth] = 0;
        isMap[depth] = map;
        depth++;
        continue;
      }
    } else {
      pos += skip;
      if (pos > len) throw truncated();
    }
    // One value is complete: count it against the enclosing containers.
    while (depth > 0) {
      index[depth - 1]!++;
      if (--remaining[depth - 1]! > 0) break;
      depth--;
    }
    if (depth === 0) break;
  }
  if (pos !== len) throw new CodecError('trailing bytes after msgpack value');
}

function truncated(): CodecError {
  return new CodecError('truncated msgpack input');
}
