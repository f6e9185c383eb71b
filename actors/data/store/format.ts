/**
 * Value conventions of CloudStack responses (reference section 2.6): dates as yyyy-MM-dd'T'HH:mm:ssZ in
 * UTC, real booleans and numbers, and null fields omitted entirely.
 */

/** Formats epoch milliseconds as CloudStack does, e.g. `2024-05-01T10:20:30+0000`. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + '+0000';
}

export function formatOptionalDate(ms: number | null | undefined): string | undefined {
  return ms === null || ms === undefined ? undefined : formatDate(ms);
}

/** SQLite stores booleans as 0/1. */
export function bool(v: number | null | undefined): boolean {
  return v !== null && v !== undefined && v !== 0;
}

/** Copies `obj` without its null and undefined fields (CloudStack omits null fields). */
export function compact<T extends object>(obj: { [K in keyof T]: T[K] | null | undefined }): T {
  // for-in without intermediate arrays: this runs for every row of every list page.
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in src) {
    const v = src[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out as T;
}

/** JSON column to value; a malformed value reads as undefined instead of failing the whole list. */
export function parseJson<T>(text: string | null | undefined): T | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The domain path as CloudStack shows it ('ROOT', 'ROOT/D1/D11') from the stored form ('/', '/D1/D11/'). */
export function displayDomainPath(path: string): string {
  return path === '/' ? 'ROOT' : 'ROOT' + path.slice(0, -1);
}

/** Escapes LIKE wildcards so a keyword matches literally (used with ESCAPE '\'). */
export function likeContains(keyword: string): string {
  return '%' + keyword.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}
