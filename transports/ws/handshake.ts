import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The ws handshake, as pure functions over plain messages (the socket flows live in
 * handshake-server.ts and handshake-client.ts). Three JSON text frames, before any binary frame:
 *
 *   server → client  challenge {cluster, node, epoch, nonce, ts}
 *   client → server  hello     {cluster, node, to, epoch, nonce, cnonce, ts, address, mac}
 *   server → client  welcome   {cluster, node, to, epoch, nonce, cnonce, ts, dup, mac}
 *
 * The client's MAC covers the server's single-use nonce, the server's MAC the client's single-use
 * nonce: each end proves it holds the cluster secret, and a recorded handshake is worthless on another
 * connection. Timestamps bound how long a captured message could matter; the cluster name is checked
 * (and MACed) so two clusters never mix even if they share a secret.
 */
export const HANDSHAKE_VERSION = 1;
/** Largest handshake message accepted, bytes: they are small, and arrive before authentication. */
export const MAX_HANDSHAKE_BYTES = 4096;

export interface Challenge {
  t: 'challenge';
  v: number;
  cluster: string;
  node: string;
  epoch: string;
  nonce: string;
  ts: number;
}

export interface Hello {
  t: 'hello';
  v: number;
  cluster: string;
  node: string;
  to: string;
  epoch: string;
  nonce: string;
  cnonce: string;
  ts: number;
  /** Where the client listens (so the server can redial it), '' when it does not say. */
  address: string;
  mac: string;
}

export interface Welcome {
  t: 'welcome';
  v: number;
  cluster: string;
  node: string;
  to: string;
  epoch: string;
  nonce: string;
  cnonce: string;
  ts: number;
  /** True when the server keeps another connection between the two nodes (the tie-break). */
  dup: boolean;
  mac: string;
}

export type HandshakeMessage = Challenge | Hello | Welcome;

/** Why a handshake was refused; `reason` is what the log line and the close frame say. */
export class HandshakeRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function newNonce(): string {
  // Nonces must be unpredictable, so they come from the OS's secure source, not the injected Random.
  return randomBytes(18).toString('base64url');
}

const ID_RE = /^[\x21-\x7e]{1,256}$/;

function mac(secret: Buffer, fields: readonly (string | number)[]): string {
  // Length-prefixed fields: no separator character can make two different field lists collide.
  const h = createHmac('sha256', secret);
  const len = Buffer.alloc(4);
  for (const f of fields) {
    const b = Buffer.from(String(f), 'utf8');
    len.writeUInt32BE(b.length, 0);
    h.update(len);
    h.update(b);
  }
  return h.digest('base64url');
}

function helloFields(m: Omit<Hello, 'mac'>): (string | number)[] {
  return ['cloudstackd-ws-hello', m.v, m.cluster, m.node, m.to, m.epoch, m.nonce, m.cnonce, m.ts, m.address];
}

function welcomeFields(m: Omit<Welcome, 'mac'>): (string | number)[] {
  return ['cloudstackd-ws-welcome', m.v, m.cluster, m.node, m.to, m.epoch, m.nonce, m.cnonce, m.ts, m.dup ? 1 : 0];
}

export function signHello(secret: Buffer, m: Omit<Hello, 'mac'>): Hello {
  return { ...m, mac: mac(secret, helloFields(m)) };
}

export function signWelcome(secret: Buffer, m: Omit<Welcome, 'mac'>): Welcome {
  return { ...m, mac: mac(secret, welcomeFields(m)) };
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function str(o: Record<string, unknown>, k: string, max = 512): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) throw new HandshakeRefusal(`malformed handshake: field ${k}`);
  return v;
}

function num(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HandshakeRefusal(`malformed handshake: field ${k}`);
  return v;
}

/** Parses one handshake frame; anything else (binary, oversized, unexpected type) is a refusal. */
export function parseHandshake(data: Buffer, isBinary: boolean, expected: HandshakeMessage['t']): HandshakeMessage {
  if (isBinary) throw new HandshakeRefusal(`expected a ${expected} handshake message, got a binary frame`);
  if (data.length > MAX_HANDSHAKE_BYTES) throw new HandshakeRefusal(`handshake message of ${data.length} bytes is too large`);
  let o: unknown;
  try {
    o = JSON.parse(data.toString('utf8'));
  } catch {
    throw new HandshakeRefusal('handshake message is not JSON');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new HandshakeRefusal('handshake message is not an object');
  const r = o as Record<string, unknown>;
  if (r.t !== expected) throw new HandshakeRefusal(`expected a ${expected} handshake message, got ${JSON.stringify(r.t)}`.slice(0, 100));
  if (r.v !== HANDSHAKE_VERSION) throw new HandshakeRefusal(`handshake version ${String(r.v)} is not supported (this node speaks ${HANDSHAKE_VERSION})`);
  const base = { v: HANDSHAKE_VERSION, cluster: str(r, 'cluster'), node: str(r, 'node'), epoch: str(r, 'epoch', 64), ts: num(r, 'ts') };
  if (!ID_RE.test(base.node)) throw new HandshakeRefusal('malformed handshake: node id');
  if (expected === 'challenge') return { t: 'challenge', ...base, nonce: str(r, 'nonce', 64) };
  // A missing MAC is its own refusal reason: a peer configured without the secret sends none.
  const macValue = r.mac === undefined || r.mac === '' ? '' : str(r, 'mac', 64);
  const common = { ...base, to: str(r, 'to'), nonce: str(r, 'nonce', 64), cnonce: str(r, 'cnonce', 64), mac: macValue };
  if (expected === 'hello') return { t: 'hello', ...common, address: str(r, 'address') };
  if (typeof r.dup !== 'boolean') throw new HandshakeRefusal('malformed handshake: field dup');
  return { t: 'welcome', ...common, dup: r.dup };
}

export interface VerifyContext {
  secret: Buffer;
  cluster: string;
  self: string;
  now: number;
  maxSkewMs: number;
}

function checkCommon(m: Hello | Welcome, c: VerifyContext): void {
  if (m.cluster !== c.cluster) throw new HandshakeRefusal(`cluster name mismatch: peer is in "${m.cluster}", this node in "${c.cluster}"`);
  if (m.to !== c.self) throw new HandshakeRefusal(`handshake is addressed to node ${m.to}, not ${c.self}`);
  if (m.node === c.self) throw new HandshakeRefusal('peer claims this node\'s own id');
  const skew = Math.abs(m.ts - c.now);
  if (skew > c.maxSkewMs) throw new HandshakeRefusal(`handshake timestamp is ${Math.round(skew / 1000)} s off this node's clock (limit ${c.maxSkewMs / 1000} s)`);
  if (m.mac === '') throw new HandshakeRefusal('peer sent no proof of the cluster secret (is it configured with one?)');
}

/**
 * Checks a client's hello against the nonce issued on this connection. `used` remembers recently
 * consumed nonces only to name a replay as such: any nonce other than this connection's is refused.
 */
export function verifyHello(m: Hello, c: VerifyContext, issued: string, used: NonceBook): void {
  checkCommon(m, c);
  if (m.nonce !== issued) {
    throw new HandshakeRefusal(used.has(m.nonce, c.now)
      ? 'replayed handshake: its nonce was already used'
      : 'handshake answers a nonce not issued on this connection (replayed or forged)');
  }
  if (!sameMac(m.mac, mac(c.secret, helloFields(m)))) throw new HandshakeRefusal('wrong cluster secret: the handshake MAC does not match');
  if (!used.consume(m.nonce, c.now)) throw new HandshakeRefusal('replayed handshake: its nonce was already used');
}

/** Checks a server's welcome against the challenge it answered and this client's nonce. */
export function verifyWelcome(m: Welcome, c: VerifyContext, challenge: Challenge, cnonce: string): void {
  checkCommon(m, c);
  if (m.node !== challenge.node || m.epoch !== challenge.epoch) throw new HandshakeRefusal('welcome comes from another node than the challenge');
  if (m.cnonce !== cnonce || m.nonce !== challenge.nonce) throw new HandshakeRefusal('welcome answers a nonce not issued on this connection (replayed or forged)');
  if (!sameMac(m.mac, mac(c.secret, welcomeFields(m)))) throw new HandshakeRefusal('wrong cluster secret: the handshake MAC does not match');
}

/** Checks a challenge before answering it: same cluster, another node, sane timestamp. */
export function checkChallenge(m: Challenge, c: Omit<VerifyContext, 'secret'>): void {
  if (m.cluster !== c.cluster) throw new HandshakeRefusal(`cluster name mismatch: peer is in "${m.cluster}", this node in "${c.cluster}"`);
  if (m.node === c.self) throw new HandshakeRefusal('dialed this node itself');
  const skew = Math.abs(m.ts - c.now);
  if (skew > c.maxSkewMs) throw new HandshakeRefusal(`handshake timestamp is ${Math.round(skew / 1000)} s off this node's clock (limit ${c.maxSkewMs / 1000} s)`);
}

/**
 * Nonces consumed within the skew window, bounded in number. Entries older than the window are
 * forgotten: a hello that old is refused by its timestamp anyway.
 */
export class NonceBook {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly maxEntries = 10_000) {}

  has(nonce: string, now: number): boolean {
    this.prune(now);
    return this.seen.has(nonce);
  }

  /** Marks a nonce used; false when it already was. */
  consume(nonce: string, now: number): boolean {
    this.prune(now);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + this.windowMs);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }

  private prune(now: number): void {
    // Insertion order is expiry order (same window for all), so expired entries are at the front.
    for (const [nonce, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(nonce);
    }
  }
}
