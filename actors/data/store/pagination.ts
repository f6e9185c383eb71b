import { InvalidParameterError, LimitExceededError } from '../../../src/errors.js';

/**
 * Two different reads, so that "one page" can never be mistaken for "everything":
 * - `list` answers ONE page. With `page`/`pagesize` it is that page; without them the caller says
 *   "every match fits in one page", and a list with more matches than DEFAULT_PAGE_SIZE is refused
 *   (LimitExceededError naming `scan`), never cut short. `pagesize: -1` is refused too: the data
 *   service has no "unpaged" page.
 * - `scan` reads everything, chunk by chunk, in a stable order (keyset: rows added or removed between
 *   chunks never make another row skipped or repeated). The data client's `all*` methods loop over it.
 */

/**
 * CloudStack's `default.page.size`: both the default page length and the largest page a request may
 * ask for (reference section 3).
 */
export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 500;

/**
 * Rows per scan chunk when the caller names none. One chunk is one data-service reply, which must fit
 * a transport frame (1 MiB on ws): a VM with a NIC and tags encodes to about 1.5 KiB, so 250 VMs stay
 * well under half a frame, and the data actor is never busy with one read for more than a few ms.
 */
export const DEFAULT_SCAN_CHUNK = 250;
/** The largest chunk a caller may ask for (the same frame budget, for narrow rows such as zones). */
export const MAX_SCAN_CHUNK = 1_000;

export interface PageParams {
  /** 1-based page number. */
  page?: number | undefined;
  /**
   * Rows per page, 1..MAX_PAGE_SIZE. Omitted: every match must fit one page (more is an error that
   * names `scan`). -1 ("everything") is refused: read everything with `scan`.
   */
  pagesize?: number | undefined;
}

export interface PageWindow {
  limit: number;
  offset: number;
  /** The caller gave no window: more matches than `limit` is an error, not a cut. */
  implicit: boolean;
}

/** A list answer: `count` is the number of matches across all pages, `items` this page. */
export interface ListResult<T> {
  count: number;
  items: T[];
}

/**
 * Where a scan stopped: the sort key of the last row returned (opaque to callers; it is only ever
 * handed back as `after`).
 */
export type ScanCursor = readonly (string | number)[];

export interface ScanWindow {
  /** Continue after this row (the `next` of the previous chunk). Absent: from the start. */
  after?: ScanCursor | undefined;
  /** Rows in this chunk, 1..MAX_SCAN_CHUNK. Default DEFAULT_SCAN_CHUNK. */
  limit?: number | undefined;
  /** Also count every match (first chunk only: the count a streamed list answer starts with). */
  count?: boolean | undefined;
}

/** One chunk of a scan. `next` is null once there is nothing more. */
export interface ScanChunk<T> {
  items: T[];
  next: ScanCursor | null;
  /** Present when the window asked for it. */
  count?: number;
}

export function pageWindow(p: PageParams, maxPageSize = MAX_PAGE_SIZE): PageWindow {
  const page = p.page ?? 1;
  if (!Number.isInteger(page) || page < 1) {
    throw new InvalidParameterError(`page must be a positive integer, got ${p.page}`);
  }
  if (p.pagesize === -1) {
    throw new InvalidParameterError('pagesize -1 (every row) is not a page: read every row with the scan operation ' +
      '(the data client\'s all* methods), or give a page size');
  }
  const size = p.pagesize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new InvalidParameterError(`pagesize must be a positive integer, got ${p.pagesize}`);
  }
  if (size > maxPageSize) {
    throw new InvalidParameterError(`Page size can't exceed max allowed page size value: ${maxPageSize}`);
  }
  return { limit: size, offset: (page - 1) * size, implicit: p.pagesize === undefined && p.page === undefined };
}

/** The refusal of a list without a window whose matches do not fit one page. */
export function overOnePage(count: number, limit: number): LimitExceededError {
  return new LimitExceededError(`${count} rows match but a list without page/pagesize returns at most ${limit}: ` +
    'read them all with the scan operation (the data client\'s all* methods), or ask for one page explicitly');
}

export function scanLimit(w: ScanWindow): number {
  const limit = w.limit ?? DEFAULT_SCAN_CHUNK;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SCAN_CHUNK) {
    throw new InvalidParameterError(`scan limit must be an integer from 1 to ${MAX_SCAN_CHUNK}, got ${w.limit}`);
  }
  return limit;
}

/** Checks a cursor handed back by a caller against the length of the list's sort key. */
export function checkCursor(after: unknown, keyLength: number): ScanCursor {
  const ok = Array.isArray(after) && after.length === keyLength &&
    after.every((v) => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 1024));
  if (!ok) throw new InvalidParameterError('scan cursor is not one this list handed out: pass back the `next` of the previous chunk unchanged');
  return after as ScanCursor;
}
