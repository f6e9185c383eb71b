/**
 * The date formats CloudStack reads and writes. Parsing is strict about the whole string (Java's
 * SimpleDateFormat would accept trailing garbage; nothing depends on that) and lenient about which of
 * CloudStack's accepted patterns is used.
 */

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MAX_OFFSET_MINUTES = 18 * 60; // java.time's ZoneOffset range

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function validDateTime(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const max = mo === 2 && !isLeap(y) ? 28 : DAYS_IN_MONTH[mo - 1]!;
  return d <= max;
}

function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

/** Offset in minutes east of UTC, or undefined when malformed. Accepts Z, ±HH, ±HHMM, ±HH:MM, Z±HHMM. */
function parseOffset(text: string): number | undefined {
  const t = text.toUpperCase();
  if (t === 'Z') return 0;
  const m = /^Z?([+-])(\d{2})(?::?(\d{2}))?$/.exec(t);
  if (m === null) return undefined;
  // The legacy pattern `'Z'Z` is the only one with both a Z and a numeric offset, and it has four digits.
  if (t.startsWith('Z') && (m[3] === undefined || t.includes(':'))) return undefined;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (minutes > 59) return undefined;
  const total = hours * 60 + minutes;
  if (total > MAX_OFFSET_MINUTES) return undefined;
  return m[1] === '-' ? -total : total;
}

const TZ_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z[+-]\d{4}|Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parses the `expires` timestamp in every format of DateUtil.parseTZDateString: ISO offset date-time
 * (`2030-01-01T00:00:00+00:00`), `yyyy-MM-dd'T'HH:mm:ssZ` (`...+0000`, csclient's), ISO instant (`...Z`),
 * fractional-second variants, and the legacy `yyyy-MM-dd'T'HH:mm:ss'Z'Z` (`...Z+0000`).
 * Returns epoch milliseconds, or undefined when the text matches none of them.
 */
export function parseTzDate(text: string): number | undefined {
  const m = TZ_DATE.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (!validDateTime(y, mo, d, h, mi, s)) return undefined;
  const offset = parseOffset(m[8]!);
  if (offset === undefined) return undefined;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return utcMillis(y, mo, d, h, mi, s, ms) - offset * 60_000;
}

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$/;

/**
 * Parses a `date` parameter: `yyyy-MM-dd` or `yyyy-MM-dd HH:mm:ss` (CloudStack's two input formats,
 * taken here as UTC rather than the server's zone), or any `expires`-style timestamp with a zone.
 */
export function parseParamDate(text: string): Date | undefined {
  const m = PLAIN_DATE.exec(text);
  if (m !== null) {
    const [y, mo, d] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
    const [h, mi, s] = m[4] === undefined ? [0, 0, 0] : [Number(m[4]), Number(m[5]), Number(m[6])];
    if (!validDateTime(y, mo, d, h, mi, s)) return undefined;
    return new Date(utcMillis(y, mo, d, h, mi, s, 0));
  }
  const ms = parseTzDate(text);
  return ms === undefined ? undefined : new Date(ms);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** CloudStack's output format, `yyyy-MM-dd'T'HH:mm:ssZ` in UTC: `2024-05-01T10:20:30+0000`. */
export function formatCloudStackDate(date: Date): string {
  const y = date.getUTCFullYear();
  return `${pad(y, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}+0000`;
}
