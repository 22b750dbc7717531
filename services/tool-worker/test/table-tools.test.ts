import { builtinToolParameters, newId } from '@threadwork/shared';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ToolError } from '../src/tool-error.js';
import { createTable } from '../src/tools/sql/create-table.js';
import { dropTable } from '../src/tools/sql/drop-table.js';
import { getSchema } from '../src/tools/sql/get-schema.js';
import { runSql } from '../src/tools/sql/run-sql.js';
import { createEnvironment, type TestEnvironment } from './support/environment.js';

let env: TestEnvironment;

beforeAll(async () => {
  env = await createEnvironment(inject('databaseServerUrl'), inject('redisUrl'));
  await env.toolsPool.query('create schema audit; create schema archive; create table audit.events (id int)');
});

afterAll(async () => {
  await env?.close();
});

const deps = () => env.sqlDeps({ protectedSchemas: ['audit'] });

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (caught: unknown) => caught,
  );
}

async function toolError(promise: Promise<unknown>): Promise<ToolError> {
  const error = await failureOf(promise);
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

async function tableExists(schema: string, name: string): Promise<boolean> {
  const found = await env.toolsPool.query('select to_regclass($1) as oid', [`"${schema}"."${name}"`]);
  return found.rows[0]?.oid !== null;
}

describe('create_table', () => {
  it('creates a table from structured columns, readable by run_sql', async () => {
    const result = await createTable(deps(), {
      name: 'reviews',
      columns: [
        { name: 'id', type: 'uuid', default: 'gen_random_uuid()' },
        {
          name: 'customer_id',
          type: 'integer',
          not_null: true,
          references: { table: 'customers', column: 'id' },
        },
        { name: 'title', type: 'varchar', length: 120, not_null: true },
        { name: 'body', type: 'text', default: "''" },
        { name: 'stars', type: 'smallint' },
        { name: 'verified', type: 'boolean', default: 'false' },
        { name: 'created_at', type: 'timestamptz', default: 'now()' },
        { name: 'user', type: 'text', unique: true },
      ],
      primary_key: ['id'],
      enable_rls: true,
    });
    expect(result).toMatchObject({
      created: 'public.reviews',
      primary_key: ['id'],
      row_level_security: true,
    });
    expect(result.sql).toContain('"title" varchar(120) not null');
    const schema = await getSchema(deps(), { table: 'reviews' });
    expect(
      schema.columns.map((column: { name: string; type: string }) => [column.name, column.type]),
    ).toEqual([
      ['id', 'uuid'],
      ['customer_id', 'integer'],
      ['title', 'character varying(120)'],
      ['body', 'text'],
      ['stars', 'smallint'],
      ['verified', 'boolean'],
      ['created_at', 'timestamp with time zone'],
      ['user', 'text'],
    ]);
    expect(schema.foreign_keys[0]?.references).toEqual({
      schema: 'public',
      table: 'customers',
      columns: ['id'],
    });
    expect(schema.unique_constraints[0]?.columns).toEqual(['user']);
    expect(schema.row_level_security.enabled).toBe(true);
    const context = {
      runId: newId('run'),
      callId: newId('call'),
      ownerId: 'owner',
      signal: new AbortController().signal,
    };
    const read = await runSql(deps(), { query: 'select count(*) from reviews' }, context);
    expect(read.rows).toEqual([[0]]);
  });

  it('creates tables in other existing schemas', async () => {
    await createTable(deps(), {
      schema: 'archive',
      name: 'old_orders',
      columns: [{ name: 'id', type: 'bigint' }],
    });
    expect(await tableExists('archive', 'old_orders')).toBe(true);
  });

  it('refuses an existing table', async () => {
    const error = await toolError(
      createTable(deps(), { name: 'customers', columns: [{ name: 'id', type: 'integer' }] }),
    );
    expect(error).toMatchObject({ code: 'refused', message: expect.stringMatching(/already exists/) });
  });

  it('refuses system and protected schemas, and names a missing schema', async () => {
    for (const schema of ['pg_catalog', 'information_schema', 'pg_toast', 'audit']) {
      const error = await toolError(
        createTable(deps(), { schema, name: 'planted', columns: [{ name: 'a', type: 'text' }] }),
      );
      expect(error.code).toBe('refused');
    }
    const missing = await toolError(
      createTable(deps(), { schema: 'nope', name: 't', columns: [{ name: 'a', type: 'text' }] }),
    );
    expect(missing.code).toBe('not_found');
  });

  it('refuses inconsistent columns', async () => {
    const twice = await toolError(
      createTable(deps(), {
        name: 't1',
        columns: [
          { name: 'a', type: 'text' },
          { name: 'a', type: 'text' },
        ],
      }),
    );
    expect(twice.message).toMatch(/listed twice/);
    const key = await toolError(
      createTable(deps(), { name: 't2', columns: [{ name: 'a', type: 'text' }], primary_key: ['b'] }),
    );
    expect(key.message).toMatch(/unknown column\(s\): b/);
    const length = await toolError(
      createTable(deps(), { name: 't3', columns: [{ name: 'a', type: 'integer', length: 5 }] }),
    );
    expect(length.message).toMatch(/varchar columns only/);
  });

  it('reports what the database refuses, such as a foreign key to a missing table', async () => {
    const error = await failureOf(
      createTable(deps(), {
        name: 'orphans',
        columns: [{ name: 'ref', type: 'integer', references: { table: 'missing', column: 'id' } }],
      }),
    );
    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect(await tableExists('public', 'orphans')).toBe(false);
  });

  it('accepts only allow-listed identifiers, types and defaults in its arguments', () => {
    const parse = (args: unknown) => builtinToolParameters.create_table.safeParse(args).success;
    const column = { name: 'a', type: 'text' };
    expect(parse({ name: 'ok_table', columns: [column] })).toBe(true);
    expect(parse({ name: 'x"; drop table customers; --', columns: [column] })).toBe(false);
    expect(parse({ name: 'Mixed', columns: [column] })).toBe(false);
    expect(parse({ name: 't', columns: [{ name: 'a', type: 'text; drop table customers' }] })).toBe(false);
    expect(
      parse({ name: 't', columns: [{ name: 'a', type: 'text', default: "pg_read_file('/etc/passwd')" }] }),
    ).toBe(false);
    expect(parse({ name: 't', columns: [{ ...column, references: { table: 'c"x', column: 'id' } }] })).toBe(
      false,
    );
  });
});

describe('drop_table', () => {
  it('requires confirm to equal the table name', async () => {
    await env.toolsPool.query('create table scratch (a int)');
    const error = await toolError(dropTable(deps(), { table: 'scratch', confirm: 'yes' }));
    expect(error).toMatchObject({
      code: 'refused',
      message: expect.stringMatching(/confirm must equal the table name 'scratch'/),
    });
    expect(await tableExists('public', 'scratch')).toBe(true);
    expect(await dropTable(deps(), { table: 'scratch', confirm: 'public.scratch' })).toEqual({
      dropped: 'public.scratch',
      cascade: false,
      also_dropped: [],
    });
    expect(await tableExists('public', 'scratch')).toBe(false);
  });

  it('refuses system and protected schemas', async () => {
    for (const [schema, table] of [
      ['pg_catalog', 'pg_class'],
      ['information_schema', 'sql_features'],
      ['audit', 'events'],
    ] as const) {
      const error = await toolError(dropTable(deps(), { schema, table, confirm: table }));
      expect(error.code).toBe('refused');
      expect(await tableExists(schema, table)).toBe(true);
    }
  });

  it('refuses views and missing tables', async () => {
    const view = await toolError(
      dropTable(deps(), { table: 'customer_order_totals', confirm: 'customer_order_totals' }),
    );
    expect(view.message).toMatch(/not a table/);
    const missing = await toolError(dropTable(deps(), { table: 'ghost', confirm: 'ghost' }));
    expect(missing.code).toBe('not_found');
  });

  it('refuses a table others depend on unless cascade is true', async () => {
    await env.toolsPool.query(`
      create table parent (id int primary key);
      create table child (parent_id int references parent (id));
      create view parent_ids as select id from parent;`);
    const error = await toolError(dropTable(deps(), { table: 'parent', confirm: 'parent' }));
    expect(error.code).toBe('refused');
    expect(error.message).toMatch(/view parent_ids depends on table parent/);
    expect(error.message).toMatch(/cascade: true/);
    expect(await tableExists('public', 'parent')).toBe(true);
    const dropped = await dropTable(deps(), { table: 'parent', confirm: 'parent', cascade: true });
    expect(dropped.also_dropped.sort()).toEqual([
      'constraint child_parent_id_fkey on table child',
      'view parent_ids',
    ]);
    expect(await tableExists('public', 'parent')).toBe(false);
    expect(await tableExists('public', 'child')).toBe(true);
  });
});
