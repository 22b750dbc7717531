// OpenAI's attribute filters (comparison and compound) translated to a SQL condition on a jsonb attributes column.
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';

type AttributeValue = string | number | boolean;

/**
 * A search's `filters` as the API validated them: a comparison of one attribute with a value (a list for `in` and
 * `nin`), or `and` / `or` of filters.
 */
export type ChunkFilter =
  | {
      type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
      key: string;
      value: AttributeValue | AttributeValue[];
    }
  | { type: 'and' | 'or'; filters: ChunkFilter[] };

const ordering = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function listOf(value: AttributeValue | AttributeValue[]): AttributeValue[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * The condition `filter` puts on a jsonb attributes column. Keys and values go as parameters, never into the text.
 * Values compare as JSON: a number with a number, a string with a string; an ordering comparison between different
 * types (or with a list) is false. A missing attribute satisfies only `ne` and `nin`.
 */
export function attributeCondition(attributes: SQLWrapper, filter: ChunkFilter): SQL {
  if ('filters' in filter) {
    if (filter.filters.length === 0) return sql`true`;
    const parts = filter.filters.map((inner) => sql`(${attributeCondition(attributes, inner)})`);
    // Parenthesised as a whole, so that the condition it joins with an outer `and` stays outside the `or`.
    return sql`(${sql.join(parts, filter.type === 'and' ? sql` and ` : sql` or `)})`;
  }
  const attribute = sql`(${attributes} -> ${filter.key}::text)`;
  const value = sql`${JSON.stringify(filter.value)}::jsonb`;
  switch (filter.type) {
    case 'eq':
      return sql`${attribute} = ${value}`;
    case 'ne':
      return sql`${attribute} is distinct from ${value}`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (Array.isArray(filter.value)) return sql`false`;
      return sql`(jsonb_typeof(${attribute}) = jsonb_typeof(${value}) and ${attribute} ${sql.raw(ordering[filter.type])} ${value})`;
    case 'in':
    case 'nin': {
      const isIn = sql`coalesce(${JSON.stringify(listOf(filter.value))}::jsonb @> jsonb_build_array(${attribute}), false)`;
      return filter.type === 'in' ? isIn : sql`not ${isIn}`;
    }
  }
}
