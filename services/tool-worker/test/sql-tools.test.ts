import { newId } from '@threadwork/shared';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ToolError } from '../src/tool-error.js';
import { getSchema } from '../src/tools/sql/get-schema.js';
import { listTables } from '../src/tools/sql/list-tables.js';
import { executeReadOnly, runSql } from '../src/tools/sql/run-sql.js';
import { databaseChecksum } from './support/checksum.js';
import { createEnvironment, type TestEnvironment } from './support/environment.js';

let env: TestEnvironment;

beforeAll(async () => {
  env = await createEnvironment(inject('databaseServerUrl'), inject('redisUrl'));
});

afterAll(async () => {
  await env?.close();
});

function context() {
  return {
    runId: newId('run'),
    callId: newId('call'),
    ownerId: newId('apiKey'),
    signal: new AbortController().signal,
  };
}

async function toolError(promise: Promise<unknown>): Promise<ToolError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

describe('list_tables', () => {
  it('lists the seeded tables and view with kind, estimated rows and comment', async () => {
    const result = await listTables(env.sqlDeps(), {});
    expect(result.tables).toEqual([
      {
        schema: 'public',
        name: 'customer_order_totals',
        kind: 'view',
        estimated_rows: null,
        comment: 'Orders and money spent per customer, cancelled orders excluded.',
      },
      {
        schema: 'public',
        name: 'customers',
        kind: 'table',
        estimated_rows: 5,
        comment: 'People who buy from the shop.',
      },
      {
        schema: 'public',
        name: 'order_items',
        kind: 'table',
        estimated_rows: 7,
        comment: 'The lines of an order.',
      },
      {
        schema: 'public',
        name: 'orders',
        kind: 'table',
        estimated_rows: 6,
        comment: 'One order per checkout; total is the sum of its items.',
      },
    ]);
    expect(result.count).toBe(4);
  });

  it('filters by schema', async () => {
    expect((await listTables(env.sqlDeps(), { schema: 'nowhere' })).tables).toEqual([]);
  });
});

describe('get_schema', () => {
  it('describes columns, keys, constraints, indexes and row-level security', async () => {
    const orders = await getSchema(env.sqlDeps(), { table: 'orders' });
    expect(orders).toMatchObject({ schema: 'public', name: 'orders', kind: 'table' });
    expect(orders.columns).toContainEqual({
      name: 'status',
      type: 'text',
      nullable: false,
      default: "'pending'::text",
      comment: null,
      identity: null,
      generated: null,
    });
    expect(orders.columns.map((column: { name: string }) => column.name)).toEqual([
      'id',
      'customer_id',
      'status',
      'ordered_at',
      'total',
    ]);
    expect(orders.primary_key).toEqual({ name: 'orders_pkey', columns: ['id'] });
    expect(orders.foreign_keys).toEqual([
      {
        name: 'orders_customer_id_fkey',
        columns: ['customer_id'],
        references: { schema: 'public', table: 'customers', columns: ['id'] },
        on_update: 'no action',
        on_delete: 'no action',
      },
    ]);
    expect(orders.check_constraints.map((check: { definition: string }) => check.definition)).toEqual(
      expect.arrayContaining([expect.stringContaining('status'), expect.stringContaining('total >= 0')]),
    );
    expect(orders.indexes.map((index: { name: string }) => index.name)).toEqual([
      'orders_customer_id_idx',
      'orders_pkey',
    ]);
    expect(orders.row_level_security).toEqual({ enabled: false, forced: false, policies: [] });
  });

  it('describes composite keys, unique constraints and views', async () => {
    const items = await getSchema(env.sqlDeps(), { table: 'order_items', schema: 'public' });
    expect(items.primary_key?.columns).toEqual(['order_id', 'line_no']);
    expect(items.foreign_keys[0]?.on_delete).toBe('cascade');
    const customers = await getSchema(env.sqlDeps(), { table: 'customers' });
    expect(customers.unique_constraints).toEqual([{ name: 'customers_email_key', columns: ['email'] }]);
    const view = await getSchema(env.sqlDeps(), { table: 'customer_order_totals' });
    expect(view.kind).toBe('view');
    expect(view.view_definition).toMatch(/^SELECT/);
  });

  it('answers an unknown table with a not_found error', async () => {
    const error = await toolError(getSchema(env.sqlDeps(), { table: 'invoices' }));
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/list_tables/);
  });
});

describe('run_sql', () => {
  it('returns columns with their types and rows as JSON values', async () => {
    const result = await runSql(
      env.sqlDeps(),
      {
        query:
          'select c.id, c.name, count(o.id) as orders, sum(o.total) as spent, min(o.ordered_at) as first, true as flag ' +
          "from customers c join orders o on o.customer_id = c.id where c.country = 'GB' group by c.id",
      },
      context(),
    );
    expect(result).toEqual({
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'text' },
        { name: 'orders', type: 'bigint' },
        { name: 'spent', type: 'numeric' },
        { name: 'first', type: 'timestamp with time zone' },
        { name: 'flag', type: 'boolean' },
      ],
      rows: [[1, 'Ada Lovelace', 2, '84.47', '2024-04-02 10:00:00+00', true]],
      row_count: 1,
      truncated: false,
    });
  });

  it('runs WITH, VALUES, EXPLAIN and SHOW', async () => {
    const withQuery = await runSql(
      env.sqlDeps(),
      { query: 'with t as (select 2 as n) select n * 2 from t' },
      context(),
    );
    expect(withQuery.rows).toEqual([[4]]);
    const values = await runSql(env.sqlDeps(), { query: "values (1, 'a'), (2, 'b')" }, context());
    expect(values.rows).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    const explain = await runSql(
      env.sqlDeps(),
      { query: 'explain select * from orders where id = 1' },
      context(),
    );
    expect(explain.columns).toEqual([{ name: 'QUERY PLAN', type: 'text' }]);
    const show = await runSql(env.sqlDeps(), { query: 'show transaction_read_only' }, context());
    expect(show.rows).toEqual([['on']]);
  });

  it('runs as the read-only role', async () => {
    const result = await runSql(env.sqlDeps(), { query: 'select current_user, session_user' }, context());
    expect(result.rows).toEqual([[env.readerRole, env.readerRole]]);
  });

  it('caps the rows and says so', async () => {
    const result = await runSql(
      env.sqlDeps({ maxRows: 3 }),
      { query: 'select generate_series(1, 1000000) as n' },
      context(),
    );
    expect(result.rows).toEqual([[1], [2], [3]]);
    expect(result.truncated).toBe(true);
    expect(result.note).toMatch(/more than 3 rows; only the first 3 are shown/);
  });

  it('caps the result size and long values, and says so', async () => {
    const sized = await runSql(
      env.sqlDeps({ maxResultBytes: 1_000 }),
      { query: "select n, repeat('x', 100) as filler from generate_series(1, 50) n" },
      context(),
    );
    expect(sized.truncated).toBe(true);
    expect(sized.row_count).toBeGreaterThan(0);
    expect(sized.row_count).toBeLessThan(50);
    expect(JSON.stringify(sized.rows).length).toBeLessThanOrEqual(1_000);
    expect(sized.note).toMatch(/exceeded 1000 bytes/);
    const long = await runSql(env.sqlDeps(), { query: "select repeat('y', 5000) as big" }, context());
    expect(String(long.rows[0]?.[0])).toMatch(/^y{2000}… \[3000 more characters\]$/);
    expect(long.note).toMatch(/longer than 2000 characters were cut/);
  });

  it('cuts a value Node could not hold inside Postgres, and says so', async () => {
    const result = await runSql(
      env.sqlDeps({ statementTimeoutMs: 20_000 }),
      { query: "select repeat('x', 540000000) as big, 1 as small;" },
      context(),
    );
    expect(result.columns).toEqual([
      { name: 'big', type: 'text' },
      { name: 'small', type: 'integer' },
    ]);
    expect(result.rows).toEqual([[`${'x'.repeat(2000)}… [539998000 more characters]`, 1]]);
    expect(result.truncated).toBe(true);
    expect(result.note).toMatch(/longer than 2000 characters were cut/);
  });

  it('cuts a long aggregate and a long value of any type, keeping the others as JSON values', async () => {
    const result = await runSql(
      env.sqlDeps({ statementTimeoutMs: 20_000 }),
      {
        query:
          "select string_agg(repeat('é', 1000), ',') as joined, array_agg(n) as numbers, " +
          "jsonb_build_object('n', count(*)) as counted, 1 as one, 1 as one from generate_series(1, 100000) n",
      },
      context(),
    );
    expect(result.columns.map((column) => column.name)).toEqual([
      'joined',
      'numbers',
      'counted',
      'one',
      'one',
    ]);
    const [joined, numbers, counted, ...ones] = result.rows[0] ?? [];
    expect(joined).toMatch(/^é{1000},é{999}… \[100097999 more characters\]$/);
    expect(numbers).toMatch(/^\{1,2,3,.*… \[\d+ more characters\]$/);
    expect(counted).toEqual({ n: 100000 });
    expect(ones).toEqual([1, 1]);
  });

  it('stops sending rows of large values once they pass the size cap', async () => {
    const result = await runSql(
      env.sqlDeps({ maxResultBytes: 10_000 }),
      {
        query: 'select n, repeat(chr(64 + n), 1999) as filler from generate_series(1, 50) n order by n desc',
      },
      context(),
    );
    expect(result.rows.map((row) => row[0])).toEqual([50, 49, 48, 47]);
    expect(result.rows[0]?.[1]).toBe(String.fromCharCode(114).repeat(1999));
    expect(result.truncated).toBe(true);
    expect(result.note).toMatch(/exceeded 10000 bytes; only the first 4 rows are shown/);
  });

  it('bounds a wide row of many long values', async () => {
    const columns = Array.from({ length: 500 }, (_, index) => `repeat('w', 100000) as c${index}`);
    const result = await runSql(
      env.sqlDeps({ statementTimeoutMs: 20_000 }),
      { query: `select ${columns.join(', ')} from generate_series(1, 3)` },
      context(),
    );
    expect(result.columns).toHaveLength(500);
    expect(result.rows).toEqual([]);
    expect(result.note).toMatch(/exceeded 65536 bytes; only the first 0 rows are shown/);
  });

  it('answers a query without columns, and refuses one wider than the bound can carry', async () => {
    const empty = await runSql(env.sqlDeps(), { query: 'select from customers' }, context());
    expect(empty).toMatchObject({ columns: [], rows: [[], [], [], [], []], row_count: 5 });
    const columns = Array.from({ length: 1_663 }, (_, index) => `${index}`);
    const error = await toolError(
      runSql(env.sqlDeps(), { query: `select ${columns.join(', ')}` }, context()),
    );
    expect(error).toMatchObject({ code: 'refused', message: expect.stringMatching(/at most 1662 columns/) });
  });

  it('cancels a query that runs past the statement timeout', async () => {
    const started = Date.now();
    const error = await toolError(
      runSql(env.sqlDeps({ statementTimeoutMs: 300 }), { query: 'select pg_sleep(30)' }, context()),
    );
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/longer than 300 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('answers unavailable, and never falls back to another role, when the read-only login fails', async () => {
    const missingRole = new URL(env.readerUrl);
    missingRole.username = 'no_such_reader';
    const error = await toolError(
      runSql(
        { ...env.sqlDeps(), space: { ...env.sqlDeps().space, readerUrl: missingRole.toString() } },
        { query: 'select 1' },
        context(),
      ),
    );
    expect(error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/read-only role/) });
  });

  it('reports SQL errors with their message', async () => {
    const error = await runSql(
      env.sqlDeps(),
      { query: 'select missing_column from customers' },
      context(),
    ).catch((caught: unknown) => caught as { message: string });
    expect(error).toMatchObject({ message: expect.stringMatching(/column "missing_column" does not exist/) });
  });
});

/** Write and escape attempts: each is refused, by the guard or by the database, and nothing changes. */
const attacks = [
  'delete from customers',
  'update orders set total = 0',
  "insert into customers (name, email) values ('x', 'x@example.com')",
  'truncate order_items',
  'drop table order_items',
  'create table stolen as select * from customers',
  'alter table customers add column pwned int',
  'with gone as (delete from order_items returning *) select count(*) from gone',
  'with changed as (update customers set name = $$x$$ returning id) select * from changed',
  "with added as (insert into customers (name, email) values ('x', 'y') returning id) select * from added",
  'select * into customers_copy from customers',
  'select * from customers for update',
  'select * from orders for share nowait',
  'select 1; delete from customers',
  'select 1;/* a comment */drop table orders',
  "select 'a'; update customers set name = 'b'",
  'select 1 -- harmless\n; delete from orders',
  "select nextval('orders_id_seq')",
  "select setval('customers_id_seq', 1000)",
  "select pg_catalog.set_config('role', 'postgres', true)",
  "select set_config('transaction_read_only', 'off', false)",
  "select \"set_config\"('statement_timeout', '0', false)",
  "select pg_read_file('/etc/passwd')",
  "select * from pg_ls_dir('.')",
  "select lo_import('/etc/passwd')",
  "select lo_from_bytea(0, 'planted')",
  'select lo_create(0)',
  'select pg_advisory_lock(42)',
  "select pg_notify('channel', 'hello')",
  'select pg_terminate_backend(pg_backend_pid())',
  "select pg_logical_emit_message(false, 'x', 'y')",
  "select * from dblink('dbname=postgres', 'select 1') as t(a int)",
  "select query_to_xml('delete from customers returning 1', true, true, '')",
  'copy customers to stdout',
  "copy customers from program 'true'",
  'call do_something()',
  "do $$ begin execute 'delete from customers'; end $$",
  'set statement_timeout = 0',
  'set role postgres',
  'reset session authorization',
  'lock table customers in access exclusive mode',
  'begin',
  'commit',
  'explain analyze delete from customers',
  'explain (analyze) update orders set total = 1',
  'vacuum customers',
  'prepare wipe as delete from customers',
  'select * from pg_authid',
  "select current_setting('data_directory')",
  'select pg_sleep(60)',
];

describe('run_sql refusals', () => {
  it(`refuses ${attacks.length} write and escape attempts and leaves the database unchanged`, async () => {
    const before = await databaseChecksum(env.toolsPool);
    const deps = env.sqlDeps({ statementTimeoutMs: 300 });
    const outcomes = await Promise.all(
      attacks.map(async (query) => {
        const error = await runSql(deps, { query }, context()).then(
          () => null,
          (caught: unknown) => caught,
        );
        return { query, code: error instanceof ToolError ? error.code : String(error) };
      }),
    );
    const admitted = outcomes.filter((outcome) => outcome.code !== 'refused' && outcome.code !== 'timeout');
    expect(admitted).toEqual([]);
    expect(outcomes.find((outcome) => outcome.query === 'select pg_sleep(60)')?.code).toBe('timeout');
    expect(await databaseChecksum(env.toolsPool)).toBe(before);
  });

  it('is refused by the database itself when the parser guard is bypassed', async () => {
    const before = await databaseChecksum(env.toolsPool);
    const unguarded = [
      'delete from customers',
      'with gone as (delete from order_items returning *) select count(*) from gone',
      'select * from customers for update',
      'select * into customers_copy from customers',
      "select nextval('orders_id_seq')",
      "select setval('customers_id_seq', 1000)",
      "select set_config('role', 'postgres', true)",
      "select set_config('session_authorization', 'postgres', true)",
      "select set_config('log_statement', 'all', true)",
      "select pg_read_file('/etc/passwd')",
      "select lo_import('/etc/passwd')",
      "select lo_from_bytea(0, 'planted')",
      'select lo_create(0)',
      'select pg_advisory_lock(42)',
      "select pg_notify('channel', 'hello')",
      'select pg_terminate_backend(pg_backend_pid())',
      "select pg_logical_emit_message(false, 'x', 'y')",
      "select query_to_xml('delete from customers returning 1', true, true, '')",
      'set role postgres',
      'create temporary table scratch (a int)',
    ];
    const limits = env.sqlDeps().limits;
    for (const query of unguarded) {
      // Sent as written (not wrapped as a subquery), so that what refuses it is the database alone.
      const statement = { text: query, isQuery: false };
      const outcome = await executeReadOnly(env.readerUrl, statement, limits, context()).then(
        () => 'executed',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      expect({ query, outcome }).toEqual({
        query,
        outcome: expect.stringMatching(
          /read-only transaction|permission denied|not allowed in a non-volatile function/,
        ),
      });
    }
    expect(await databaseChecksum(env.toolsPool)).toBe(before);
  });
});
