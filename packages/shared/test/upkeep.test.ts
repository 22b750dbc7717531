// Threadwork says at start-up when Postgres will not keep its run tables vacuumed and analyzed.
import { Writable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, createDb, type Db } from '../src/db/client.js';
import { tablesWithoutAutovacuum, warnWithoutAutovacuum } from '../src/db/upkeep.js';
import { createLogger } from '../src/logger.js';

const RUN_TABLES = ['messages', 'run_steps', 'runs', 'threads'];

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, poolSize: 2 });
});

afterAll(async () => {
  await closeDb(db);
  await database.drop();
});

async function serverAutovacuum(): Promise<boolean> {
  const { rows } = await db.$client.query<{ on: boolean }>(
    `select current_setting('autovacuum')::boolean as on`,
  );
  return rows[0]?.on ?? false;
}

describe('tables without autovacuum', () => {
  it('are every run table when the server has it off, none when it is on', async () => {
    expect(await tablesWithoutAutovacuum(db)).toEqual((await serverAutovacuum()) ? [] : RUN_TABLES);
  });

  it('include a run table whose storage parameter turns it off, and a warning names it', async () => {
    await db.$client.query('alter table runs set (autovacuum_enabled = off)');
    try {
      expect(await tablesWithoutAutovacuum(db)).toContain('runs');
      const lines: string[] = [];
      const destination = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      await warnWithoutAutovacuum(db, createLogger({ name: 'upkeep-test', destination }));
      const warning = JSON.parse(lines[0] ?? '{}');
      expect(warning.level).toBe(40);
      expect(warning.tables).toContain('runs');
      expect(warning.msg).toMatch(/vacuumdb --analyze/);
    } finally {
      await db.$client.query('alter table runs reset (autovacuum_enabled)');
    }
  });

  it('say nothing for a table of that name outside the search path', async () => {
    await db.$client.query(`
      create schema elsewhere;
      create table elsewhere.runs (id int) with (autovacuum_enabled = off);`);
    const found = await tablesWithoutAutovacuum(db);
    expect(found.filter((table) => table === 'runs').length).toBe((await serverAutovacuum()) ? 0 : 1);
  });
});
