/**
 * CloudStack's request signature, exactly as ApiServer.verifyRequest computes it:
 *   1. every request parameter except `signature` (name matched case-insensitively), names as received;
 *   2. sorted by name (Java Collections.sort: UTF-16 code-unit order);
 *   3. `name=ENC(value)`, ENC = Java URLEncoder.encode(value, "UTF-8") with `+` replaced by `%20`;
 *   4. joined with `&`, the whole string lower-cased;
 *   5. HMAC-SHA1 keyed with the secret key, Base64 with padding; compared in constant time.
 * Clients canonicalise slightly differently (reference section 1.3): csclient and CloudMonkey encode
 * `*` as `%2A` and leave `~` bare, and csclient sorts whole `name=value` strings. In lenient mode the
 * server also accepts those variants; each is a deterministic function of the same parameters, so
 * accepting them does not weaken the HMAC.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseTzDate } from './dates.js';

export type ParamPair = readonly [name: string, value: string];

/** Characters encodeURIComponent leaves bare but Java's URLEncoder percent-encodes. */
const JAVA_EXTRA = /[!'()~]/g;
const JAVA_EXTRA_CODES: Readonly<Record<string, string>> = { '!': '%21', "'": '%27', '(': '%28', ')': '%29', '~': '%7E' };

function uriEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone surrogate: Java would emit '?' bytes, but decoded request values never contain one.
    return encodeURIComponent(Buffer.from(value, 'utf8').toString('utf8'));
  }
}

/**
 * Java `URLEncoder.encode(value, "UTF-8").replaceAll("\\+", "%20")`: leaves `A-Z a-z 0-9 . - * _`,
 * percent-encodes everything else as UTF-8 with upper-case hex, space as %20. encodeURIComponent
 * differs only in leaving `! ' ( ) ~` bare.
 */
export function javaUrlEncode(value: string): string {
  return uriEncode(value).replace(JAVA_EXTRA, (ch) => JAVA_EXTRA_CODES[ch]!);
}

/** How a client may have encoded `*` and `~` (Java: `*` bare, `~` as %7E). */
export interface EncodingVariant {
  readonly starEncoded: boolean;
  readonly tildeBare: boolean;
}

export const JAVA_ENCODING: EncodingVariant = { starEncoded: false, tildeBare: false };

function variantEncode(value: string, v: EncodingVariant): string {
  let out = javaUrlEncode(value);
  if (v.starEncoded) out = out.replaceAll('*', '%2A');
  if (v.tildeBare) out = out.replaceAll('%7E', '~');
  return out;
}

/** Sort orders: by name as received (Java), by lower-cased name, or by whole `name=value` string (csclient). */
export type SortVariant = 'name' | 'lowername' | 'pair';

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The lower-cased string that is signed. `params` must not contain `signature`. */
export function canonicalString(
  params: readonly ParamPair[],
  encoding: EncodingVariant = JAVA_ENCODING,
  sort: SortVariant = 'name',
): string {
  const parts = params.map(([name, value]) => ({ name, text: `${name}=${variantEncode(value, encoding)}` }));
  if (sort === 'pair') parts.sort((a, b) => compareCodeUnits(a.text, b.text));
  else if (sort === 'lowername') parts.sort((a, b) => compareCodeUnits(a.name.toLowerCase(), b.name.toLowerCase()));
  else parts.sort((a, b) => compareCodeUnits(a.name, b.name));
  return parts.map((p) => p.text).join('&').toLowerCase();
}

/** Base64 HMAC-SHA1 of `canonical` keyed with `secretKey` (both as UTF-8 bytes). */
export function hmacSignature(canonical: string, secretKey: string): string {
  return createHmac('sha1', secretKey).update(canonical, 'utf8').digest('base64');
}

/** Signs parameters the way a Java-faithful client would (used by tests and tools). */
export function signParams(params: readonly ParamPair[], secretKey: string): string {
  return hmacSignature(canonicalString(params.filter(([n]) => !isSignatureName(n))), secretKey);
}

export function isSignatureName(name: string): boolean {
  return name.toLowerCase() === 'signature';
}

function constantTimeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare equal-length buffers even on a length mismatch so the timing does not depend on where they differ.
  if (ba.length !== bb.length) {
    timingSafeEqual(bb, bb);
    return false;
  }
  return timingSafeEqual(ba, bb);
}

const ALL_ENCODINGS: readonly EncodingVariant[] = [
  JAVA_ENCODING,
  { starEncoded: true, tildeBare: false },
  { starEncoded: false, tildeBare: true },
  { starEncoded: true, tildeBare: true },
];
const ALL_SORTS: readonly SortVariant[] = ['name', 'lowername', 'pair'];

/** Every distinct canonical string accepted for these parameters, the Java one first (just it unless lenient). */
export function candidateCanonicals(params: readonly ParamPair[], lenient: boolean): string[] {
  const first = canonicalString(params);
  if (!lenient) return [first];
  const out = new Set<string>([first]);
  const values = params.map(([, v]) => v).join('');
  const encodings = values.includes('*') || values.includes('~') ? ALL_ENCODINGS : [JAVA_ENCODING];
  for (const enc of encodings) for (const sort of ALL_SORTS) out.add(canonicalString(params, enc, sort));
  return [...out];
}

/**
 * True when `signature` is the HMAC of an accepted canonical string. Each comparison is constant-time;
 * the Java form is tried first and the client variants only when it does not match (which variant
 * matched is no secret, so stopping at a match leaks nothing).
 */
export function verifySignature(
  params: readonly ParamPair[],
  signature: string,
  secretKey: string,
  lenient = true,
): boolean {
  const unsigned = params.filter(([n]) => !isSignatureName(n));
  const java = canonicalString(unsigned);
  if (constantTimeEqual(hmacSignature(java, secretKey), signature)) return true;
  if (!lenient) return false;
  return candidateCanonicals(unsigned, true).slice(1).some((c) => constantTimeEqual(hmacSignature(c, secretKey), signature));
}

export interface ExpiryOptions {
  /** Now, epoch milliseconds (from the injected clock). */
  readonly now: number;
  /** How far in the future `expires` may be, in ms. CloudStack enforces 15 minutes when timestamps are enforced. */
  readonly maxAheadMs: number;
}

export type ExpiryVerdict = 'ok' | 'missing' | 'unparseable' | 'expired' | 'too-far-ahead';

/**
 * signatureVersion=3 rules: only the exact value `3` turns expiry checking on; then `expires` must be
 * present, parse, not be before now and not be more than maxAheadMs after now.
 */
export function checkExpiry(
  signatureVersion: string | undefined,
  expires: string | undefined,
  opts: ExpiryOptions,
): ExpiryVerdict {
  if (signatureVersion !== '3') return 'ok';
  if (expires === undefined) return 'missing';
  const at = parseTzDate(expires);
  if (at === undefined) return 'unparseable';
  if (at < opts.now) return 'expired';
  if (at > opts.now + opts.maxAheadMs) return 'too-far-ahead';
  return 'ok';
}
