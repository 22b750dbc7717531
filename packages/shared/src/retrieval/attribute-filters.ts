// OpenAI's attribute filters (comparison and compound) as a zod schema, and their translation to a SQL condition.
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const key = z.string().min(1).max(256);

export const comparisonFilterSchema = z.union([
  z.strictObject({ type: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']), key, value: scalar }),
  z.strictObject({
    type: z.enum(['in', 'nin']),
    key,
    value: z.array(z.union([z.string(), z.number()])).max(1000),
  }),
]);
export type ComparisonFilter = z.infer<typeof comparisonFilterSchema>;

export interface CompoundFilter {
  type: 'and' | 'or';
  filters: Array<ComparisonFilter | CompoundFilter>;
}
export type AttributeFilter = ComparisonFilter | CompoundFilter;

export const attributeFilterSchema: z.ZodType<AttributeFilter> = z.lazy(() =>
  z.union([
    comparisonFilterSchema,
    z.strictObject({
      type: z.enum(['and', 'or']),
      filters: z.array(attributeFilterSchema).max(100),
    }),
  ]),
);

const ordering = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * The condition `filter` puts on a jsonb attributes column. Keys and values go as parameters, never into the text.
 * Values compare as JSON: a number with a number, a string with a string; an ordering comparison between different
 * types is false. A missing attribute satisfies only `ne` and `nin`.
 */
export function attributeCondition(attributes: SQLWrapper, filter: AttributeFilter): SQL {
  switch (filter.type) {
    case 'and':
    case 'or': {
      if (filter.filters.length === 0) return sql`true`;
      const parts = filter.filters.map((inner) => sql`(${attributeCondition(attributes, inner)})`);
      // Parenthesised as a whole, so that the condition it joins with an outer `and` stays outside the `or`.
      return sql`(${sql.join(parts, filter.type === 'and' ? sql` and ` : sql` or `)})`;
    }
    case 'eq':
      return sql`(${attributes} -> ${filter.key}::text) = ${JSON.stringify(filter.value)}::jsonb`;
    case 'ne':
      return sql`(${attributes} -> ${filter.key}::text) is distinct from ${JSON.stringify(filter.value)}::jsonb`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const value = sql`${JSON.stringify(filter.value)}::jsonb`;
      const attribute = sql`(${attributes} -> ${filter.key}::text)`;
      return sql`(jsonb_typeof(${attribute}) = jsonb_typeof(${value}) and ${attribute} ${sql.raw(ordering[filter.type])} ${value})`;
    }
    case 'in':
      return sql`coalesce(${JSON.stringify(filter.value)}::jsonb @> jsonb_build_array(${attributes} -> ${filter.key}::text), false)`;
    case 'nin':
      return sql`not coalesce(${JSON.stringify(filter.value)}::jsonb @> jsonb_build_array(${attributes} -> ${filter.key}::text), false)`;
  }
}
