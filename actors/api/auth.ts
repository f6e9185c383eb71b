/**
 * Who is calling: API key + signature (ApiServer.verifyRequest) or a login session (ApiServlet with
 * HttpUtils.validateSessionKey), and the login/logout commands. Every credential failure — unknown
 * key, bad signature, expired, missing parts — is the same `undefined`, so the 401 the caller sees
 * does not say which part was wrong.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../src/clock.js';
import { defineSessionCommand, type SessionCommand } from './command-table.js';
import { ApiError, ApiErrorCode } from './error-map.js';
import { getString, lookupParam } from './params.js';
import type { Session, Sessions } from './sessions.js';
import { checkExpiry, verifySignature, type ParamPair } from './signature.js';
import type { Caller, Credentials, Params, ResponseObject, Role, UserProfile } from './types.js';

/** Where a session request must carry its sessionkey (`api.sessionkey.check.locations`). */
export type SessionKeyCheck = 'CookieAndParameter' | 'CookieOrParameter' | 'ParameterOnly';

export interface AuthOptions {
  /** How far ahead `expires` may be (ms) when signatureVersion=3. Default 15 minutes. */
  readonly maxExpiresAheadMs: number;
  /** Also accept the `*`/`~` encodings and sort orders of common clients (reference 1.3). Default true. */
  readonly lenientSignatures: boolean;
  /** Default CookieAndParameter, CloudStack's default. */
  readonly sessionKeyCheck: SessionKeyCheck;
}

export const DEFAULT_AUTH_OPTIONS: AuthOptions = {
  maxExpiresAheadMs: 15 * 60_000,
  lenientSignatures: true,
  sessionKeyCheck: 'CookieAndParameter',
};

// A key of the usual length, so an unknown API key costs the same HMAC work as a known one.
const DECOY_SECRET = randomBytes(64).toString('base64url');

/** Verifies an API-key request. Returns the caller, or undefined for every kind of failure. */
export async function authenticateApiKey(
  pairs: readonly ParamPair[],
  credentials: Credentials,
  clock: Clock,
  options: AuthOptions,
): Promise<Caller | undefined> {
  const apiKey = lookupParam(pairs, 'apikey');
  const signature = lookupParam(pairs, 'signature');
  if (apiKey === undefined || signature === undefined) return undefined;
  const expiry = checkExpiry(lookupParam(pairs, 'signatureversion'), lookupParam(pairs, 'expires'), {
    now: clock.now(),
    maxAheadMs: options.maxExpiresAheadMs,
  });
  if (expiry !== 'ok') return undefined;
  const found = await credentials.findByApiKey(apiKey);
  if (found === undefined) {
    verifySignature(pairs, signature, DECOY_SECRET, options.lenientSignatures);
    return undefined;
  }
  return verifySignature(pairs, signature, found.secretKey, options.lenientSignatures) ? found.caller : undefined;
}

/** The outcome of looking for a session: none (fall through to API keys), a bad key, or a live session. */
export type SessionCheck =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'ok'; readonly session: Session };

function keyMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // Session keys are bearer secrets too: compare without an early exit.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * ApiServlet's session path: a JSESSIONID cookie naming a live session, then the sessionkey checked in
 * the configured places. An unknown JSESSIONID is "no session", as for the servlet; a live session
 * with a wrong key is invalidated.
 */
export async function checkSession(
  cookies: ReadonlyMap<string, string>,
  pairs: readonly ParamPair[],
  sessions: Sessions,
  check: SessionKeyCheck,
): Promise<SessionCheck> {
  const jsessionid = cookies.get('JSESSIONID');
  if (jsessionid === undefined) return { kind: 'none' };
  const session = await sessions.touch(jsessionid.split('.')[0]!);
  if (session === undefined) return { kind: 'none' };
  const fromCookie = cookies.get('sessionkey');
  const fromParam = lookupParam(pairs, 'sessionkey');
  const cookieOk = fromCookie !== undefined && keyMatches(session.key, fromCookie);
  const paramOk = fromParam !== undefined && keyMatches(session.key, fromParam);
  const ok =
    check === 'CookieAndParameter' ? cookieOk && paramOk
      : check === 'ParameterOnly' ? paramOk && (fromCookie === undefined || cookieOk)
        : (fromCookie !== undefined || fromParam !== undefined) && (fromCookie === undefined || cookieOk) &&
          (fromParam === undefined || paramOk);
  if (!ok) {
    await sessions.delete(session.id);
    return { kind: 'invalid' };
  }
  return { kind: 'ok', session };
}

export const loginCommand: SessionCommand = defineSessionCommand({
  name: 'login',
  session: 'login',
  description: 'Logs a user into the CloudStack. A successful login attempt will generate a JSESSIONID cookie value ' +
    'that can be passed in subsequent Query command calls until the "logout" command has been issued or the session has expired.',
  responseName: 'loginresponse',
  params: [
    { name: 'username', type: 'string', required: true, description: 'Username' },
    { name: 'password', type: 'string', required: true, description: 'Password' },
    {
      name: 'domain', type: 'string',
      description: 'Path of the domain that the user belongs to. Example: domain=/com/cloud/internal. If no domain is passed in, the ROOT (/) domain is assumed.',
    },
  ],
});

export const logoutCommand: SessionCommand = defineSessionCommand({
  name: 'logout',
  session: 'logout',
  description: 'Logs out the user',
  responseName: 'logoutresponse',
  params: [],
});

/** CloudStack's login form of a domain path: always starts and ends with `/`; `/` is ROOT. */
export function normaliseLoginDomain(domain: string | undefined): string {
  if (domain === undefined || domain === '') return '/';
  let d = domain;
  if (!d.endsWith('/')) d += '/';
  if (!d.startsWith('/')) d = '/' + d;
  return d;
}

const ACCOUNT_TYPE: Readonly<Record<Role, string>> = { user: '0', admin: '1', domainadmin: '2' };

/**
 * Java's Float.toString of an offset in hours, as ApiServer.loginUser reports `timezoneoffset`:
 * always a decimal point (`0.0`, `5.5`, `-7.0`).
 */
export function formatOffsetHours(hours: number): string {
  return Number.isInteger(hours) ? hours.toFixed(1) : String(hours);
}

/**
 * The offset of `zone` from UTC at `at`, in hours (daylight saving included, as Java's
 * TimeZone.getOffset). An unknown zone counts as UTC, as Java's TimeZone.getTimeZone falls back to GMT.
 */
export function zoneOffsetHours(zone: string, at: Date): number {
  let name: string | undefined;
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(at).find((p) => p.type === 'timeZoneName')?.value;
  } catch {
    return 0;
  }
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name ?? '');
  if (m === null) return 0;
  const hours = Number(m[2]) + Number(m[3]) / 60;
  return m[1] === '-' ? -hours : hours;
}

/** The loginresponse payload: every field of LoginCmdResponse that applies (no 2FA provider here). CloudStack sends them as strings. */
function loginPayload(session: Session, profile: UserProfile, timeoutSeconds: number, now: Date): ResponseObject {
  const c = session.caller;
  // The UI JSON-parses `timezoneoffset` and stores `timezone`; CloudStack sends UTC / 0.0 for a user without a zone.
  const timezone = profile.timezone ?? 'UTC';
  return {
    username: session.username,
    userid: c.userId,
    domainid: c.domainId,
    timeout: String(timeoutSeconds),
    account: c.accountName,
    firstname: profile.firstname,
    lastname: profile.lastname,
    type: ACCOUNT_TYPE[c.role],
    timezone,
    timezoneoffset: formatOffsetHours(zoneOffsetHours(timezone, now)),
    registered: 'false',
    sessionkey: session.key,
    is2faenabled: 'false',
    is2faverified: 'true',
  };
}

export interface LoginOutcome {
  readonly session: Session;
  readonly payload: ResponseObject;
}

/** Checks the password and opens a session; wrong credentials are 531, as in CloudStack. */
export async function login(params: Params, credentials: Credentials, sessions: Sessions, now: Date): Promise<LoginOutcome> {
  const username = getString(params, 'username') ?? '';
  const password = getString(params, 'password') ?? '';
  const domain = normaliseLoginDomain(getString(params, 'domain'));
  const found = await credentials.checkPassword(username, password, domain);
  if (found === undefined) {
    throw new ApiError(ApiErrorCode.ACCOUNT_ERROR,
      `Failed to authenticate user ${username} in domain ${domain}; please provide valid credentials`, { cserrorcode: null });
  }
  const session = await sessions.create(found.caller, username);
  return { session, payload: loginPayload(session, found.profile, sessions.timeoutSeconds, now) };
}

/** DefaultLogoutAPIAuthenticatorCmd's text when the request names no live session. */
export const NO_LOGOUT_SESSION_TEXT = 'Session not found for the logout process.';

/**
 * Ends the session named by the JSESSIONID cookie. Without a live session it is CloudStack's 431: the
 * servlet has nothing to invalidate, and expiring the cookies then would end a login that raced ahead
 * of this logout (the UI fires logout and login together).
 */
export async function logout(cookies: ReadonlyMap<string, string>, sessions: Sessions): Promise<ResponseObject> {
  const jsessionid = cookies.get('JSESSIONID');
  const id = jsessionid?.split('.')[0];
  const live = id === undefined || id === '' ? undefined : await sessions.touch(id);
  if (live === undefined) throw new ApiError(ApiErrorCode.PARAM_ERROR, NO_LOGOUT_SESSION_TEXT);
  await sessions.delete(live.id);
  return { description: 'success' };
}

/** Parses a Cookie header into name → value (first occurrence wins; quotes stripped). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/** Set-Cookie values after a login: the servlet session and CloudStack's sessionkey cookie. */
export function sessionCookies(session: Session): string[] {
  return [
    `JSESSIONID=${session.id}; Path=/client; HttpOnly; SameSite=Lax`,
    `sessionkey=${session.key}; Path=/client; HttpOnly; SameSite=Lax`,
  ];
}

/** Set-Cookie values that clear the session cookies (logout). */
export function clearedSessionCookies(): string[] {
  return ['JSESSIONID=; Path=/client; Max-Age=0; HttpOnly', 'sessionkey=; Path=/client; Max-Age=0; HttpOnly'];
}
