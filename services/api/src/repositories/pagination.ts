// Cursor pages over time-ordered ids: the list envelope OpenAI's CursorPage reads.

import type { Db, schema } from '@threadwork/shared';
import type { InferSelectModel } from 'drizzle-orm';
import { and, asc, desc, gt, lt, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { ListQuery } from '../schemas/common.js';

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

type ListedTable =
  | typeof schema.assistants
  | typeof schema.messages
  | typeof schema.runs
  | typeof schema.runSteps;

/** One page of a table's rows within `scope`, as wire objects in the list envelope. */
export async function listRows<TTable extends ListedTable, TObject extends { id: string }>(
  db: Db,
  table: TTable,
  query: ListQuery,
  scope: SQL | undefined,
  toObject: (row: InferSelectModel<TTable>) => TObject,
): Promise<ListPage<TObject>> {
  const page = pageQuery(table.id, query, scope);
  const rows = (await db
    .select()
    .from(table as ListedTable)
    .where(page.where)
    .orderBy(page.orderBy)
    .limit(page.limit)) as InferSelectModel<TTable>[];
  return toPage(rows.map(toObject), query);
}
