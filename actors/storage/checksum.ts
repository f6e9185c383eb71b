import { createHash, type Hash } from 'node:crypto';
import { InvalidParameterError } from '../../src/errors.js';

/** CloudStack's checksum forms: `{MD5}hex`, `{SHA-1}hex`, `{SHA-256}hex`, `{SHA-512}hex`, or bare hex (MD5). */
const ALGORITHMS: Readonly<Record<string, string>> = { MD5: 'md5', 'SHA-1': 'sha1', SHA1: 'sha1', 'SHA-256': 'sha256', SHA256: 'sha256',
  'SHA-512': 'sha512', SHA512: 'sha512' };
const HEX_LENGTH: Readonly<Record<string, number>> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

export interface ExpectedChecksum {
  algorithm: string;
  hex: string;
}

/** Parses a template's checksum; InvalidParameterError for an unknown algorithm or a malformed digest. */
export function parseChecksum(text: string): ExpectedChecksum {
  const m = /^\{([A-Za-z0-9-]+)\}(.*)$/.exec(text.trim());
  const algorithm = m === null ? 'md5' : ALGORITHMS[m[1]!.toUpperCase()];
  const hex = (m === null ? text.trim() : m[2]!).toLowerCase();
  if (algorithm === undefined) throw new InvalidParameterError(`Unsupported checksum algorithm in ${text}; use {MD5}, {SHA-1}, {SHA-256} or {SHA-512}`);
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new InvalidParameterError(`Checksum ${text} is not a ${algorithm} digest in hex`);
  }
  return { algorithm, hex };
}

export function checksumHash(c: ExpectedChecksum): Hash {
  return createHash(c.algorithm);
}
