/**
 * One API request, from parameters to a rendered reply, with no HTTP in it: login/logout, session or
 * API-key authentication, role check, parameter unpacking and coercion, the handler, and rendering of
 * the result or of whatever went wrong. The HTTP server feeds it and writes what it returns.
 */
import type { Clock } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import {
  authenticateApiKey, checkSession, clearedSessionCookies, login, logout, sessionCookies, type AuthOptions,
} from './auth.js';
import { roleAllows, type CommandDefinition, type CommandTable, type HandledCommand, type SessionCommand } from './command-table.js';
import { ApiError, ApiErrorCode, mapError, UNAUTHORIZED_TEXT } from './error-map.js';
import { errorPayload, renderEnvelope, responseFormat, resultObjectName, resultPayload, type ResponseFormat } from './envelope.js';
import { JSON_CONTENT_TYPE } from './render-json.js';
import { renderStream } from './render-stream.js';
import { XML_CONTENT_TYPE } from './render-xml.js';
import { checkControlCharacters, coerceParams, lookupParam, resolvePage, shorten, unpackParams } from './params.js';
import type { Sessions } from './sessions.js';
import type { ParamPair } from './signature.js';
import type { Caller, Credentials, Params, ResponseObject } from './types.js';

export interface ApiRequest {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Query and form parameters, merged (see mergeParams), names as received. */
  readonly pairs: readonly ParamPair[];
  readonly cookies: ReadonlyMap<string, string>;
  readonly requestId: string;
}

export interface ApiReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /**
   * A streamed answer (pagesize=-1): written piece by piece instead of `body` (which is then empty).
   * A piece that fails to come means the answer is incomplete: the writer cuts the connection.
   */
  readonly stream?: AsyncIterable<string>;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
}

export interface DispatcherOptions {
  readonly table: CommandTable;
  readonly credentials: Credentials;
  readonly clock: Clock;
  readonly sessions: Sessions;
  readonly auth: AuthOptions;
  /** default.page.size: the default and maximum rows of a paged list. */
  readonly maxPageSize: number;
  /** Reported in XML's `cloud-stack-version` attribute. */
  readonly cloudStackVersion: string;
  readonly successAsString: boolean;
  readonly logger: Logger;
}

export interface Dispatcher {
  dispatch(req: ApiRequest): Promise<ApiReply>;
  /** Renders an error met before dispatch (e.g. an oversized body) for the command the request names. */
  reject(pairs: readonly ParamPair[], err: ApiError): ApiReply;
  /** The command's own spelling when the table has it (metrics labels), else undefined. */
  commandName(name: string): string | undefined;
}

const ERROR_RESPONSE = 'errorresponse';
/** Longest X-Description header; the full text is in the body. */
const MAX_DESCRIPTION = 512;

function unauthorized(): ApiError {
  return new ApiError(ApiErrorCode.UNAUTHORIZED, UNAUTHORIZED_TEXT, { cserrorcode: null });
}

/** The command's name as CloudStack's messages print it: its response name without `response`. */
function messageName(def: CommandDefinition): string {
  return def.responseName.endsWith('response') ? def.responseName.slice(0, -'response'.length) : def.responseName;
}

function parseParams(def: CommandDefinition, pairs: readonly ParamPair[]): Params {
  const unpacked = unpackParams(pairs);
  checkControlCharacters(unpacked);
  return coerceParams(messageName(def), def.params, unpacked);
}

/** Header values must be printable ASCII; the body carries the exact text. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_DESCRIPTION);
}

/** The request pipeline; one per server. */
class ApiDispatcher implements Dispatcher {
  constructor(private readonly o: DispatcherOptions) {}

  async dispatch(req: ApiRequest): Promise<ApiReply> {
    const format = responseFormat(lookupParam(req.pairs, 'response'));
    const name = lookupParam(req.pairs, 'command');
    const def = name === undefined ? undefined : this.o.table.get(name);
    let caller: Caller | undefined;
    try {
      if (def?.session !== undefined) return await this.sessionCommand(def, req, format);
      caller = await this.authenticate(req, name, def);
      return await this.run(def as HandledCommand, caller, req, format);
    } catch (err) {
      return this.renderError(err, def, format, caller, req.requestId);
    }
  }

  commandName(name: string): string | undefined {
    return this.o.table.get(name)?.name;
  }

  reject(pairs: readonly ParamPair[], err: ApiError): ApiReply {
    const format = responseFormat(lookupParam(pairs, 'response'));
    const name = lookupParam(pairs, 'command');
    return this.renderError(err, name === undefined ? undefined : this.o.table.get(name), format, undefined, '');
  }

  private render(status: number, format: ResponseFormat, name: string, payload: ResponseObject,
    headers: Record<string, string | readonly string[]> = {}): ApiReply {
    const { contentType, body } = renderEnvelope(format, name, payload, this.o.cloudStackVersion);
    return { status, contentType, body, headers };
  }

  private renderError(err: unknown, def: CommandDefinition | undefined, format: ResponseFormat,
    caller: Caller | undefined, requestId: string): ApiReply {
    const mapped = mapError(err, { callerIsAdmin: caller?.role === 'admin' });
    if (mapped.unexpected) {
      this.o.logger.error('api: command failed unexpectedly', { requestId, command: def?.name, error: err instanceof Error ? err.stack : String(err) });
    }
    const b = mapped.body;
    // UNSUPPORTED_ACTION errors, and errors for commands nobody knows, answer as `errorresponse`.
    const name = def === undefined || b.errorcode === ApiErrorCode.UNSUPPORTED_ACTION_ERROR ? ERROR_RESPONSE : def.responseName;
    return this.render(b.errorcode, format, name, errorPayload(b), { 'X-Description': headerSafe(b.errortext) });
  }

  private async authenticate(req: ApiRequest, name: string | undefined, def: CommandDefinition | undefined): Promise<Caller | undefined> {
    const o = this.o;
    const s = await checkSession(req.cookies, req.pairs, o.sessions, o.auth.sessionKeyCheck);
    if (s.kind === 'invalid') throw new ApiError(ApiErrorCode.UNAUTHORIZED, 'unable to verify user credentials', { cserrorcode: null });
    let caller: Caller | undefined;
    if (s.kind === 'ok') {
      if (name === undefined) throw new ApiError(ApiErrorCode.BAD_REQUEST, 'no command specified', { cserrorcode: null });
      if (def === undefined) throw new ApiError(ApiErrorCode.UNSUPPORTED_ACTION_ERROR, `Unknown API command: ${shorten(name)}`);
      caller = s.session.caller;
    } else {
      // With API keys an unknown command is refused before anything else, with the plain 401.
      if (def === undefined) throw unauthorized();
      if (def.access !== 'anonymous') {
        caller = await authenticateApiKey(req.pairs, o.credentials, o.clock, o.auth);
        if (caller === undefined) throw unauthorized();
      }
    }
    if (!roleAllows(def.access, caller?.role)) {
      throw new ApiError(ApiErrorCode.UNAUTHORIZED, `The given command '${def.name}' either does not exist, is not available for user.`);
    }
    return caller;
  }

  private async run(def: HandledCommand, caller: Caller | undefined, req: ApiRequest, format: ResponseFormat): Promise<ApiReply> {
    const params = parseParams(def, req.pairs);
    const page = def.paged ? resolvePage(params, this.o.maxPageSize) : undefined;
    const base = { caller, params, clock: this.o.clock, requestId: req.requestId };
    const result = await def.invoke(page === undefined ? base : { ...base, page });
    if (result.kind === 'stream') {
      const objectName = resultObjectName(result, { objectName: def.objectName });
      return { status: 200, contentType: format === 'json' ? JSON_CONTENT_TYPE : XML_CONTENT_TYPE, body: '', headers: {},
        stream: renderStream(format, def.responseName, objectName, result, this.o.cloudStackVersion) };
    }
    const payload = resultPayload(result, { objectName: def.objectName, successAsString: this.o.successAsString });
    return this.render(200, format, def.responseName, payload);
  }

  private async sessionCommand(def: SessionCommand, req: ApiRequest, format: ResponseFormat): Promise<ApiReply> {
    const o = this.o;
    if (def.session === 'logout') {
      return this.render(200, format, def.responseName, await logout(req.cookies, o.sessions), { 'Set-Cookie': clearedSessionCookies() });
    }
    if (req.method !== 'POST') throw new ApiError(ApiErrorCode.METHOD_NOT_ALLOWED, 'Please use HTTP POST to authenticate using this API');
    const params = parseParams(def, req.pairs);
    // A login replaces whatever session the client had, as the servlet invalidates it first.
    const previous = req.cookies.get('JSESSIONID');
    if (previous !== undefined) await o.sessions.delete(previous.split('.')[0]!);
    const outcome = await login(params, o.credentials, o.sessions, new Date(o.clock.now()));
    return this.render(200, format, def.responseName, outcome.payload, { 'Set-Cookie': sessionCookies(outcome.session) });
  }
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new ApiDispatcher(options);
}
