// search_products: ranked catalog search: full-text (simple config, any language), substrings and trigram typos.
import type pg from 'pg';
import type { ToolArgs } from '../registry.js';

const DEFAULT_LIMIT = 10;
const DESCRIPTION_CHARS = 300;
/** word_similarity at or above which a product counts as a typo match. */
const TYPO_THRESHOLD = '0.4';

/**
 * Each query word is matched three ways: as a full-text prefix (`word:*`), as a substring (Hebrew and Arabic attach
 * prefixes such as ה, ו, ל to words), and by trigram word similarity (typos). The score weighs how many words occur,
 * how close the best typo match is, and the full-text cover density rank, each in 0..1.
 */
const searchSql = `
  with input as (
    select $1::text as text,
      array(select lexeme from unnest(to_tsvector('simple', $1)) order by lexeme) as terms
  ), q as (
    select text, terms,
      case when cardinality(terms) > 0 then to_tsquery('simple',
        array_to_string(array(select quote_literal(t) || ':*' from unnest(terms) t), ' | ')) end as tsq,
      array(select '%' || replace(replace(replace(t, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
            from unnest(terms) t where char_length(t) >= 3) as patterns
    from input
  ), matched as (
    select p.*, p.name || ' ' || p.description as document from products p, q
    where (p.search_vector @@ q.tsq or q.text <% (p.name || ' ' || p.description)
        or (p.name || ' ' || p.description) ilike any (q.patterns))
      and ($3::text is null or exists (select 1 from unnest(p.categories) c where lower(c) = lower($3)))
      and ($4::numeric is null or p.price >= $4)
      and ($5::numeric is null or p.price <= $5)
  )
  select m.id, m.name, m.price, m.currency, m.url, m.image_url, m.description, m.categories,
    round((
      0.4 * (select count(*) from unnest(q.patterns) pattern where m.document ilike pattern)::numeric
        / greatest(cardinality(q.patterns), 1)
      + 0.4 * word_similarity(q.text, m.document)::numeric
      + 0.2 * coalesce(ts_rank_cd(m.search_vector, q.tsq, 32), 0)::numeric
    ), 3)::float8 as score
  from matched m, q
  order by score desc, m.id
  limit $2`;

interface ProductRow {
  id: string;
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

export async function searchProducts(pool: pg.Pool, args: ToolArgs<'search_products'>) {
  const filters = args.filters ?? {};
  const client = await pool.connect();
  try {
    await client.query('begin read only');
    await client.query("select set_config('pg_trgm.word_similarity_threshold', $1, true)", [TYPO_THRESHOLD]);
    const result = await client.query<ProductRow>(searchSql, [
      args.query,
      args.limit ?? DEFAULT_LIMIT,
      filters.category ?? null,
      filters.min_price ?? null,
      filters.max_price ?? null,
    ]);
    await client.query('commit');
    const products = result.rows.map((row) => ({
      ...row,
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
