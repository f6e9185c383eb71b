/**
 * The types that command handlers and the HTTP layer share. A handler sees none of HTTP: it gets the
 * authenticated caller, the typed parameters, the clock and a request id, and returns a CommandResult
 * that the renderers turn into CloudStack's `<command>response` envelope (JSON or XML).
 */
import type { Clock } from '../../src/clock.js';
import type { Caller as DataCaller, CallerRole } from '../data/protocol.js';

/** CloudStack's three account types: root admin (1), domain admin (2), user (0). */
export type Role = CallerRole;

/** Who may call a command: a minimum role, or anyone (`anonymous`, e.g. login). */
export type Access = Role | 'anonymous';

/** The authenticated user behind a request: the data service's caller identity, and the account's name. */
export interface Caller extends Readonly<DataCaller> {
  readonly accountName: string;
}

/**
 * Where the API looks up keys and passwords (the data component provides the real one). Both return
 * undefined for "no such user / wrong password / disabled"; the API answers every such case alike.
 */
export interface Credentials {
  findByApiKey(apiKey: string): Promise<{ secretKey: string; caller: Caller } | undefined>;
  /** `domainPath` is CloudStack's login form: `/` for ROOT, `/child/` for ROOT/child. */
  checkPassword(username: string, password: string, domainPath: string): Promise<LoginIdentity | undefined>;
}

/** The user's own settings that loginresponse reports (LoginCmdResponse's firstname, lastname, timezone). */
export interface UserProfile {
  readonly firstname?: string | undefined;
  readonly lastname?: string | undefined;
  /** An IANA zone name (CloudStack keeps Java's zone ids, which are the same names); none means UTC. */
  readonly timezone?: string | undefined;
}

/** Who a password login found. */
export interface LoginIdentity {
  readonly caller: Caller;
  readonly profile: UserProfile;
}

/** Parameter types, as CloudStack's listApis spells them. */
export type ParamType = 'string' | 'uuid' | 'integer' | 'long' | 'boolean' | 'date' | 'list' | 'map';

/** Element type of a `list` parameter (a comma-separated value). */
export type ListItemType = 'string' | 'uuid' | 'integer' | 'long';

export interface ParamDef {
  /** Lower-case name: request names are matched case-insensitively. */
  readonly name: string;
  readonly type: ParamType;
  readonly required?: boolean;
  readonly description: string;
  /** Maximum length of a `string` value in characters. Default 255, CloudStack's @Parameter default. */
  readonly length?: number;
  /** Element type of a `list` parameter. Default `string`. */
  readonly collectionType?: ListItemType;
  readonly since?: string;
}

/** One entry of a map parameter: `tags[0].key=a&tags[0].value=b` gives `{ key: 'a', value: 'b' }`. */
export type MapEntry = Readonly<Record<string, string>>;

/** A coerced parameter value: string/uuid → string, integer/long → number, date → Date, list, map. */
export type ParamValue = string | number | boolean | Date | readonly string[] | readonly number[] | readonly MapEntry[];

/** The declared parameters present in a request, by lower-case name, already coerced and validated. */
export type Params = Readonly<Record<string, ParamValue | undefined>>;

/** Which rows of a paged list to return (CloudStack's page/pagesize resolved against default.page.size). */
export interface PageWindow {
  /** Index of the first row, 0-based. */
  readonly startIndex: number;
  /** Rows per page; undefined when the caller asked for everything (pagesize=-1). */
  readonly pageSize: number | undefined;
}

export interface HandlerContext<C extends Caller | undefined = Caller> {
  readonly caller: C;
  readonly params: Params;
  readonly clock: Clock;
  /** Unique per HTTP request; use it to correlate logs and as an idempotency key for job submission. */
  readonly requestId: string;
  /** Present for commands declared `paged`. */
  readonly page?: PageWindow;
}

/** A response object: JSON-like values; null and undefined fields are omitted from the output. */
export type ResponseValue =
  | string
  | number
  | boolean
  | Date
  | null
  | undefined
  | ResponseObject
  | readonly ResponseValue[];

export interface ResponseObject {
  readonly [field: string]: ResponseValue;
}

/** `{"count":N,"<objectName>":[...]}`, or `{}` when there is nothing. `count` is the total across pages. */
export interface ListResult {
  readonly kind: 'list';
  /** Defaults to the command's objectName. */
  readonly objectName?: string;
  readonly items: readonly ResponseObject[];
  readonly count: number;
}

/**
 * A list answered in chunks (pagesize=-1: every match): the same envelope as ListResult, written to the
 * response chunk by chunk, so that 100,000 rows are never held (or rendered) at once. `first` was read
 * before the reply began, so that a failing read still gets an error reply; `rest` yields the others.
 */
export interface StreamedListResult {
  readonly kind: 'stream';
  readonly objectName?: string;
  /** Matches when the first chunk was read (CloudStack's count, written before the rows). */
  readonly count: number;
  readonly first: readonly ResponseObject[];
  readonly rest: AsyncIterable<readonly ResponseObject[]>;
}

/** `{"<objectName>":{...}}`. */
export interface ObjectResult {
  readonly kind: 'object';
  /** Defaults to the command's objectName. */
  readonly objectName?: string;
  readonly object: ResponseObject;
}

/** `{"success":true}` plus `displaytext` when given. */
export interface SuccessResult {
  readonly kind: 'success';
  readonly displaytext?: string;
}

/** An async command's immediate reply: `{"jobid":...}`, or `{"id":...,"jobid":...}` for create commands. */
export interface AsyncResult {
  readonly kind: 'async';
  readonly jobid: string;
  readonly id?: string;
}

/** The response body as given (inside `<command>response`), e.g. queryAsyncJobResult. */
export interface RawResult {
  readonly kind: 'raw';
  readonly body: ResponseObject;
}

export type CommandResult = ListResult | StreamedListResult | ObjectResult | SuccessResult | AsyncResult | RawResult;

/** A response field, for listApis' `response` array. */
export interface ResponseFieldDef {
  readonly name: string;
  readonly description: string;
  readonly type?: string;
}
