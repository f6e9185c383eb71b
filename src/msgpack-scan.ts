import { CodecError } from './errors.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const decoder = new TextDecoder('utf-8', { fatal: false });

interface Frame {
  remaining: number;
  isMap: boolean;
  index: number;
}

/**
 * Walks a msgpack buffer without recursion and without building values, so hostile input cannot
 * overflow the stack or allocate much. Refuses: nesting deeper than `maxDepth`, extension types
 * (which rebuild Date, Error, RegExp or class instances) except msgpackr's encoding of `undefined`,
 * non-finite floats, integers beyond 2^53, map keys that are not strings or that name
 * __proto__/constructor/prototype, truncated input and trailing bytes. Throws CodecError.
 */
export function scanMsgpack(buf: Uint8Array, maxDepth: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: Frame[] = [];
  let pos = 0;
  let done = false;

  const need = (n: number): void => {
    if (pos + n > buf.length) throw new CodecError('truncated msgpack input');
  };
  const open = (count: number, isMap: boolean): void => {
    if (stack.length >= maxDepth) throw new CodecError(`msgpack nesting deeper than ${maxDepth}`);
    const items = isMap ? count * 2 : count;
    if (items > buf.length - pos) throw new CodecError('msgpack container declares more items than bytes left');
    if (items > 0) stack.push({ remaining: items, isMap, index: 0 });
    else finishValue();
  };
  const finishValue = (): void => {
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) { done = true; return; }
      top.index++;
      if (--top.remaining > 0) return;
      stack.pop();
    }
  };
  const expectingKey = (): boolean => {
    const top = stack[stack.length - 1];
    return top !== undefined && top.isMap && top.index % 2 === 0;
  };
  const str = (len: number): void => {
    need(len);
    if (expectingKey() && len <= 16) {
      const key = decoder.decode(buf.subarray(pos, pos + len));
      if (FORBIDDEN_KEYS.has(key)) throw new CodecError(`forbidden key "${key}"`);
    }
    pos += len;
    finishValue();
  };
  const scalar = (len: number): void => {
    if (expectingKey()) throw new CodecError('map keys must be strings');
    need(len);
    pos += len;
    finishValue();
  };

  while (!done) {
    if (pos >= buf.length) throw new CodecError(pos === 0 ? 'empty msgpack input' : 'truncated msgpack input');
    const b = buf[pos++]!;
    if (b <= 0x7f || b >= 0xe0) { scalar(0); continue; }
    if (b <= 0x8f) { if (expectingKey()) throw new CodecError('map keys must be strings'); open(b & 0x0f, true); continue; }
    if (b <= 0x9f) { if (expectingKey()) throw new CodecError('map keys must be strings'); open(b & 0x0f, false); continue; }
    if (b <= 0xbf) { str(b & 0x1f); continue; }
    switch (b) {
      case 0xc0: case 0xc2: case 0xc3: scalar(0); break;
      case 0xc4: need(1); { const n = buf[pos]!; pos += 1; scalar(n); } break;
      case 0xc5: need(2); { const n = view.getUint16(pos); pos += 2; scalar(n); } break;
      case 0xc6: need(4); { const n = view.getUint32(pos); pos += 4; scalar(n); } break;
      case 0xca: need(4); if (!Number.isFinite(view.getFloat32(pos))) throw new CodecError('non-finite float'); scalar(4); break;
      case 0xcb: need(8); if (!Number.isFinite(view.getFloat64(pos))) throw new CodecError('non-finite float'); scalar(8); break;
      case 0xcc: case 0xd0: scalar(1); break;
      case 0xcd: case 0xd1: scalar(2); break;
      case 0xce: case 0xd2: scalar(4); break;
      case 0xcf: need(8); if (view.getBigUint64(pos) > BigInt(Number.MAX_SAFE_INTEGER)) throw new CodecError('integer beyond 2^53'); scalar(8); break;
      case 0xd3: need(8); { const v = view.getBigInt64(pos); if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new CodecError('integer beyond 2^53'); } scalar(8); break;
      case 0xd4: need(2); if (buf[pos] !== 0 || buf[pos + 1] !== 0) throw new CodecError('msgpack extension types are not accepted'); scalar(2); break;
      case 0xd9: need(1); { const n = buf[pos]!; pos += 1; str(n); } break;
      case 0xda: need(2); { const n = view.getUint16(pos); pos += 2; str(n); } break;
      case 0xdb: need(4); { const n = view.getUint32(pos); pos += 4; str(n); } break;
      case 0xdc: if (expectingKey()) throw new CodecError('map keys must be strings'); need(2); { const n = view.getUint16(pos); pos += 2; open(n, false); } break;
      case 0xdd: if (expectingKey()) throw new CodecError('map keys must be strings'); need(4); { const n = view.getUint32(pos); pos += 4; open(n, false); } break;
      case 0xde: if (expectingKey()) throw new CodecError('map keys must be strings'); need(2); { const n = view.getUint16(pos); pos += 2; open(n, true); } break;
      case 0xdf: if (expectingKey()) throw new CodecError('map keys must be strings'); need(4); { const n = view.getUint32(pos); pos += 4; open(n, true); } break;
      default: throw new CodecError(`msgpack type 0x${b.toString(16)} is not accepted`);
    }
  }
  if (pos !== buf.length) throw new CodecError('trailing bytes after msgpack value');
}
