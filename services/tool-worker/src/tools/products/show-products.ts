// show_products: product cards by id, in the order asked, for the run worker to send to clients as a products event.
import { type ProductCard, type ProductId, productIdOf, productIdText } from '@threadwork/shared';
import type pg from 'pg';
import type { ToolArgs } from '../registry.js';

interface CardRow {
  id: string;
  is_integer_id: boolean;
  name: string;
  price: string | null;
  currency: string | null;
  image_url: string | null;
  url: string | null;
  description: string;
}

/**
 * Cards from the catalog of the project the call is made in (another project's ids are missing). Ids match by their
 * text (101 finds "101"); a card's id is the catalog's, as the catalog gave it.
 */
export async function showProducts(
  pool: pg.Pool,
  projectId: string,
  args: ToolArgs<'show_products'>,
): Promise<{ products: ProductCard[]; missing: ProductId[] }> {
  const asked = new Map<string, ProductId>();
  for (const id of args.product_ids) if (!asked.has(productIdText(id))) asked.set(productIdText(id), id);
  const result = await pool.query<CardRow>(
    `select id, is_integer_id, name, price, currency, image_url, url, description
     from products where project_id = $1 and id = any($2::text[])`,
    [projectId, [...asked.keys()]],
  );
  const byId = new Map(result.rows.map((row) => [row.id, row]));
  const products: ProductCard[] = [];
  const missing: ProductId[] = [];
  for (const [text, id] of asked) {
    const row = byId.get(text);
    if (!row) {
      missing.push(id);
      continue;
    }
    products.push({
      id: productIdOf(row.id, row.is_integer_id),
      name: row.name,
      price: row.price === null ? null : Number(row.price),
      currency: row.currency,
      image_url: row.image_url,
      url: row.url,
      description: row.description,
    });
  }
  return { products, missing };
}
