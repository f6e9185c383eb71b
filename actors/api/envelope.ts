/**
 * What goes inside `<command>response` for each kind of result (reference section 2), shared by the
 * JSON and XML renderers so the two can never disagree on shape.
 */
import { InternalError } from '../../src/errors.js';
import type { ApiErrorBody } from './error-map.js';
import { JSON_CONTENT_TYPE, renderJson } from './render-json.js';
import { XML_CONTENT_TYPE, renderXml } from './render-xml.js';
import type { CommandResult, ResponseObject, ResponseValue } from './types.js';

export type ResponseFormat = 'json' | 'xml';

/** `response=json` (any case) selects JSON; anything else, or nothing, is XML as in CloudStack. */
export function responseFormat(value: string | undefined): ResponseFormat {
  return value !== undefined && value.toLowerCase() === 'json' ? 'json' : 'xml';
}

export interface PayloadOptions {
  /** The command's object name, used when a list or object result does not name its own. */
  readonly objectName?: string | undefined;
  /** Old servers sent `"success":"true"`; a few clients compare with the string. Default false (boolean). */
  readonly successAsString?: boolean;
}

function objectNameOf(given: string | undefined, options: PayloadOptions): string {
  const name = given ?? options.objectName;
  if (name === undefined || name === '') {
    throw new InternalError('a list or object result needs an objectName (in the result or the command definition)');
  }
  return name;
}

/**
 * The payload for a result:
 * - list: `{count, <obj>: [...]}`; `{}` when empty (no count, no array); `{count}` for a page past the end;
 * - object: `{<obj>: {...}}`; success: `{success: true, displaytext?}`;
 * - async: `{jobid}` or `{id, jobid}`; raw: the body as given.
 */
export function resultObjectName(result: { objectName?: string | undefined }, options: PayloadOptions): string {
  return objectNameOf(result.objectName, options);
}

export function resultPayload(result: CommandResult, options: PayloadOptions = {}): ResponseObject {
  switch (result.kind) {
    case 'list': {
      const name = objectNameOf(result.objectName, options);
      const out: Record<string, ResponseValue> = {};
      if (result.count > 0) out['count'] = result.count;
      if (result.items.length > 0) out[name] = result.items;
      return out;
    }
    case 'object':
      return { [objectNameOf(result.objectName, options)]: result.object };
    case 'success': {
      const success = options.successAsString === true ? 'true' : true;
      return result.displaytext === undefined ? { success } : { success, displaytext: result.displaytext };
    }
    case 'async':
      return result.id === undefined ? { jobid: result.jobid } : { id: result.id, jobid: result.jobid };
    case 'raw':
      return result.body;
    case 'stream':
      throw new InternalError('a streamed list is rendered with renderStream, not as one payload');
  }
}

/** `{uuidList, errorcode, cserrorcode?, errortext}` in CloudStack's field order. */
export function errorPayload(body: ApiErrorBody): ResponseObject {
  return { ...body, uuidList: body.uuidList.map((u) => ({ ...u })) };
}

export interface RenderedBody {
  readonly contentType: string;
  readonly body: string;
}

/** Renders `{<responseName>: payload}` in the chosen format. */
export function renderEnvelope(
  format: ResponseFormat,
  responseName: string,
  payload: ResponseObject,
  cloudStackVersion: string,
): RenderedBody {
  return format === 'json'
    ? { contentType: JSON_CONTENT_TYPE, body: renderJson(responseName, payload) }
    : { contentType: XML_CONTENT_TYPE, body: renderXml(responseName, payload, cloudStackVersion) };
}
