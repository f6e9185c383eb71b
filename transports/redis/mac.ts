import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The wire format of everything this transport puts into Redis, and its MAC. Anyone who can reach the
 * Redis server can PUBLISH or XADD, so every frame is authenticated with HMAC-SHA256 under a key
 * derived from the cluster secret and the cluster name; the MAC also covers the channel or stream the
 * frame was written to, so a frame cannot be moved to another node's channel.
 *
 *   0      u8   version (1)
 *   1      u8   kind (FrameKind)
 *   2..9   f64  sent at, sender's clock (ms) — frames too far from the receiver's clock are refused
 *   10..15 u48  sequence: units sent before this frame by this sender instance on this channel
 *   16..19 u32  units in this frame (envelopes; 1 for control frames), so receivers count what was lost
 *   20..27      sender instance id (random, new at every start)
 *   28     u8   sender node id length L, then L bytes of UTF-8
 *   29+L        32-byte MAC over: channel, 0x00, bytes 0..29+L, payload
 *   61+L        payload (a codec frame for envelopes)
 */
export const FRAME_VERSION = 1;
export enum FrameKind { Envelopes = 0, Heartbeat = 1, Leaving = 2 }

const FIXED = 29;
const MAC_BYTES = 32;
/** Largest header: fixed part, a 255-byte node id and the MAC. */
export const MAX_HEADER_BYTES = FIXED + 255 + MAC_BYTES;

export interface SealedHeader {
  kind: FrameKind;
  sentAt: number;
  seq: number;
  units: number;
  instance: string;
  sender: string;
}

export interface OpenedFrame extends SealedHeader {
  payload: Buffer;
}

/** Why a frame was refused (for counters and the log). */
export type OpenFailure = 'short' | 'version' | 'kind' | 'mac';

export class FrameSealer {
  private readonly key: Buffer;
  private readonly senderBytes: Buffer;
  private readonly instanceBytes: Buffer;

  /**
   * @param secret the cluster secret; @param clusterName mixed into the key so that two clusters sharing
   * a secret by mistake still refuse each other's frames; @param sender this node id; @param instance 8 bytes.
   */
  constructor(secret: Buffer, clusterName: string, sender: string, instance: Buffer) {
    this.key = createHmac('sha256', secret).update(`cloudstackd/redis/v1/${clusterName}`).digest();
    this.senderBytes = Buffer.from(sender, 'utf8');
    if (this.senderBytes.length > 255) throw new RangeError('node id longer than 255 bytes');
    if (instance.length !== 8) throw new RangeError('instance id must be 8 bytes');
    this.instanceBytes = instance;
  }

  get instance(): string {
    return this.instanceBytes.toString('hex');
  }

  /** Builds a frame for `channel` (a pub/sub channel or a stream key). */
  seal(channel: string, kind: FrameKind, seq: number, units: number, payload: Uint8Array, sentAt: number): Buffer {
    const headerLen = FIXED + this.senderBytes.length;
    const out = Buffer.allocUnsafe(headerLen + MAC_BYTES + payload.length);
    out[0] = FRAME_VERSION;
    out[1] = kind;
    out.writeDoubleBE(sentAt, 2);
    out.writeUIntBE(seq % 2 ** 48, 10, 6);
    out.writeUInt32BE(units >>> 0, 16);
    this.instanceBytes.copy(out, 20);
    out[28] = this.senderBytes.length;
    this.senderBytes.copy(out, FIXED);
    out.set(payload, headerLen + MAC_BYTES);
    this.mac(channel, out.subarray(0, headerLen), payload).copy(out, headerLen);
    return out;
  }

  /** Checks and parses a frame read from `channel`; a string names why it was refused. */
  open(channel: string, frame: Buffer): OpenedFrame | OpenFailure {
    if (frame.length < FIXED + MAC_BYTES) return 'short';
    if (frame[0] !== FRAME_VERSION) return 'version';
    const kind = frame[1]!;
    if (kind > FrameKind.Leaving) return 'kind';
    const headerLen = FIXED + frame[28]!;
    if (frame.length < headerLen + MAC_BYTES) return 'short';
    const payload = frame.subarray(headerLen + MAC_BYTES);
    const expected = this.mac(channel, frame.subarray(0, headerLen), payload);
    if (!timingSafeEqual(expected, frame.subarray(headerLen, headerLen + MAC_BYTES))) return 'mac';
    return {
      kind, sentAt: frame.readDoubleBE(2), seq: frame.readUIntBE(10, 6), units: frame.readUInt32BE(16),
      instance: frame.toString('hex', 20, 28), sender: frame.toString('utf8', FIXED, headerLen), payload,
    };
  }

  private mac(channel: string, header: Buffer, payload: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(channel).update(ZERO).update(header).update(payload).digest();
  }
}

const ZERO = Buffer.from([0]);
