/**
 * A streamed list answer (pagesize=-1) written piece by piece in exactly the shape `resultPayload`
 * and the renderers give a whole list: `count` first when non-zero, then the objects, no array when
 * there is none. One piece per chunk of rows, so the answer is never held whole in memory.
 */
import type { ResponseFormat } from './envelope.js';
import { jsonValue } from './render-json.js';
import { xmlClose, xmlField, xmlOpen } from './render-xml.js';
import type { ResponseObject, StreamedListResult } from './types.js';

export async function* renderStream(format: ResponseFormat, responseName: string, objectName: string,
  result: StreamedListResult, cloudStackVersion: string): AsyncGenerator<string> {
  const json = format === 'json';
  const count = result.count > 0 ? result.count : undefined;
  yield json ? `{${JSON.stringify(responseName)}:{${count === undefined ? '' : `"count":${count}`}`
    : xmlOpen(responseName, cloudStackVersion) + (count === undefined ? '' : `<count>${count}</count>`);
  let written = 0;
  const piece = (items: readonly ResponseObject[]): string => {
    if (!json) return items.map((item) => xmlField(objectName, item)).join('');
    const body = items.map(jsonValue).join(',');
    const open = written === 0 ? `${count === undefined ? '' : ','}${JSON.stringify(objectName)}:[` : ',';
    return open + body;
  };
  if (result.first.length > 0) { yield piece(result.first); written += result.first.length; }
  for await (const items of result.rest) {
    if (items.length > 0) { yield piece(items); written += items.length; }
  }
  yield json ? `${written > 0 ? ']' : ''}}}` : xmlClose(responseName);
}
