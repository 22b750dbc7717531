import { schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { listQuerySchema } from '../schemas/common.js';
import { pageQuery, toPage } from './pagination.js';

const dialect = new PgDialect();
const { messages } = schema;

function sqlOf(query: Record<string, unknown>) {
  const parsed = listQuerySchema.parse(query);
  const page = pageQuery(messages.id, parsed, eq(messages.threadId, 'thread_a'));
  return {
    where: page.where ? dialect.sqlToQuery(page.where) : null,
    orderBy: dialect.sqlToQuery(page.orderBy).sql,
    limit: page.limit,
  };
}

const rows = (ids: string[]) => ids.map((id) => ({ id }));

describe('pageQuery', () => {
  it('reads newest first by default, one row more than the limit to learn has_more', () => {
    const query = sqlOf({});
    expect(query.orderBy).toBe('"messages"."id" desc');
    expect(query.limit).toBe(21);
    expect(query.where?.params).toEqual(['thread_a']);
  });

  it('reads after the cursor in the chosen order', () => {
    expect(sqlOf({ order: 'asc', after: 'msg_b' }).where?.sql).toContain('"messages"."id" > $2');
    expect(sqlOf({ order: 'desc', after: 'msg_b' }).where?.sql).toContain('"messages"."id" < $2');
  });

  it('reads the rows nearest to `before` backwards when it comes alone', () => {
    const query = sqlOf({ order: 'asc', before: 'msg_m', limit: '3' });
    expect(query.where?.sql).toContain('"messages"."id" < $2');
    expect(query.orderBy).toBe('"messages"."id" desc');
  });

  it('serves the window between after and before, in order, when both come (the SDK keeps before)', () => {
    const query = sqlOf({ order: 'asc', after: 'msg_b', before: 'msg_m' });
    expect(query.where?.params).toEqual(['thread_a', 'msg_b', 'msg_m']);
    expect(query.where?.sql).toContain('"messages"."id" > $2');
    expect(query.where?.sql).toContain('"messages"."id" < $3');
    expect(query.orderBy).toBe('"messages"."id" asc');
  });
});

describe('toPage', () => {
  it('answers the list envelope with has_more from the extra row', () => {
    const query = listQuerySchema.parse({ limit: '2' });
    expect(toPage(rows(['c', 'b', 'a']), query)).toEqual({
      object: 'list',
      data: rows(['c', 'b']),
      first_id: 'c',
      last_id: 'b',
      has_more: true,
    });
    expect(toPage(rows(['b']), query)).toMatchObject({ has_more: false, first_id: 'b', last_id: 'b' });
  });

  it('answers null ids for an empty page', () => {
    expect(toPage([], listQuerySchema.parse({}))).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
  });

  it('turns rows read backwards for `before` into the requested order', () => {
    const query = listQuerySchema.parse({ order: 'asc', before: 'm', limit: '2' });
    expect(toPage(rows(['l', 'k', 'j']), query)).toMatchObject({ data: rows(['k', 'l']), has_more: true });
  });
});
