// The migrations to projects, from a database the previous schema filled: nothing is lost, nothing one key could see
// becomes visible to another (each user key becomes a key of its own project), the catalog becomes the default
// project's.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmptyDatabase, type TestDatabase } from '@threadwork/testing';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsFolder, runMigrations } from '../src/db/migrate.js';

const FIRST_NEW_MIGRATION = '0007_projects_keys_end_users';

let database: TestDatabase;
let client: pg.Client;
let before: Record<string, number>;
const TABLES = [
  'products',
  'catalog_state',
  'api_keys',
  'assistants',
  'threads',
  'messages',
  'runs',
  'run_steps',
  'message_feedback',
  'usage_logs',
];

/** The migrations folder as it was before the projects: the journal stops at the last migration before them. */
async function previousMigrations(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'tw-migrations-'));
  await cp(migrationsFolder, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((entry) => entry.tag === FIRST_NEW_MIGRATION);
  expect(cut).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, cut);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

async function fillWithPreviousSchema(): Promise<void> {
  await client.query(`
    insert into api_keys (id, name, key_hash, role) values
      ('key_alice', 'alice', 'hash-alice', 'user'),
      ('key_bob', 'bob', 'hash-bob', 'user'),
      ('key_admin', 'bootstrap admin', 'hash-admin', 'admin');
    update api_keys set revoked_at = now() where id = 'key_bob';
    insert into assistants (id, owner_id, model) values
      ('asst_alice', 'key_alice', 'offline'), ('asst_shared', null, 'offline');
    insert into threads (id, owner_id) values
      ('thread_alice', 'key_alice'), ('thread_bob', 'key_bob'), ('thread_admin', 'key_admin');
    insert into messages (id, thread_id, role, content, status) values
      ('msg_alice', 'thread_alice', 'user', '[]', 'completed'),
      ('msg_bob', 'thread_bob', 'assistant', '[]', 'completed');
    insert into runs (id, thread_id, owner_id, assistant_id, status, model, instructions, truncation_strategy,
                      tool_choice, response_format)
      values ('run_alice', 'thread_alice', 'key_alice', 'asst_alice', 'completed', 'offline', '', '{}', '"auto"',
              '"auto"');
    insert into run_steps (id, run_id, thread_id, assistant_id, type, status, step_details)
      values ('step_alice', 'run_alice', 'thread_alice', 'asst_alice', 'message_creation', 'completed', '{}');
    insert into message_feedback (id, message_id, owner_id, rating) values ('fb_bob', 'msg_bob', 'key_bob', 1);
    insert into usage_logs (run_id, owner_id, model, prompt_tokens, completion_tokens, total_tokens, cost_usd,
                            latency_ms)
      values ('run_alice', 'key_alice', 'offline', 1, 2, 3, 0, 10);
    insert into webhook_endpoints (id, owner_id, url, events, secret)
      values ('wh_alice', 'key_alice', 'https://alice.example/hook', '[]', 'whsec_x');
    insert into products (id, name, is_integer_id) values ('101', 'Salmon Dog Food', true), ('tea', 'Green Tea', false);
    insert into catalog_state (id, content_hash, product_count) values (1, 'hash-of-the-catalog', 2);`);
}

async function counts(): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const table of TABLES) {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    found[table] = rows[0]?.n ?? -1;
  }
  return found;
}

/** The threads each key's requests see: its project's. */
async function threadsSeenByKey(): Promise<Record<string, string[]>> {
  const { rows } = await client.query<{ key: string; threads: string[] }>(`
    select k.id as key, coalesce(array_agg(t.id order by t.id) filter (where t.id is not null), '{}') as threads
    from api_keys k left join threads t on t.owner_id = k.project_id group by k.id order by k.id`);
  return Object.fromEntries(rows.map((row) => [row.key, row.threads]));
}

beforeAll(async () => {
  database = await createEmptyDatabase(inject('databaseServerUrl'));
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const folder = await previousMigrations();
  const migrator = new pg.Client({ connectionString: database.url });
  await migrator.connect();
  try {
    await migrate(drizzle(migrator), { migrationsFolder: folder });
  } finally {
    await migrator.end();
    await rm(folder, { recursive: true, force: true });
  }
  await fillWithPreviousSchema();
  before = await counts();
  await runMigrations(database.url);
});

afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe('the migration to projects', () => {
  it('keeps every row', async () => {
    expect(await counts()).toEqual(before);
  });

  it('makes each existing key a key of its own project, which owns what the key owned', async () => {
    expect(await threadsSeenByKey()).toEqual({
      key_admin: ['thread_admin'],
      key_alice: ['thread_alice'],
      key_bob: ['thread_bob'],
    });
    const { rows: keys } = await client.query(
      'select id, project_id, role, is_deployment_admin, revoked_at is not null as revoked from api_keys order by id',
    );
    expect(keys).toEqual([
      { id: 'key_admin', project_id: 'proj_admin', role: 'admin', is_deployment_admin: true, revoked: false },
      {
        id: 'key_alice',
        project_id: 'proj_alice',
        role: 'server',
        is_deployment_admin: false,
        revoked: false,
      },
      { id: 'key_bob', project_id: 'proj_bob', role: 'server', is_deployment_admin: false, revoked: true },
    ]);
  });

  it('moves every owner column to the project, so runs, feedback and usage stay with their threads', async () => {
    const owners = async (sql: string) => (await client.query<{ owner_id: string | null }>(sql)).rows;
    expect(await owners('select owner_id from assistants order by id')).toEqual([
      { owner_id: 'proj_alice' },
      { owner_id: null },
    ]);
    expect(await owners('select owner_id from runs')).toEqual([{ owner_id: 'proj_alice' }]);
    expect(await owners('select owner_id from message_feedback')).toEqual([{ owner_id: 'proj_bob' }]);
    expect(await owners('select owner_id from usage_logs')).toEqual([{ owner_id: 'proj_alice' }]);
    expect(await owners('select owner_id from webhook_endpoints')).toEqual([{ owner_id: 'proj_alice' }]);
    const { rows } = await client.query(
      'select count(*)::int as n from threads where end_user_id is not null',
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('starts the default project empty, so keys made in it see none of the migrated data', async () => {
    const { rows } = await client.query(`
      select p.id, (select count(*)::int from threads t where t.owner_id = p.id) as threads,
             (select count(*)::int from assistants a where a.owner_id = p.id) as assistants
      from projects p where p.id = 'proj_default'`);
    expect(rows).toEqual([{ id: 'proj_default', threads: 0, assistants: 0 }]);
  });

  it("keeps the deployment's product catalog and its import state as the default project's", async () => {
    const { rows: products } = await client.query(
      'select project_id, id, is_integer_id from products order by id',
    );
    expect(products).toEqual([
      { project_id: 'proj_default', id: '101', is_integer_id: true },
      { project_id: 'proj_default', id: 'tea', is_integer_id: false },
    ]);
    const { rows: state } = await client.query(
      'select project_id, content_hash, product_count from catalog_state',
    );
    expect(state).toEqual([
      { project_id: 'proj_default', content_hash: 'hash-of-the-catalog', product_count: 2 },
    ]);
  });
});
