/**
 * The one place that turns errors into CloudStack's error bodies: `{uuidList, errorcode, cserrorcode,
 * errortext}` with the HTTP status equal to `errorcode`. Component errors (src/errors.ts) are mapped by
 * their stable `code`; errors the API layer raises itself are ApiError with an explicit code. Nothing
 * from an unexpected error's message, stack or file paths reaches a response.
 */
import { CloudstackdError } from '../../src/errors.js';

/** ApiErrorCode (api/.../ApiErrorCode.java), plus 400 for a session request without a command. */
export const ApiErrorCode = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  METHOD_NOT_ALLOWED: 405,
  MALFORMED_PARAMETER_ERROR: 430,
  PARAM_ERROR: 431,
  UNSUPPORTED_ACTION_ERROR: 432,
  INTERNAL_ERROR: 530,
  ACCOUNT_ERROR: 531,
  ACCOUNT_RESOURCE_LIMIT_ERROR: 532,
  INSUFFICIENT_CAPACITY_ERROR: 533,
  RESOURCE_UNAVAILABLE_ERROR: 534,
  RESOURCE_ALLOCATION_ERROR: 535,
  RESOURCE_IN_USE_ERROR: 536,
  NETWORK_RULE_CONFLICT_ERROR: 537,
} as const;

export type ApiErrorCodeValue = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** Every errorcode (and so every HTTP error status) the API can answer with. */
export const API_ERROR_CODES: ReadonlySet<number> = new Set(Object.values(ApiErrorCode));

/** CSExceptionErrorCode values used here. */
export const CsErrorCode = {
  CLOUD_RUNTIME: 4250,
  ACCOUNT_LIMIT: 4280,
  CLOUD_AUTHENTICATION: 4290,
  CONCURRENT_OPERATION: 4300,
  INSUFFICIENT_CAPACITY: 4325,
  INVALID_PARAMETER_VALUE: 4350,
  NETWORK_RULE_CONFLICT: 4360,
  PERMISSION_DENIED: 4365,
  RESOURCE_ALLOCATION: 4370,
  RESOURCE_IN_USE: 4375,
  RESOURCE_UNAVAILABLE: 4380,
  UNAVAILABLE_COMMAND: 4555,
  OPERATION_TIMED_OUT: 4560,
  /** A ServerApiException raised by the API layer itself, with no underlying cause. */
  SERVER_API: 9999,
} as const;

/** BaseCmd.USER_ERROR_MESSAGE: what non-admin callers see instead of internal details. */
export const USER_ERROR_MESSAGE = 'Internal error executing command, please contact your cloud administrator';

/** The 401 text of ApiServlet for every credential or signature failure. */
export const UNAUTHORIZED_TEXT = 'unable to verify user credentials and/or request signature';

export interface UuidRef {
  readonly uuid: string;
  readonly uuidProperty?: string;
}

export interface ApiErrorOptions {
  /** CloudStack's exception code; default 9999 (ServerApiException); null leaves it out (plain 401s). */
  readonly cserrorcode?: number | null;
  readonly uuidList?: readonly UuidRef[];
  readonly cause?: unknown;
}

/** An error the API layer raises with an explicit CloudStack code (missing parameter, bad signature...). */
export class ApiError extends Error {
  readonly errorcode: ApiErrorCodeValue;
  readonly cserrorcode: number | undefined;
  readonly uuidList: readonly UuidRef[];

  constructor(errorcode: ApiErrorCodeValue, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.errorcode = errorcode;
    this.cserrorcode = options.cserrorcode === null ? undefined : options.cserrorcode ?? CsErrorCode.SERVER_API;
    this.uuidList = options.uuidList ?? [];
  }
}

export interface ApiErrorBody {
  readonly uuidList: readonly UuidRef[];
  readonly errorcode: number;
  readonly cserrorcode?: number;
  readonly errortext: string;
}

export interface MappedError {
  readonly body: ApiErrorBody;
  /** True for errors nobody anticipated (bugs); the caller should log them. */
  readonly unexpected: boolean;
}

interface CodeMapping {
  readonly errorcode: ApiErrorCodeValue;
  readonly cserrorcode?: number;
}

/** src/errors.ts codes → CloudStack codes. Codes not listed are internal errors (530). */
const BY_CODE: Readonly<Record<string, CodeMapping>> = {
  INVALID_PARAMETER: { errorcode: 431, cserrorcode: CsErrorCode.INVALID_PARAMETER_VALUE },
  NOT_FOUND: { errorcode: 431, cserrorcode: CsErrorCode.INVALID_PARAMETER_VALUE },
  VALIDATION: { errorcode: 431, cserrorcode: CsErrorCode.INVALID_PARAMETER_VALUE },
  // CloudStack raises InvalidParameterValueException for "not in the right state" almost everywhere.
  ILLEGAL_STATE: { errorcode: 431, cserrorcode: CsErrorCode.INVALID_PARAMETER_VALUE },
  AUTH: { errorcode: 401 },
  PERMISSION_DENIED: { errorcode: 531, cserrorcode: CsErrorCode.PERMISSION_DENIED },
  LIMIT_EXCEEDED: { errorcode: 532, cserrorcode: CsErrorCode.ACCOUNT_LIMIT },
  INSUFFICIENT_CAPACITY: { errorcode: 533, cserrorcode: CsErrorCode.INSUFFICIENT_CAPACITY },
  RESOURCE_UNAVAILABLE: { errorcode: 534, cserrorcode: CsErrorCode.RESOURCE_UNAVAILABLE },
  RESOURCE_ALLOCATION: { errorcode: 535, cserrorcode: CsErrorCode.RESOURCE_ALLOCATION },
  RESOURCE_IN_USE: { errorcode: 536, cserrorcode: CsErrorCode.RESOURCE_IN_USE },
  // No class carries this code yet; the network component can add NetworkRuleConflictError with it.
  NETWORK_RULE_CONFLICT: { errorcode: 537, cserrorcode: CsErrorCode.NETWORK_RULE_CONFLICT },
  UNSUPPORTED: { errorcode: 432, cserrorcode: CsErrorCode.UNAVAILABLE_COMMAND },
  CONFLICT: { errorcode: 530, cserrorcode: CsErrorCode.CONCURRENT_OPERATION },
  FENCED: { errorcode: 530, cserrorcode: CsErrorCode.CONCURRENT_OPERATION },
  TIMEOUT: { errorcode: 530, cserrorcode: CsErrorCode.OPERATION_TIMED_OUT },
};

const INTERNAL: CodeMapping = { errorcode: 530, cserrorcode: CsErrorCode.CLOUD_RUNTIME };

/** CloudStack hides these codes' details from callers who are not root admins. */
const HIDDEN_FROM_USERS: ReadonlySet<number> = new Set([530, 533, 534]);

/** Longest errortext sent; the rest is cut (messages may quote request values). */
export const MAX_ERROR_TEXT = 2048;

const STACK_LINE = /\n\s*at\s[\s\S]*$/;
const FILE_URL = /file:\/\/\S+/g;
const ABS_PATH = /(?:[A-Za-z]:\\|\/)(?:[\w.@+-]+[\\/])+[\w.@+-]*/g;
const SYSTEM_ROOTS = /^(?:[A-Za-z]:\\|\/(?:home|usr|tmp|var|opt|work|root|etc|srv|mnt|Users|private|proc|dev|run|app|data)[\\/])/;
const FILE_NAME = /\.[A-Za-z0-9]{1,8}$/;

/** A path worth hiding: under a system root, or ending in a file name. Domain paths (`/a/b/`) stay. */
function looksLikeFilePath(path: string): boolean {
  return SYSTEM_ROOTS.test(path) || path.includes('node_modules') || FILE_NAME.test(path);
}

/** Removes stack frames and file paths from a message, and bounds its length. */
export function scrubMessage(message: string): string {
  let text = message.replace(STACK_LINE, '').replace(FILE_URL, '<path>');
  text = text.replace(ABS_PATH, (m) => (looksLikeFilePath(m) ? '<path>' : m));
  return bound(text);
}

function bound(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}...` : text;
}

function uuidListOf(err: CloudstackdError): UuidRef[] {
  const raw = err.details?.['uuidList'];
  if (!Array.isArray(raw)) return [];
  const out: UuidRef[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item === 'string') out.push({ uuid: item });
    else if (typeof item === 'object' && item !== null && typeof (item as UuidRef).uuid === 'string') {
      const ref = item as UuidRef;
      out.push(ref.uuidProperty === undefined ? { uuid: ref.uuid } : { uuid: ref.uuid, uuidProperty: ref.uuidProperty });
    }
  }
  return out;
}

export interface MapOptions {
  /** Root admins see the real text of 530/533/534 errors; others get USER_ERROR_MESSAGE. */
  readonly callerIsAdmin: boolean;
}

function body(errorcode: number, errortext: string, cserrorcode: number | undefined, uuidList: readonly UuidRef[]): ApiErrorBody {
  return cserrorcode === undefined ? { uuidList, errorcode, errortext } : { uuidList, errorcode, cserrorcode, errortext };
}

/**
 * Maps anything thrown while serving a request to an error body. A CloudstackdError's `details.uuidList`
 * (strings or {uuid, uuidProperty}) becomes the body's uuidList.
 */
export function mapError(err: unknown, options: MapOptions): MappedError {
  if (err instanceof ApiError) {
    // The API layer's own messages quote only request values, never internals: no scrubbing needed.
    return { body: body(err.errorcode, bound(err.message), err.cserrorcode, err.uuidList), unexpected: false };
  }
  if (err instanceof CloudstackdError) {
    const m = BY_CODE[err.code] ?? INTERNAL;
    const hide = HIDDEN_FROM_USERS.has(m.errorcode) && !options.callerIsAdmin;
    const text = hide ? USER_ERROR_MESSAGE : scrubMessage(err.message);
    return { body: body(m.errorcode, text, m.cserrorcode, uuidListOf(err)), unexpected: m === INTERNAL };
  }
  // A plain Error is a bug somewhere: its message may name files or internals, so nobody sees it.
  return { body: body(530, USER_ERROR_MESSAGE, CsErrorCode.SERVER_API, []), unexpected: true };
}

/** The `jobresult` of a failed async job: `{errorcode, errortext}` only (reference section 2.4). */
export function jobErrorResult(err: unknown, options: MapOptions): { errorcode: number; errortext: string } {
  const { body: b } = mapError(err, options);
  return { errorcode: b.errorcode, errortext: b.errortext };
}
