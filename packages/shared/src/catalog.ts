// A project's product catalog import (`POST /admin/projects/{id}/catalog`): JSON or CSV in, the project's products
// replaced atomically.
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from './db/client.js';
import { catalogState, products } from './db/schema.js';
import { ApiError } from './errors.js';
import { productIdSchema, productIdText } from './product-cards.js';

const MAX_CATALOG_PRODUCTS = 100_000;
export const catalogCsvColumns = [
  'id',
  'name',
  'description',
  'price',
  'currency',
  'url',
  'image_url',
  'categories',
] as const;

const INSERT_BATCH = 1_000;
/** Concurrent imports of one project's catalog take turns, so two uploads never interleave deletes and inserts. */
const IMPORT_LOCK_SEED = 7_145_301_923;

/** Postgres text cannot hold NUL; refusing it here gives a 400 instead of a failed insert. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');

const webUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  .max(2_000)
  .nullish()
  .transform((value) => value ?? null);

/** A picture may also be a path on this server (`/static/products/…`, as the demo catalog's are). */
const imageUrl = z
  .union(
    [
      z.url({ protocol: /^https?$/ }).max(2_000),
      z
        .string()
        .max(2_000)
        .regex(/^\/(?![/\\])[^\s\p{Cc}]*$/u),
    ],
    { error: 'must be an http or https URL, or a path on this server starting with /' },
  )
  .nullish()
  .transform((value) => value ?? null);

export const catalogProductSchema = z.object({
  id: productIdSchema,
  name: text(500).trim().min(1),
  description: text(20_000)
    .nullish()
    .transform((value) => value ?? ''),
  price: z
    .number()
    .nonnegative()
    .max(9_999_999_999.99)
    .nullish()
    .transform((value) => (value === null || value === undefined ? null : Math.round(value * 100) / 100)),
  currency: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code')
    .nullish()
    .transform((value) => value?.toUpperCase() ?? null),
  url: webUrl,
  image_url: imageUrl,
  categories: z.array(text(200).trim().min(1)).max(50).default([]),
});

export const catalogImportSchema = z.object({
  products: z
    .array(catalogProductSchema)
    .max(MAX_CATALOG_PRODUCTS)
    .superRefine((items, context) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        const id = productIdText(item.id);
        if (seen.has(id)) {
          context.addIssue({
            code: 'custom',
            path: [index, 'id'],
            message: `duplicate product id '${id}'`,
          });
        }
        seen.add(id);
      });
    }),
});

export type CatalogProductInput = z.input<typeof catalogProductSchema>;
export type CatalogProduct = z.output<typeof catalogProductSchema>;
export type CatalogImportInput = { products: CatalogProductInput[] } | string;

export interface CatalogImportResult {
  status: 'imported' | 'skipped';
  count: number;
  hash: string;
}

interface CsvRecord {
  line: number;
  fields: string[];
}

function csvError(line: number, message: string): ApiError {
  return new ApiError(400, `Invalid CSV at line ${line}: ${message}`, { param: 'body', code: 'invalid_csv' });
}

/** RFC 4180 records: commas, CRLF or LF line ends, quoted fields with commas, newlines and doubled quotes. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let afterQuote = false;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '') records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    afterQuote = false;
  };
  for (let i = 0; i < input.length; i += 1) {
    const char = input[i];
    if (quoted) {
      if (char === '"' && input[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
        afterQuote = true;
      } else {
        if (char === '\n') line += 1;
        field += char;
      }
      continue;
    }
    if (char === ',') {
      fields.push(field);
      field = '';
      afterQuote = false;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && input[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      recordLine = line;
    } else if (afterQuote) {
      throw csvError(
        line,
        'unexpected character after a closing quote (write a quote inside a quoted field as "")',
      );
    } else if (char === '"' && field === '') {
      quoted = true;
    } else {
      field += char;
    }
  }
  if (quoted) throw csvError(recordLine, 'a quoted field is not closed');
  endRecord();
  return records;
}

/** CSV rows as import objects, with the CSV line of each product for error messages. */
export function parseCatalogCsv(text: string): { products: Record<string, unknown>[]; lines: number[] } {
  const [header, ...rows] = parseCsvRecords(text);
  if (!header) throw csvError(1, `the body is empty; expected a header row: ${catalogCsvColumns.join(',')}`);
  const columns = header.fields.map((name) => name.trim().toLowerCase());
  const unknown = columns.filter((name) => !(catalogCsvColumns as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw csvError(1, `unknown column(s) ${unknown.join(', ')}; known: ${catalogCsvColumns.join(', ')}`);
  for (const required of ['id', 'name']) {
    if (!columns.includes(required)) throw csvError(1, `the header has no '${required}' column`);
  }
  const duplicate = columns.find((name, index) => columns.indexOf(name) !== index);
  if (duplicate) throw csvError(1, `the column '${duplicate}' appears twice`);
  const productsOut = rows.map((row) => {
    if (row.fields.length !== columns.length) {
      throw csvError(row.line, `expected ${columns.length} fields, found ${row.fields.length}`);
    }
    const product: Record<string, unknown> = {};
    columns.forEach((name, index) => {
      product[name] = csvValue(name, row.fields[index] ?? '');
    });
    return product;
  });
  return { products: productsOut, lines: rows.map((row) => row.line) };
}

function csvValue(column: string, raw: string): unknown {
  const value = raw.trim();
  if (column === 'categories') {
    return value
      .split(';')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  if (value === '' && column !== 'id' && column !== 'name') return null;
  if (column === 'price') {
    const price = Number(value);
    return Number.isFinite(price) ? price : value;
  }
  return value;
}

function invalidProduct(error: z.ZodError, lines?: number[]): ApiError {
  const issue = error.issues[0];
  const [, index, ...field] = issue?.path ?? [];
  const param =
    typeof index === 'number'
      ? `products[${index}]${field.map((key) => `.${String(key)}`).join('')}`
      : 'products';
  const line = typeof index === 'number' && lines ? ` (CSV line ${lines[index]})` : '';
  return new ApiError(400, `Invalid catalog: ${param}${line}: ${issue?.message ?? 'invalid value'}`, {
    param,
    code: 'invalid_catalog',
  });
}

/** Validates an import body: the JSON object or CSV text. Throws ApiError 400 with the offending `param`. */
function parseCatalogImport(input: unknown): CatalogProduct[] {
  const csv = typeof input === 'string' ? parseCatalogCsv(input) : null;
  const parsed = catalogImportSchema.safeParse(csv ? { products: csv.products } : input);
  if (!parsed.success) throw invalidProduct(parsed.error, csv?.lines);
  return parsed.data.products;
}

/**
 * sha256 of a canonical JSON: products ordered by id, fields in a fixed order, values normalised. The id keeps its
 * type, so turning "101" into 101 is a change.
 */
function catalogHash(items: CatalogProduct[]): string {
  const order = (item: CatalogProduct) => productIdText(item.id);
  const canonical = [...items]
    .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .map((item) => [
      item.id,
      item.name,
      item.description,
      item.price,
      item.currency,
      item.url,
      item.image_url,
      item.categories,
    ]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/**
 * Replaces the project's catalog with `input` (an object `{ products }` or CSV text) in one transaction: readers see
 * the old catalog or the new one, never a mix. An upload whose content hash equals the project's last import is
 * skipped. Other projects' catalogs are not touched.
 */
export async function importCatalog(
  db: Db,
  projectId: string,
  input: CatalogImportInput,
): Promise<CatalogImportResult> {
  const items = parseCatalogImport(input);
  const hash = catalogHash(items);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${projectId}, ${IMPORT_LOCK_SEED}))`);
    const [state] = await tx
      .select({ contentHash: catalogState.contentHash })
      .from(catalogState)
      .where(eq(catalogState.projectId, projectId));
    if (state?.contentHash === hash) return { status: 'skipped', count: items.length, hash };
    await tx.delete(products).where(eq(products.projectId, projectId));
    for (let start = 0; start < items.length; start += INSERT_BATCH) {
      const batch = items.slice(start, start + INSERT_BATCH).map((item) => ({
        projectId,
        id: productIdText(item.id),
        isIntegerId: typeof item.id === 'number',
        name: item.name,
        description: item.description,
        price: item.price,
        currency: item.currency,
        url: item.url,
        imageUrl: item.image_url,
        categories: item.categories,
      }));
      await tx.insert(products).values(batch);
    }
    const row = { projectId, contentHash: hash, productCount: items.length, importedAt: new Date() };
    await tx
      .insert(catalogState)
      .values(row)
      .onConflictDoUpdate({
        target: catalogState.projectId,
        set: { contentHash: hash, productCount: items.length, importedAt: row.importedAt },
      });
    return { status: 'imported', count: items.length, hash };
  });
}

export interface CatalogStateRow {
  contentHash: string;
  productCount: number;
  importedAt: Date;
}

/** What the project last imported; null when it never imported a catalog. */
export async function readCatalogState(db: Db, projectId: string): Promise<CatalogStateRow | null> {
  const [state] = await db
    .select({
      contentHash: catalogState.contentHash,
      productCount: catalogState.productCount,
      importedAt: catalogState.importedAt,
    })
    .from(catalogState)
    .where(eq(catalogState.projectId, projectId));
  return state ?? null;
}
