/**
 * JSON rendering, as CloudStack's ApiResponseSerializer writes it: compact, `{"<responsename>":payload}`,
 * null fields omitted entirely, empty arrays kept, dates as `yyyy-MM-dd'T'HH:mm:ssZ`, real JSON numbers
 * and booleans. Characters are written as they are (CloudStack un-escapes Gson's \u003c etc.).
 */
import { formatCloudStackDate } from './dates.js';
import type { ResponseObject } from './types.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

/** Values CloudStack would not print: null, undefined, NaN/Infinity, invalid dates. */
function omitted(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ||
    (v instanceof Date && Number.isNaN(v.getTime()));
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = key === '' ? value : (this as Record<string, unknown>)[key];
  if (omitted(raw)) return undefined;
  if (raw instanceof Date) return formatCloudStackDate(raw);
  // Inside arrays JSON.stringify would print null for an omitted entry: drop those entries instead.
  if (Array.isArray(value) && value.some(omitted)) return value.filter((v) => !omitted(v));
  return value;
}

/** One value (an object of a list, say) as compact JSON, with the same rules as a whole answer. */
export function jsonValue(value: unknown): string {
  return JSON.stringify(value, replacer) ?? 'null';
}

/** `{"<responseName>":<payload>}` as compact JSON. */
export function renderJson(responseName: string, payload: ResponseObject): string {
  return `{${JSON.stringify(responseName)}:${JSON.stringify(payload, replacer) ?? '{}'}}`;
}
