// The relevance set: shop queries against the demo catalog (scripts/demo-catalog.json) and what must come first.
import { readFile } from 'node:fs/promises';
import { closeDb, createDb, type Db, schema } from '@threadwork/shared';
import { type CatalogProductInput, importCatalog } from '@threadwork/shared/catalog';
import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { searchProducts } from '../src/tools/products/search-products.js';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseServerUrl'));
  db = createDb({ url: database.url, poolSize: 2 });
  const demo = new URL('../../../scripts/demo-catalog.json', import.meta.url);
  const catalog = JSON.parse(await readFile(demo, 'utf8')) as { products: CatalogProductInput[] };
  await importCatalog(db, schema.DEFAULT_PROJECT_ID, catalog);
});

afterAll(async () => {
  await closeDb(db);
  await database?.drop();
});

const ids = async (query: string) =>
  (await searchProducts(db.$client, schema.DEFAULT_PROJECT_ID, { query })).products.map(
    (product) => product.id,
  );

interface Case {
  query: string;
  /** The first results, in order. */
  top: string[];
  /** Nothing else is answered. */
  isAll?: boolean;
  /** Must not be answered. */
  absent?: string[];
}

const relevanceSet: Case[] = [
  {
    query: 'show me dog food',
    top: ['dog-food-salmon', 'dog-food-puppy'],
    isAll: true,
    absent: ['cat-food-tuna', 'fish-flakes', 'pet-bed'],
  },
  { query: 'I want some cat food please', top: ['cat-food-tuna'], isAll: true },
  { query: 'find me fish food', top: ['fish-flakes'], isAll: true },
  { query: 'treats for my dog', top: ['dog-treats-beef'], isAll: true },
  { query: 'puppy', top: ['dog-food-puppy'], isAll: true },
  { query: 'orthopedic bed', top: ['pet-bed'], isAll: true },
  { query: 'bird seeds', top: ['bird-seed'], isAll: true },
  // typos
  { query: 'cat littr', top: ['cat-litter'], isAll: true },
  { query: 'scrathcer', top: ['cat-scratcher'], isAll: true },
  // Hebrew: stop words around the meaningful ones, and words with attached prefixes (ל + כלבים)
  { query: 'הראה לי מזון לכלבים', top: ['he-dog-food'], isAll: true },
  { query: 'אני רוצה צעצוע לחתול', top: ['he-cat-toy'], isAll: true },
  { query: 'כלב', top: ['he-dog-food'], isAll: true },
  // a single word finds everything it names
  { query: 'cat', top: ['cat-food-tuna'], absent: ['dog-leash', 'fish-flakes'] },
  // only stop words: nothing is asked for
  { query: 'show me something please', top: [], isAll: true },
  { query: 'תראה לי משהו בבקשה', top: [], isAll: true },
];

describe('search_products relevance on the demo catalog', () => {
  it.each(relevanceSet)('$query', async ({ query, top, isAll, absent }) => {
    const found = await ids(query);
    if (isAll) expect(found).toEqual(top);
    else expect(found.slice(0, top.length)).toEqual(top);
    for (const id of absent ?? []) expect(found).not.toContain(id);
  });
});
