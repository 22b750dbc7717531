// Every column that holds a Threadwork id (not a catalog's product ids, not the model's call ids) compares in the ids' own collation ("C"): a comparison between two
// collations cannot use either side's index, and Postgres then scans the whole table (as a run's tool steps were,
// read by run_steps.run_id = runs.id).
import { createTestDatabase, type TestDatabase } from '@threadwork/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await database.drop();
});

describe('the migrated schema', () => {
  it('stores every id and id reference in the "C" collation', async () => {
    const { rows } = await client.query<{ column: string; collation: string | null }>(`
      select table_name || '.' || column_name as column, collation_name as collation
      from information_schema.columns
      where table_schema = 'public' and (column_name = 'id' or column_name like '%\\_id')
        and data_type = 'text' and table_name not in ('tool_executions', 'products')`);
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.filter((row) => row.collation !== 'C')).toEqual([]);
  });

  it('reads a run’s tool steps through the run_steps index, not a scan', async () => {
    await client.query(`
      insert into projects (id, name) values ('key_1', 'p');
      insert into threads (id, owner_id) values ('thread_1', 'key_1');
      insert into runs (id, thread_id, owner_id, assistant_id, status, model, instructions, truncation_strategy,
                        tool_choice, response_format)
        select 'run_' || n, 'thread_1', 'key_1', 'asst_1', 'completed', 'offline', '', '{}', '"auto"', '"auto"'
        from generate_series(1, 2000) n;
      insert into run_steps (id, run_id, thread_id, assistant_id, type, status, step_details)
        select 'step_' || n, 'run_' || n, 'thread_1', 'asst_1', 'tool_calls', 'completed', '{}'
        from generate_series(1, 2000) n;
      analyze runs; analyze run_steps;`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`
      explain select (select count(*) from run_steps s where s.run_id = r.id) from runs r where r.id = 'run_7'`);
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index (Only )?Scan using run_steps_run_id_idx/);
    expect(plan).not.toMatch(/Seq Scan on run_steps/);
  });
});
