import { InvalidParameterError } from '../../../src/errors.js';

/**
 * CloudStack's `default.page.size`: both the default page length and the largest page a request may
 * ask for (reference section 3). Unpaged requests (and pagesize=-1) are capped at it too, so that no
 * list answer grows without bound.
 */
export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 500;

export interface PageParams {
  /** 1-based page number. */
  page?: number | undefined;
  /** Rows per page, 1..MAX_PAGE_SIZE; -1 means "unpaged" (still capped at MAX_PAGE_SIZE). */
  pagesize?: number | undefined;
}

export interface PageWindow {
  limit: number;
  offset: number;
}

/** A list answer: `count` is the number of matches across all pages, `items` this page. */
export interface ListResult<T> {
  count: number;
  items: T[];
}

export function pageWindow(p: PageParams, maxPageSize = MAX_PAGE_SIZE): PageWindow {
  const page = p.page ?? 1;
  let size = p.pagesize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(page) || page < 1) {
    throw new InvalidParameterError(`page must be a positive integer, got ${p.page}`);
  }
  if (size === -1) size = maxPageSize;
  if (!Number.isInteger(size) || size < 1) {
    throw new InvalidParameterError(`pagesize must be a positive integer or -1, got ${p.pagesize}`);
  }
  if (size > maxPageSize) {
    throw new InvalidParameterError(`Page size can't exceed max allowed page size value: ${maxPageSize}`);
  }
  return { limit: size, offset: (page - 1) * size };
}
