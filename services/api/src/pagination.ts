// Cursor pages over time-ordered ids: the list envelope OpenAI's CursorPage reads.
import { and, asc, desc, gt, lt, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { ListQuery } from './schemas/common.js';

export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface PageQuery {
  where: SQL | undefined;
  orderBy: SQL;
  limit: number;
}

/**
 * The where/order/limit for one page. `after` and `before` may come together (the SDK keeps `before` when it
 * follows `after`): the page is the window between them. With only `before`, the rows nearest to it are read
 * in reverse and turned back (see `toPage`).
 */
export function pageQuery(idColumn: PgColumn, query: ListQuery, scope: SQL | undefined): PageQuery {
  const isAsc = query.order === 'asc';
  const conditions: (SQL | undefined)[] = [scope];
  if (query.after) conditions.push(isAsc ? gt(idColumn, query.after) : lt(idColumn, query.after));
  if (query.before) conditions.push(isAsc ? lt(idColumn, query.before) : gt(idColumn, query.before));
  const readsBackwards = query.before !== undefined && query.after === undefined;
  const ascending = isAsc !== readsBackwards;
  return {
    where: and(...conditions),
    orderBy: ascending ? asc(idColumn) : desc(idColumn),
    limit: query.limit + 1,
  };
}

export function toPage<T extends { id: string }>(rows: T[], query: ListQuery): ListPage<T> {
  const hasMore = rows.length > query.limit;
  const window = rows.slice(0, query.limit);
  const data = query.before !== undefined && query.after === undefined ? window.reverse() : window;
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}
