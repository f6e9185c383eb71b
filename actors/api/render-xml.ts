/**
 * XML rendering, CloudStack's default when `response` is absent (ApiResponseSerializer.toXMLSerializedString):
 * `<?xml version="1.0" encoding="UTF-8"?><name cloud-stack-version="x">fields</name>`. A field is
 * `<field>value</field>`; an array repeats the element once per entry (`<zone>..</zone><zone>..</zone>`),
 * so an empty array prints nothing; a nested object is `<field>..fields..</field>`. Text is escaped
 * (`" ' < > &`) and characters XML 1.0 cannot carry are replaced with U+FFFD, so any value gives a
 * well-formed document.
 */
import { formatCloudStackDate } from './dates.js';
import type { ResponseObject, ResponseValue } from './types.js';

export const XML_CONTENT_TYPE = 'text/xml; charset=UTF-8';

/** Deepest nesting rendered; response objects are shallow trees, so deeper means a cycle or a bug. */
const MAX_DEPTH = 32;

const ESCAPES: Readonly<Record<string, string>> = { '"': '&quot;', "'": '&apos;', '<': '&lt;', '>': '&gt;', '&': '&amp;' };
// Characters outside XML 1.0's Char production, including lone surrogates.
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXmlText(text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD').replace(/["'<>&]/g, (ch) => ESCAPES[ch]!);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Field names come from code, but map-valued fields can carry user keys: make them valid element names. */
export function xmlName(name: string): string {
  if (NAME.test(name)) return name;
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function scalarText(value: string | number | boolean | Date): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : formatCloudStackDate(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  return escapeXmlText(String(value));
}

function renderField(out: string[], name: string, value: ResponseValue, depth: number): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value as readonly ResponseValue[]) renderField(out, name, item, depth);
    return;
  }
  const tag = xmlName(name);
  if (typeof value === 'object' && !(value instanceof Date)) {
    out.push(`<${tag}>`);
    renderFields(out, value as ResponseObject, depth + 1);
    out.push(`</${tag}>`);
    return;
  }
  const text = scalarText(value as string | number | boolean | Date);
  if (text !== undefined) out.push(`<${tag}>${text}</${tag}>`);
}

function renderFields(out: string[], obj: ResponseObject, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error(`response nested deeper than ${MAX_DEPTH} levels`);
  for (const [name, value] of Object.entries(obj)) renderField(out, name, value, depth);
}

/** One field (`<name>..</name>`, repeated for an array) as XML text. */
export function xmlField(name: string, value: ResponseValue): string {
  const out: string[] = [];
  renderField(out, name, value, 0);
  return out.join('');
}

/** The document's opening: declaration and root element. */
export function xmlOpen(responseName: string, cloudStackVersion: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><${xmlName(responseName)} cloud-stack-version="${escapeXmlText(cloudStackVersion)}">`;
}

export function xmlClose(responseName: string): string {
  return `</${xmlName(responseName)}>`;
}

/** The whole XML document for `<responseName>` with `payload`'s fields inside. */
export function renderXml(responseName: string, payload: ResponseObject, cloudStackVersion: string): string {
  const root = xmlName(responseName);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<${root} cloud-stack-version="${escapeXmlText(cloudStackVersion)}">`,
  ];
  renderFields(out, payload, 0);
  out.push(`</${root}>`);
  return out.join('');
}
