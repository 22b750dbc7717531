// search_products: ranked catalog search over the query's meaningful words (any language, typos tolerated).
import { productIdOf } from '@threadwork/shared';
import type pg from 'pg';
import type { ToolArgs } from '../registry.js';
import { meaningfulTerms, requiredMatches } from './query-terms.js';

const DEFAULT_LIMIT = 10;
const DESCRIPTION_CHARS = 300;
/** word_similarity at or above which the whole query makes a product a candidate (the trigram index's test). */
const CANDIDATE_SIMILARITY = '0.4';
/** word_similarity at or above which one word (of 4+ letters) counts as matched despite a typo or plural. */
const WORD_TYPO_SIMILARITY = 0.5;

/**
 * Candidates come through the indexes: a full-text match of any word (a prefix for words of 3+ letters), a
 * substring (Hebrew and Arabic attach prefixes such as ה, ו, ל to words), or the trigram similarity of the query.
 * Each candidate then counts the words it matches, one by one, the same three ways; one that matches fewer than
 * the required number is below the relevance floor and left out. The score weighs the share of words matched, the
 * query's best trigram similarity and the full-text cover density rank, each in 0..1.
 */
const searchSql = `
  with q as (
    select $1::text[] as terms, array_to_string($1::text[], ' ') as text,
      to_tsquery('simple', array_to_string(array(
        select quote_literal(t) || case when char_length(t) >= 3 then ':*' else '' end from unnest($1::text[]) t
      ), ' | ')) as tsq,
      array(select '%' || t || '%' from unnest($1::text[]) t where char_length(t) >= 3) as patterns
  ), candidates as (
    select p.*, p.name || ' ' || p.description as document from products p, q
    where p.project_id = $8 and (p.search_vector @@ q.tsq or q.text <% (p.name || ' ' || p.description)
        or (p.name || ' ' || p.description) ilike any (q.patterns))
      and ($4::text is null or exists (select 1 from unnest(p.categories) c where lower(c) = lower($4)))
      and ($5::numeric is null or p.price >= $5)
      and ($6::numeric is null or p.price <= $6)
  ), counted as (
    select c.*, (select count(*) from unnest(q.terms) t
      where c.search_vector @@ to_tsquery('simple',
              quote_literal(t) || case when char_length(t) >= 3 then ':*' else '' end)
        or (char_length(t) >= 3 and c.document ilike '%' || t || '%')
        or (char_length(t) >= 4 and word_similarity(t, c.document) >= $7)
    )::int as matched
    from candidates c, q
  )
  select m.id, m.is_integer_id, m.name, m.price, m.currency, m.url, m.image_url, m.description, m.categories,
    round((
      0.6 * m.matched::numeric / cardinality(q.terms)
      + 0.25 * word_similarity(q.text, m.document)::numeric
      + 0.15 * coalesce(ts_rank_cd(m.search_vector, q.tsq, 32), 0)::numeric
    ), 3)::float8 as score
  from counted m, q
  where m.matched >= $2
  order by score desc, m.id
  limit $3`;

interface ProductRow {
  id: string;
  is_integer_id: boolean;
  name: string;
  price: string | null;
  currency: string | null;
  url: string | null;
  image_url: string | null;
  description: string;
  categories: string[];
  score: number;
}

function shorten(text: string): string {
  return text.length <= DESCRIPTION_CHARS ? text : `${text.slice(0, DESCRIPTION_CHARS)}…`;
}

/** Searches the catalog of the project the call is made in (`projectId`), never another's. */
export async function searchProducts(pool: pg.Pool, projectId: string, args: ToolArgs<'search_products'>) {
  const terms = meaningfulTerms(args.query);
  if (terms.length === 0) return { products: [], count: 0 };
  const filters = args.filters ?? {};
  const client = await pool.connect();
  try {
    await client.query('begin read only');
    await client.query("select set_config('pg_trgm.word_similarity_threshold', $1, true)", [
      CANDIDATE_SIMILARITY,
    ]);
    const result = await client.query<ProductRow>(searchSql, [
      terms,
      requiredMatches(terms.length),
      args.limit ?? DEFAULT_LIMIT,
      filters.category ?? null,
      filters.min_price ?? null,
      filters.max_price ?? null,
      WORD_TYPO_SIMILARITY,
      projectId,
    ]);
    await client.query('commit');
    const products = result.rows.map(({ is_integer_id, ...row }) => ({
      ...row,
      id: productIdOf(row.id, is_integer_id),
      price: row.price === null ? null : Number(row.price),
      description: shorten(row.description),
    }));
    return { products, count: products.length };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
