/**
 * OS categories (listOsCategories, and listOsTypes' `oscategoryid`): the categories of the OS types the
 * cloud knows. A category is named by its OS types; its id is derived from its name (a name-based
 * UUID), so it is the same on every API instance and after every restart.
 */
import { createHash } from 'node:crypto';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getString, unknownUuidError } from '../params.js';
import type { ResponseObject } from '../types.js';
import { listParams, listed, type CommandDeps } from './common.js';

/** The id of the OS category named `name` (RFC 4122 version 5 form). */
export function osCategoryId(name: string): string {
  const h = createHash('sha1').update(`cloudstackd-os-category:${name}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function categories(deps: CommandDeps): Promise<string[]> {
  const types = await deps.data.templates.allOsTypes({});
  return [...new Set(types.map((t) => t.oscategoryname))].sort();
}

/** The category name of an id, or CloudStack's 431 when no category has it. */
async function categoryName(deps: CommandDeps, command: string, id: string): Promise<string> {
  const found = (await categories(deps)).find((n) => osCategoryId(n) === id);
  if (found === undefined) throw unknownUuidError(command, 'oscategoryid', id);
  return found;
}

const withCategoryId = (t: { oscategoryname: string }): ResponseObject => ({ ...t, oscategoryid: osCategoryId(t.oscategoryname) });

export function osCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'listOsCategories',
      description: 'Lists all supported OS categories for this cloud.',
      isAsync: false,
      access: 'user',
      objectName: 'oscategory',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'list Os category by id' },
        { name: 'name', type: 'string', description: 'list os category by name', since: '3.0.1' },
      ],
      response: [
        { name: 'id', description: 'the ID of the OS category', type: 'string' },
        { name: 'name', description: 'the name of the OS category', type: 'string' },
      ],
      async handler({ params, page }) {
        const id = getString(params, 'id');
        const name = getString(params, 'name')?.toLowerCase();
        const keyword = getString(params, 'keyword')?.toLowerCase();
        const all = await categories(deps);
        if (id !== undefined && !all.some((n) => osCategoryId(n) === id)) throw unknownUuidError('listoscategories', 'id', id);
        const matches = all.filter((n) => (id === undefined || osCategoryId(n) === id) && (name === undefined || n.toLowerCase() === name) &&
          (keyword === undefined || n.toLowerCase().includes(keyword)));
        const start = page?.startIndex ?? 0;
        const items = page?.pageSize === undefined ? matches.slice(start) : matches.slice(start, start + page.pageSize);
        return { kind: 'list', count: matches.length, items: items.map((n) => ({ id: osCategoryId(n), name: n })) };
      },
    }),
    defineCommand({
      name: 'listOsTypes',
      description: 'Lists all supported OS types for this cloud.',
      isAsync: false,
      access: 'user',
      objectName: 'ostype',
      paged: true,
      params: [
        { name: 'id', type: 'uuid', description: 'list by Os type Id' },
        { name: 'oscategoryid', type: 'uuid', description: 'list by Os Category id' },
        { name: 'description', type: 'string', description: 'list os by description', since: '3.0.1' },
      ],
      async handler(ctx) {
        const q = listParams(ctx, ['id', 'description']);
        const categoryid = getString(ctx.params, 'oscategoryid');
        if (categoryid !== undefined) (q as Record<string, unknown>)['oscategoryname'] = await categoryName(deps, 'listostypes', categoryid);
        return listed(ctx, q, {
          page: (p) => deps.data.templates.listOsTypes(p), scan: (p, w) => deps.data.templates.scanOsTypes(p, w),
        }, withCategoryId);
      },
    }),
  ];
}
