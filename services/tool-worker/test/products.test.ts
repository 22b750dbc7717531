import { ApiError, closeDb, createDb, type Db, schema } from '@threadwork/shared';
import { type CatalogProductInput, importCatalog, parseCsvRecords } from '@threadwork/shared/catalog';
import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { searchProducts } from '../src/tools/products/search-products.js';
import { showProducts } from '../src/tools/products/show-products.js';

let database: TestDatabase;
let db: Db;
/** The project whose catalog most tests import and search. */
const SHOP = schema.DEFAULT_PROJECT_ID;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseServerUrl'));
  db = createDb({ url: database.url, poolSize: 4 });
});

afterAll(async () => {
  await closeDb(db);
  await database?.drop();
});

const catalog: CatalogProductInput[] = [
  {
    id: 'dog-food',
    name: 'Premium Dog Food',
    description: 'Dry food for adult dogs, chicken and rice.',
    price: 39.9,
    currency: 'usd',
    url: 'https://shop.example/dog-food',
    image_url: 'https://shop.example/dog-food.jpg',
    categories: ['pets', 'dogs'],
  },
  {
    id: 'dog-leash',
    name: 'Dog Leash',
    description: 'Strong nylon leash for dogs.',
    price: 15,
    currency: 'USD',
    categories: ['pets', 'dogs'],
  },
  {
    id: 'cat-litter',
    name: 'Cat Litter',
    description: 'Clumping litter for cats.',
    price: 12,
    categories: ['pets'],
  },
  {
    id: 'dark-chocolate',
    name: 'Dark Chocolate Bar',
    description: '70% cocoa from Ecuador.',
    price: 3.5,
    categories: ['food'],
  },
  {
    id: 'milk-chocolate',
    name: 'Milk Chocolate',
    description: 'Creamy milk chocolate bar.',
    price: 2.5,
    categories: ['food'],
  },
  {
    id: 'he-dog-food',
    name: 'מזון לכלבים',
    description: 'מזון יבש לכלבים בוגרים עם עוף ואורז',
    price: 149,
    currency: 'ILS',
    categories: ['חיות'],
  },
  {
    id: 'he-cat-toy',
    name: 'צעצוע לחתול',
    description: 'צעצוע עם נוצות לחתולים',
    price: 29,
    currency: 'ILS',
  },
];

async function productIds(): Promise<string[]> {
  const rows = await db.select({ id: schema.products.id }).from(schema.products).orderBy(schema.products.id);
  return rows.map((row) => row.id);
}

async function importError(input: Parameters<typeof importCatalog>[2]): Promise<ApiError> {
  const error = await importCatalog(db, SHOP, input).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('importCatalog', () => {
  it('imports JSON, then skips the same content by hash, in any order', async () => {
    const first = await importCatalog(db, SHOP, { products: catalog });
    expect(first).toEqual({ status: 'imported', count: 7, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = await importCatalog(db, SHOP, { products: [...catalog].reverse() });
    expect(again).toEqual({ status: 'skipped', count: 7, hash: first.hash });
    const [state] = await db.select().from(schema.catalogState);
    expect(state).toMatchObject({ contentHash: first.hash, productCount: 7 });
    const [dogFood] = await db.select().from(schema.products).orderBy(schema.products.id).limit(1);
    expect(dogFood).toMatchObject({ id: 'cat-litter', currency: null, url: null, imageUrl: null });
  });

  it('imports CSV with quoted commas, escaped quotes, newlines and ; separated categories', async () => {
    const csv =
      '\uFEFFid,name,description,price,currency,url,image_url,categories\r\n' +
      'a1,"Tea, green","The ""best"" tea\nfrom Japan",4.5,jpy,https://shop.example/a1,,drinks; tea\r\n' +
      'a2,Mug,,,,,,\r\n';
    const result = await importCatalog(db, SHOP, csv);
    expect(result).toMatchObject({ status: 'imported', count: 2 });
    const rows = await db.select().from(schema.products).orderBy(schema.products.id);
    expect(
      rows.map(({ id, name, description, price, currency, url, imageUrl, categories }) => ({
        id,
        name,
        description,
        price,
        currency,
        url,
        imageUrl,
        categories,
      })),
    ).toEqual([
      {
        id: 'a1',
        name: 'Tea, green',
        description: 'The "best" tea\nfrom Japan',
        price: 4.5,
        currency: 'JPY',
        url: 'https://shop.example/a1',
        imageUrl: null,
        categories: ['drinks', 'tea'],
      },
      {
        id: 'a2',
        name: 'Mug',
        description: '',
        price: null,
        currency: null,
        url: null,
        imageUrl: null,
        categories: [],
      },
    ]);
    expect((await importCatalog(db, SHOP, csv)).status).toBe('skipped');
  });

  it('gives the same hash to the same catalog in JSON and in CSV', async () => {
    const json = await importCatalog(db, SHOP, {
      products: [{ id: 'x', name: 'X', description: 'd', price: 1, categories: ['a', 'b'] }],
    });
    const csv = await importCatalog(db, SHOP, 'id,name,description,price,categories\nx,X,d,1.00,a;b\n');
    expect(csv).toEqual({ status: 'skipped', count: 1, hash: json.hash });
  });

  it('refuses bad input with a 400 naming the field, and keeps the catalog', async () => {
    await importCatalog(db, SHOP, { products: catalog });
    const before = await productIds();
    const price = await importError({ products: [{ id: 'p', name: 'P', price: -1 }] });
    expect(price).toMatchObject({ status: 400, param: 'products[0].price' });
    const duplicate = await importError({
      products: [
        { id: 'p', name: 'P' },
        { id: 'p', name: 'Q' },
      ],
    });
    expect(duplicate).toMatchObject({
      param: 'products[1].id',
      message: expect.stringMatching(/duplicate product id 'p'/),
    });
    const url = await importError({ products: [{ id: 'p', name: 'P', url: 'javascript:alert(1)' }] });
    expect(url.param).toBe('products[0].url');
    const nul = await importError({ products: [{ id: 'p', name: 'bad\u0000name' }] });
    expect(nul.param).toBe('products[0].name');
    const csvPrice = await importError('id,name,price\np1,One,1\np2,Two,cheap\n');
    expect(csvPrice).toMatchObject({
      param: 'products[1].price',
      message: expect.stringMatching(/CSV line 3/),
    });
    const column = await importError('id,name,colour\np1,One,red\n');
    expect(column.message).toMatch(/unknown column\(s\) colour/);
    const quote = await importError('id,name\np1,"unterminated\n');
    expect(quote.message).toMatch(/not closed/);
    const fields = await importError('id,name\np1,One,extra\n');
    expect(fields.message).toMatch(/line 2: expected 2 fields, found 3/);
    expect(await importError('')).toMatchObject({ status: 400, message: expect.stringMatching(/empty/) });
    expect(await productIds()).toEqual(before);
  });

  it('replaces the catalog atomically: readers see the old or the new catalog, never a mix', async () => {
    await importCatalog(db, SHOP, { products: catalog });
    const large = Array.from({ length: 5_000 }, (_, index) => ({
      id: `bulk-${index}`,
      name: `Bulk item ${index}`,
    }));
    const seen = new Set<number>();
    let importing = true;
    const reader = (async () => {
      while (importing) {
        const result = await db.$client.query<{ count: number }>(
          'select count(*)::int as count from products',
        );
        seen.add(result.rows[0]?.count ?? -1);
      }
    })();
    const result = await importCatalog(db, SHOP, { products: large });
    importing = false;
    await reader;
    expect(result).toMatchObject({ status: 'imported', count: 5_000 });
    expect([...seen].every((count) => count === catalog.length || count === 5_000)).toBe(true);
    expect(await db.$client.query('select count(*)::int as count from products')).toMatchObject({
      rows: [{ count: 5_000 }],
    });
  });
});

describe("each project's own catalog", () => {
  const other = 'proj_other_shop';

  beforeAll(async () => {
    await db.insert(schema.projects).values({ id: other, name: 'other shop' });
    await importCatalog(db, SHOP, { products: catalog });
  });

  it("neither searches, shows nor replaces another project's products", async () => {
    expect((await searchProducts(db.$client, other, { query: 'dog food' })).products).toEqual([]);
    expect(await showProducts(db.$client, other, { product_ids: ['dog-food'] })).toEqual({
      products: [],
      missing: ['dog-food'],
    });
    const imported = await importCatalog(db, other, {
      products: [{ id: 'dog-food', name: 'Other Dog Food' }],
    });
    // The same content in another project is imported there, not skipped by the first project's hash.
    expect(imported.status).toBe('imported');
    expect((await importCatalog(db, other, { products: catalog })).status).toBe('imported');
    expect(await importCatalog(db, SHOP, { products: [{ id: 'x', name: 'X' }] })).toMatchObject({ count: 1 });
    const names = await showProducts(db.$client, other, { product_ids: ['dog-food', 'x'] });
    expect(names.products.map((card) => card.name)).toEqual(['Premium Dog Food']);
    expect(names.missing).toEqual(['x']);
  });

  it('goes with its project: deleting the project deletes its catalog and import state', async () => {
    await db.delete(schema.projects).where(eq(schema.projects.id, other));
    const left = await db.$client.query<{ n: number }>(
      'select (select count(*) from products where project_id = $1) + (select count(*) from catalog_state where project_id = $1) as n',
      [other],
    );
    expect(Number(left.rows[0]?.n)).toBe(0);
  });
});

describe('parseCsvRecords', () => {
  it('keeps the line of each record and skips blank lines', () => {
    expect(parseCsvRecords('a,b\n\n"x\ny",z\nlast,\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['x\ny', 'z'] },
      { line: 5, fields: ['last', ''] },
    ]);
  });
});

describe('search_products and show_products', () => {
  beforeAll(async () => {
    await importCatalog(db, SHOP, { products: catalog });
  });

  const search = (query: string, extra: { limit?: number; filters?: Record<string, unknown> } = {}) =>
    searchProducts(db.$client, SHOP, { query, ...extra });

  it('answers the products that match every word, with the documented fields', async () => {
    const result = await search('dog food');
    // The leash matches "dog" only: below the relevance floor for a two-word query.
    expect(result.products.map((product) => product.id)).toEqual(['dog-food']);
    expect(result.count).toBe(1);
    expect(result.products[0]).toEqual({
      id: 'dog-food',
      name: 'Premium Dog Food',
      price: 39.9,
      currency: 'USD',
      url: 'https://shop.example/dog-food',
      image_url: 'https://shop.example/dog-food.jpg',
      description: 'Dry food for adult dogs, chicken and rice.',
      categories: ['pets', 'dogs'],
      score: expect.any(Number),
    });
  });

  it('finds products despite a typo', async () => {
    const result = await search('choclate');
    expect(result.products.map((product) => product.id).sort()).toEqual(['dark-chocolate', 'milk-chocolate']);
  });

  it('finds Hebrew text, also inside words with attached prefixes', async () => {
    expect((await search('מזון לכלבים')).products[0]?.id).toBe('he-dog-food');
    expect((await search('כלב')).products.map((product) => product.id)).toEqual(['he-dog-food']);
    expect((await search('חתול')).products.map((product) => product.id)).toEqual(['he-cat-toy']);
  });

  it('applies category and price filters and the limit', async () => {
    const cheapPets = await search('dog', { filters: { category: 'PETS', max_price: 20 } });
    expect(cheapPets.products.map((product) => product.id)).toEqual(['dog-leash']);
    const expensive = await search('chocolate', { filters: { min_price: 3 } });
    expect(expensive.products.map((product) => product.id)).toEqual(['dark-chocolate']);
    expect((await search('chocolate', { limit: 1 })).count).toBe(1);
  });

  it('finds nothing for unrelated text, and treats LIKE wildcards literally', async () => {
    expect(await search('spaceship')).toEqual({ products: [], count: 0 });
    expect(await search('%%%')).toEqual({ products: [], count: 0 });
  });

  it('shows cards in the order asked and lists unknown ids as missing', async () => {
    const result = await showProducts(db.$client, SHOP, {
      product_ids: ['dog-leash', 'nope', 'dog-food', 'dog-leash'],
    });
    expect(result).toEqual({
      products: [
        {
          id: 'dog-leash',
          name: 'Dog Leash',
          price: 15,
          currency: 'USD',
          image_url: null,
          url: null,
          description: 'Strong nylon leash for dogs.',
        },
        {
          id: 'dog-food',
          name: 'Premium Dog Food',
          price: 39.9,
          currency: 'USD',
          image_url: 'https://shop.example/dog-food.jpg',
          url: 'https://shop.example/dog-food',
          description: 'Dry food for adult dogs, chicken and rice.',
        },
      ],
      missing: ['nope'],
    });
  });
});

describe('integer product ids (WooCommerce)', () => {
  beforeAll(async () => {
    await importCatalog(db, SHOP, {
      products: [
        { id: 101, name: 'Salmon Dog Food', description: 'Dry food for dogs.', price: 54.9, currency: 'EUR' },
        { id: '102', name: 'Dog Leash', description: 'Nylon leash for dogs.', price: 14 },
      ],
    });
  });

  it('keeps an integer id an integer and a string id a string, in search results and cards', async () => {
    const found = await searchProducts(db.$client, SHOP, { query: 'dog' });
    expect(found.products.map((product) => product.id).sort()).toEqual([101, '102'].sort());
    const shown = await showProducts(db.$client, SHOP, { product_ids: [101, 102, '101', 103] });
    expect(shown.products.map((card) => card.id)).toEqual([101, '102']);
    expect(shown.missing).toEqual([103]);
  });

  it('finds an integer id asked as a string (models often quote ids)', async () => {
    const shown = await showProducts(db.$client, SHOP, { product_ids: ['101'] });
    expect(shown.products).toMatchObject([{ id: 101, name: 'Salmon Dog Food' }]);
  });

  it('treats 101 and "101" as the same id, and re-imports when only the type changes', async () => {
    const duplicate = await importError({
      products: [
        { id: 101, name: 'A' },
        { id: '101', name: 'B' },
      ],
    });
    expect(duplicate).toMatchObject({ param: 'products[1].id', message: expect.stringMatching(/'101'/) });
    const fractional = await importError({ products: [{ id: 1.5, name: 'A' }] });
    expect(fractional.param).toBe('products[0].id');
    const asString = await importCatalog(db, SHOP, { products: [{ id: '7', name: 'Seven' }] });
    const asInteger = await importCatalog(db, SHOP, { products: [{ id: 7, name: 'Seven' }] });
    expect(asInteger.status).toBe('imported');
    expect(asInteger.hash).not.toBe(asString.hash);
    expect((await showProducts(db.$client, SHOP, { product_ids: ['7'] })).products[0]?.id).toBe(7);
  });
});
