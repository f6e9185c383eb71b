/**
 * Request parameters, from raw name/value pairs to the typed values a handler sees. Mirrors
 * CloudStack's ApiServlet (query merged over the POST form body), ParamUnpackWorker (names
 * lower-cased, `x[i].k=v` unpacked into maps, malformed brackets → 430) and ParamProcessWorker
 * (required check and typed coercion → 431 naming the parameter). Unknown parameters are ignored.
 */
import { ApiError, ApiErrorCode, CsErrorCode } from './error-map.js';
import { parseParamDate } from './dates.js';
import type { ParamPair } from './signature.js';
import type { ListItemType, MapEntry, PageWindow, ParamDef, ParamValue, Params } from './types.js';

/** CloudStack's default @Parameter length for strings. */
export const DEFAULT_STRING_LENGTH = 255;
/** How much of an offending value an error message repeats. */
const MAX_VALUE_IN_MESSAGE = 256;

/**
 * Merges the POST form body and the query string into one list of pairs, one per exact name. The
 * last occurrence of a name wins, and a query value wins over a body value (ApiServlet re-applies the
 * query string after reading the parameter map).
 */
export function mergeParams(query: string, formBody: string | undefined): ParamPair[] {
  const merged = new Map<string, string>();
  if (formBody !== undefined) for (const [n, v] of new URLSearchParams(formBody)) merged.set(n, v);
  for (const [n, v] of new URLSearchParams(query)) merged.set(n, v);
  return [...merged];
}

/** The value of `name` matched case-insensitively (the last such pair wins), or undefined. */
export function lookupParam(pairs: readonly ParamPair[], name: string): string | undefined {
  let found: string | undefined;
  for (const [n, v] of pairs) if (n.toLowerCase() === name) found = v;
  return found;
}

/** A parameter after unpacking: a plain string, or the entries of a map parameter in index order. */
export type UnpackedValue = string | readonly MapEntry[];

function malformed(key: string): ApiError {
  return new ApiError(ApiErrorCode.MALFORMED_PARAMETER_ERROR,
    `Unable to decode parameter ${shorten(key)}; if specifying an object array, please use parameter[index].field=XXX, ` +
    'e.g. userGroupList[0].group=httpGroup');
}

interface MapKey {
  name: string;
  index: number;
  field: string;
}

/** Splits `name[index].field`; undefined for a plain name; throws 430 for malformed bracket syntax. */
function parseMapKey(key: string): MapKey | undefined {
  const open = key.indexOf('[');
  if (open !== key.lastIndexOf('[')) throw malformed(key);
  if (open <= 0) return undefined; // ParamUnpackWorker treats a leading '[' as part of a plain name
  const close = key.indexOf(']');
  if (close < open || close !== key.lastIndexOf(']')) throw malformed(key);
  const dot = key.indexOf('.'); // ParamUnpackWorker: the first '.' must come after ']'
  if (dot < close || dot === key.length - 1) throw malformed(key);
  const indexText = key.slice(open + 1, close);
  if (!/^[+-]?\d{1,9}$/.test(indexText)) throw malformed(key);
  return { name: key.slice(0, open).toLowerCase(), index: Number(indexText), field: key.slice(dot + 1) };
}

/**
 * Lower-cases names and gathers map parameters: `tags[1].key=b&tags[0].key=a` gives
 * `tags: [{key:'a'}, {key:'b'}]` (entries in index order; field names keep their case).
 */
export function unpackParams(pairs: readonly ParamPair[]): Map<string, UnpackedValue> {
  const plain = new Map<string, string>();
  const maps = new Map<string, Map<number, Record<string, string>>>();
  for (const [key, value] of pairs) {
    const mk = parseMapKey(key);
    if (mk === undefined) {
      plain.set(key.toLowerCase(), value);
      continue;
    }
    let entries = maps.get(mk.name);
    if (entries === undefined) maps.set(mk.name, (entries = new Map()));
    let entry = entries.get(mk.index);
    if (entry === undefined) entries.set(mk.index, (entry = Object.create(null) as Record<string, string>));
    entry[mk.field] = value;
  }
  const out = new Map<string, UnpackedValue>(plain);
  for (const [name, entries] of maps) {
    const ordered = [...entries.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => ({ ...e }) as MapEntry);
    out.set(name, ordered); // a map wins over a plain value of the same name
  }
  return out;
}

// ASCII control characters except LF and CR.
const CONTROL_CHARS = /[\u0000-\u0009\u000B\u000C\u000E-\u001F\u007F]/;

/** Rejects values with ASCII control characters other than LF and CR (431), as CloudStack does. */
export function checkControlCharacters(params: ReadonlyMap<string, UnpackedValue>): void {
  for (const [name, value] of params) {
    const strings = typeof value === 'string' ? [value] : value.flatMap((e) => Object.values(e));
    if (strings.some((s) => CONTROL_CHARS.test(s))) {
      throw new ApiError(ApiErrorCode.PARAM_ERROR,
        `Received value for parameter ${shorten(name)} is invalid, contains illegal ASCII non-printable characters`);
    }
  }
}

export function shorten(text: string): string {
  return text.length <= MAX_VALUE_IN_MESSAGE ? text : `${text.slice(0, MAX_VALUE_IN_MESSAGE)}...`;
}

function describe(value: UnpackedValue): string {
  return typeof value === 'string' ? shorten(value) : '{map}';
}

/** What a coercion error message needs: the command's name as CloudStack prints it (lower case). */
interface CoerceScope {
  readonly command: string;
}

function invalidValue(scope: CoerceScope, def: ParamDef, value: UnpackedValue): ApiError {
  return new ApiError(ApiErrorCode.PARAM_ERROR,
    `Unable to execute API command ${scope.command} due to invalid value ${describe(value)} for parameter ${def.name}`);
}

function invalidUuid(scope: CoerceScope, def: ParamDef, value: string): ApiError {
  return unknownUuidError(scope.command, def.name, value);
}

/**
 * ParamProcessWorker's 431 for a UUID parameter that is malformed or names no entity. `command` is
 * the name as CloudStack prints it (the response name without `response`).
 */
export function unknownUuidError(command: string, param: string, value: string): ApiError {
  return new ApiError(ApiErrorCode.PARAM_ERROR,
    `Unable to execute API command ${command} due to invalid value. Invalid parameter ${param} ` +
    `value=${shorten(value)} due to incorrect long value format, or entity does not exist or due to incorrect ` +
    'parameter annotation for the field in api cmd class.');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER = /^[+-]?\d{1,19}$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function toInteger(text: string, min: number, max: number): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

function coerceListItem(text: string, type: ListItemType): string | number | undefined {
  switch (type) {
    case 'string': return text;
    case 'uuid': return UUID.test(text) ? text.toLowerCase() : undefined;
    case 'integer': return toInteger(text, INT32_MIN, INT32_MAX);
    case 'long': return toInteger(text, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }
}

function coerceList(scope: CoerceScope, def: ParamDef, text: string): ParamValue {
  const itemType = def.collectionType ?? 'string';
  const tokens = text.split(',').filter((t) => t !== ''); // StringTokenizer skips empty tokens
  const items = tokens.map((t) => coerceListItem(t, itemType));
  if (items.some((i) => i === undefined)) {
    throw itemType === 'uuid' ? invalidUuid(scope, def, text) : invalidValue(scope, def, text);
  }
  return itemType === 'integer' || itemType === 'long' ? (items as number[]) : (items as string[]);
}

/** Coerces one present value; undefined means "treat as absent" (an empty non-string value). */
function coerceValue(scope: CoerceScope, def: ParamDef, value: UnpackedValue): ParamValue | undefined {
  if (def.type === 'map') {
    if (typeof value === 'string') throw invalidValue(scope, def, value);
    return value;
  }
  if (typeof value !== 'string') throw invalidValue(scope, def, value);
  if (def.type === 'string') {
    const max = def.length ?? DEFAULT_STRING_LENGTH;
    if (value.length > max) {
      throw new ApiError(ApiErrorCode.PARAM_ERROR, `Unable to execute API command ${scope.command} due to invalid ` +
        `value. Value greater than max allowed length ${max} for param: ${def.name}`);
    }
    return value;
  }
  if (def.type === 'boolean') return value.toLowerCase() === 'true'; // Java Boolean.valueOf
  if (value === '') return undefined;
  switch (def.type) {
    case 'uuid':
      // ParamProcessWorker lets -1 through every UUID parameter (clients send projectid=-1 for "all projects").
      if (value === '-1') return value;
      if (!UUID.test(value)) throw invalidUuid(scope, def, value);
      return value.toLowerCase();
    case 'integer':
      return toInteger(value, INT32_MIN, INT32_MAX) ?? fail(invalidValue(scope, def, value));
    case 'long':
      return toInteger(value, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) ?? fail(invalidValue(scope, def, value));
    case 'date':
      return parseParamDate(value) ?? fail(new ApiError(ApiErrorCode.PARAM_ERROR, `Unable to parse date ${shorten(value)} ` +
        `for command ${scope.command}, please pass dates in the format mentioned in the api documentation`));
    case 'list':
      return coerceList(scope, def, value);
  }
}

function fail(err: ApiError): never {
  throw err;
}

/**
 * The declared parameters of a command, coerced to their types. Missing required parameters give 431
 * `Unable to execute API command <cmd> due to missing parameter <name>`; bad values give 431 naming
 * the parameter. Undeclared parameters are left out.
 */
export function coerceParams(command: string, defs: readonly ParamDef[], unpacked: ReadonlyMap<string, UnpackedValue>): Params {
  const scope: CoerceScope = { command };
  const out: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
  for (const def of defs) {
    const raw = unpacked.get(def.name);
    const value = raw === undefined ? undefined : coerceValue(scope, def, raw);
    if (value === undefined) {
      if (def.required === true) {
        throw new ApiError(ApiErrorCode.PARAM_ERROR, `Unable to execute API command ${command} due to missing parameter ${def.name}`);
      }
      continue;
    }
    out[def.name] = value;
  }
  return out;
}

/**
 * BaseListCmd's paging rules: page and pagesize together; pagesize -1 means everything and then page
 * must be absent; pagesize above the maximum is refused; unpaged requests get maxPageSize rows. The
 * first two are ServerApiExceptions of validateSpecificParameters (cserrorcode 9999); the next two are
 * InvalidParameterValueExceptions of getPageSize, which ApiServer wraps with their own code (4350).
 */
export function resolvePage(params: Params, maxPageSize: number): PageWindow {
  const page = params['page'] as number | undefined;
  const pageSize = params['pagesize'] as number | undefined;
  if (pageSize !== undefined && pageSize !== -1 && page === undefined) {
    throw new ApiError(ApiErrorCode.PARAM_ERROR, '"page" parameter is required when "pagesize" is specified');
  }
  if (pageSize === undefined && page !== undefined) {
    throw new ApiError(ApiErrorCode.PARAM_ERROR, '"pagesize" parameter is required when "page" is specified');
  }
  if (pageSize !== undefined && pageSize > maxPageSize) {
    throw new ApiError(ApiErrorCode.PARAM_ERROR, `Page size can't exceed max allowed page size value: ${maxPageSize}`,
      { cserrorcode: CsErrorCode.INVALID_PARAMETER_VALUE });
  }
  if (pageSize === -1 && page !== undefined) {
    throw new ApiError(ApiErrorCode.PARAM_ERROR, "Can't specify page parameter when pagesize is -1 (Unlimited)",
      { cserrorcode: CsErrorCode.INVALID_PARAMETER_VALUE });
  }
  if (pageSize !== undefined && pageSize < 1 && pageSize !== -1) {
    throw new ApiError(ApiErrorCode.PARAM_ERROR, `Invalid value provided for API arg: pagesize`);
  }
  const size = pageSize === -1 ? undefined : pageSize ?? maxPageSize;
  const startIndex = size !== undefined && page !== undefined && page > 0 ? size * (page - 1) : 0;
  return { startIndex, pageSize: size };
}

// Typed accessors for handlers: they read a parameter of the declared type without casts.

export function getString(params: Params, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' ? v : undefined;
}

export function getNumber(params: Params, name: string): number | undefined {
  const v = params[name];
  return typeof v === 'number' ? v : undefined;
}

export function getBoolean(params: Params, name: string): boolean | undefined {
  const v = params[name];
  return typeof v === 'boolean' ? v : undefined;
}

export function getDate(params: Params, name: string): Date | undefined {
  const v = params[name];
  return v instanceof Date ? v : undefined;
}

export function getList(params: Params, name: string): readonly string[] | undefined {
  const v = params[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as readonly string[]) : undefined;
}

export function getMap(params: Params, name: string): readonly MapEntry[] | undefined {
  const v = params[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null) ? (v as readonly MapEntry[]) : undefined;
}
