// show_products: product cards by id, in the order asked, for the run worker to send to clients as a products event.
import type { ProductCard } from '@threadwork/shared';
import type pg from 'pg';
import type { ToolArgs } from '../registry.js';

interface CardRow {
  id: string;
  name: string;
  price: string | null;
  currency: string | null;
  image_url: string | null;
  url: string | null;
  description: string;
}

export async function showProducts(
  pool: pg.Pool,
  args: ToolArgs<'show_products'>,
): Promise<{ products: ProductCard[]; missing: string[] }> {
  const ids = [...new Set(args.product_ids)];
  const result = await pool.query<CardRow>(
    'select id, name, price, currency, image_url, url, description from products where id = any($1::text[])',
    [ids],
  );
  const byId = new Map(result.rows.map((row) => [row.id, row]));
  const products: ProductCard[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) {
      missing.push(id);
      continue;
    }
    const price = row.price === null ? null : Number(row.price);
    products.push({
      id,
      name: row.name,
      price,
      currency: row.currency,
      image_url: row.image_url,
      url: row.url,
      description: row.description,
    });
  }
  return { products, missing };
}
