// The run path's prepared statements: named on Postgres unless the handle is made for a pooler in transaction mode.
import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, createDb, type Db } from '../src/db/client.js';
import { preparedStatement } from '../src/db/prepared.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

const nameGiven = preparedStatement('test_name', (_db, name) => ({ name }));

const plusOne = preparedStatement('test_plus_one', (db, name) =>
  db
    .select({ value: sql<number>`${sql.placeholder('n')}::int + 1` })
    .from(sql`(values (1)) as one`)
    .prepare(name),
);

/** The statements Postgres holds prepared on the handle's one connection. */
async function preparedOnConnection(db: Db): Promise<string[]> {
  const { rows } = await db.$client.query<{ name: string }>('select name from pg_prepared_statements');
  return rows.map((row) => row.name);
}

async function withHandle(namedStatements: boolean, use: (db: Db) => Promise<void>): Promise<void> {
  const db = createDb({ url: database.url, poolSize: 1, namedStatements });
  try {
    await use(db);
  } finally {
    await closeDb(db);
  }
}

describe('a prepared statement of the run path', () => {
  it('is built once per handle and named on Postgres by default', async () => {
    await withHandle(true, async (db) => {
      expect(plusOne(db)).toBe(plusOne(db));
      expect(await plusOne(db).execute({ n: 41 })).toEqual([{ value: 42 }]);
      expect(await plusOne(db).execute({ n: 1 })).toEqual([{ value: 2 }]);
      expect(await preparedOnConnection(db)).toEqual(['threadwork_test_plus_one']);
      expect(nameGiven(db).name).toBe('threadwork_test_name');
    });
  });

  it('is sent unnamed, leaving nothing on the connection, when names are off (a pooler in transaction mode)', async () => {
    await withHandle(false, async (db) => {
      expect(await plusOne(db).execute({ n: 41 })).toEqual([{ value: 42 }]);
      expect(await preparedOnConnection(db)).toEqual([]);
      expect(nameGiven(db).name).toBe('');
    });
  });
});
