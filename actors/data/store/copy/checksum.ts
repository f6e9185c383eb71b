/**
 * A checksum of a table's rows that comes out the same from SQLite and from PostgreSQL when, and only
 * when, both hold the same rows. Two things differ between the databases and are neutralised here:
 *
 * - Order. SQLite sorts text by bytes, PostgreSQL by the database's collation, so "the rows ordered by
 *   primary key" is not the same sequence on both sides. The checksum is therefore a sum (modulo 2^256)
 *   of one SHA-256 per row: independent of order, and still different when any row differs, is missing
 *   or is repeated.
 * - Representation. Each value is written canonically from the column's type on the target: an
 *   integer as its decimal digits (read exactly on both sides: SQLite with safeIntegers, PostgreSQL as
 *   `::text`), a double precision value as JavaScript's shortest round-trip text of the number (both
 *   drivers give a JS number), text as itself, NULL as JSON null. A value of another kind than its column
 *   is written with a tag, so it cannot collide with a proper one.
 */
import { createHash } from 'node:crypto';
import type { ColumnInfo } from './catalog.js';

const MODULUS = 1n << 256n;

function canonicalInteger(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v.replace(/^(-?)0+(?=\d)/, '$1');
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return tagged(v);
}

function canonicalDouble(v: unknown): unknown {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return String(Number(v));
  return tagged(v);
}

function canonicalText(v: unknown): unknown {
  return typeof v === 'string' ? v : tagged(v);
}

/** A value of an unexpected kind: kept distinguishable from every canonical value. */
function tagged(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { blob: v.toString('hex') };
  if (typeof v === 'bigint') return { integer: v.toString() };
  if (typeof v === 'number') return { number: String(v) };
  return { [typeof v]: String(v) };
}

/** One value in canonical form for a column of `type` (an information_schema data_type). */
export function canonicalValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'bigint' || type === 'integer' || type === 'smallint') return canonicalInteger(v);
  if (type === 'double precision' || type === 'real' || type === 'numeric') return canonicalDouble(v);
  return canonicalText(v);
}

/** Accumulates rows (arrays in `columns` order) into an order-independent checksum. */
export class TableChecksum {
  private sum = 0n;
  rows = 0;

  constructor(private readonly columns: readonly ColumnInfo[]) {}

  add(row: readonly unknown[]): void {
    const canonical = JSON.stringify(this.columns.map((c, i) => canonicalValue(row[i], c.type)));
    const digest = createHash('sha256').update(canonical).digest('hex');
    this.sum = (this.sum + BigInt(`0x${digest}`)) % MODULUS;
    this.rows++;
  }

  /** 64 hex digits. */
  hex(): string {
    return this.sum.toString(16).padStart(64, '0');
  }
}
