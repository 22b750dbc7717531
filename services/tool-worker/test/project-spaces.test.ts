import { newId, offlineEmbedder } from '@threadwork/shared';
import { dropProjectToolsSpace, projectToolsSpace } from '@threadwork/shared/tools-database';
import { createEmptyDatabase, databaseUrlFor, type TestDatabase } from '@threadwork/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ToolError } from '../src/tool-error.js';
import { createToolRunners, type ToolCallContext, type ToolRunners } from '../src/tools/registry.js';
import { createSqlSpaces, type SqlSpaces } from '../src/tools/sql/sql-spaces.js';
import { createEnvironment, silentLog, type TestEnvironment } from './support/environment.js';

let env: TestEnvironment;
let tools: ToolRunners;
let spaces: SqlSpaces;
const projectA = newId('project');
const projectB = newId('project');
/** A project with its own tools database. */
const projectC = newId('project');
let ownDatabase: TestDatabase;
/** The projects' own tools databases (their `tools_database_url`). */
const ownDatabases = new Map<string, string>();

function sqlSpacesOf(toolsUrl: string): SqlSpaces {
  return createSqlSpaces({
    toolsUrl,
    toolsPool: env.toolsPool,
    defaultReaderUrl: env.readerUrl,
    projectDatabaseUrl: async (projectId) => ownDatabases.get(projectId) ?? null,
    poolSize: 2,
    log: silentLog,
  });
}

beforeAll(async () => {
  env = await createEnvironment(inject('databaseServerUrl'), inject('redisUrl'));
  const { space: _space, pool: _pool, ...sql } = env.sqlDeps({ statementTimeoutMs: 10_000 });
  spaces = sqlSpacesOf(env.toolsUrl);
  tools = createToolRunners({
    catalog: env.db.$client,
    files: { db: env.db, embedder: offlineEmbedder() },
    sql,
    sqlSpaces: spaces,
  });
  ownDatabase = await createEmptyDatabase(env.serverUrl);
});

afterAll(async () => {
  await spaces?.close();
  await ownDatabase?.drop();
  await env?.close();
  const database = decodeURIComponent(new URL(env.toolsUrl).pathname.slice(1));
  const ownName = decodeURIComponent(new URL(ownDatabase.url).pathname.slice(1));
  const roles = [projectA, projectB].flatMap((id) => {
    const space = projectToolsSpace(database, id);
    return [space.ownerRole, space.readerRole];
  });
  roles.push(projectToolsSpace(ownName, projectC).readerRole);
  const admin = new pg.Client({ connectionString: databaseUrlFor(env.serverUrl, 'postgres') });
  await admin.connect();
  for (const role of roles) await admin.query(`drop role if exists "${role}"`);
  await admin.end();
});

function as(ownerId: string): ToolCallContext {
  return { runId: newId('run'), callId: newId('call'), ownerId, signal: new AbortController().signal };
}

async function toolError(promise: Promise<unknown>): Promise<ToolError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  return (await toolError(promise)).code;
}

async function tableNames(ownerId: string): Promise<string[]> {
  const listed = (await tools.list_tables({}, as(ownerId))) as { tables: Array<{ name: string }> };
  return listed.tables.map((table) => table.name);
}

async function createNotes(ownerId: string, name: string): Promise<string> {
  const created = (await tools.create_table(
    { name, columns: [{ name: 'body', type: 'text' }] },
    as(ownerId),
  )) as { created: string };
  await env.toolsPool.query(`insert into ${created.created} (body) values ('secret of ${ownerId}')`);
  return created.created;
}

describe('the SQL tools per project', () => {
  let tableA = '';
  let tableB = '';

  beforeAll(async () => {
    tableA = await createNotes(projectA, 'notes_a');
    tableB = await createNotes(projectB, 'notes_b');
  });

  it('create each project’s tables in its own schema, which only it lists and describes', async () => {
    const [schemaA] = tableA.split('.');
    const [schemaB] = tableB.split('.');
    expect(schemaA).toMatch(/^tw_project_/);
    expect(schemaB).toMatch(/^tw_project_/);
    expect(schemaA).not.toBe(schemaB);
    expect(await tableNames(projectA)).toEqual(['notes_a']);
    expect(await tableNames(projectB)).toEqual(['notes_b']);
    expect(await errorCode(tools.get_schema({ table: 'notes_b' }, as(projectA)))).toBe('not_found');
    expect(await errorCode(tools.get_schema({ table: 'notes_b', schema: schemaB }, as(projectA)))).toBe(
      'not_found',
    );
    expect(await tools.get_schema({ table: 'notes_a' }, as(projectA))).toMatchObject({
      schema: schemaA,
      name: 'notes_a',
    });
    const listedOther = (await tools.list_tables({ schema: schemaB }, as(projectA))) as { count: number };
    expect(listedOther.count).toBe(0);
  });

  it('keep the default project on the seeded public schema, without the projects’ schemas', async () => {
    const names = await tableNames('proj_default');
    expect(names).toEqual(expect.arrayContaining(['customers', 'orders']));
    expect(names).not.toContain('notes_a');
    expect(await tableNames(projectA)).not.toContain('customers');
  });

  it('let run_sql read its own project’s table, unqualified and qualified', async () => {
    const own = (await tools.run_sql({ query: 'select body from notes_a' }, as(projectA))) as {
      rows: unknown[][];
    };
    expect(own.rows).toEqual([[`secret of ${projectA}`]]);
    const qualified = (await tools.run_sql({ query: `select body from ${tableA}` }, as(projectA))) as {
      rows: unknown[][];
    };
    expect(qualified.rows).toEqual(own.rows);
  });

  it('refuse run_sql on another project’s table, qualified or not, and on the default project’s public', async () => {
    // A Postgres error: the tool worker answers it as sql_error, with the message.
    const unqualified = await tools
      .run_sql({ query: 'select body from notes_b' }, as(projectA))
      .catch((e) => e);
    expect(unqualified).toMatchObject({ code: '42P01', message: 'relation "notes_b" does not exist' });
    const qualified = await toolError(tools.run_sql({ query: `select body from ${tableB}` }, as(projectA)));
    expect(qualified).toMatchObject({ code: 'refused', message: expect.stringMatching(/permission denied/) });
    const fromDefault = await toolError(
      tools.run_sql({ query: `select body from ${tableA}` }, as('proj_default')),
    );
    expect(fromDefault).toMatchObject({
      code: 'refused',
      message: expect.stringMatching(/permission denied/),
    });
    const demo = await toolError(tools.run_sql({ query: 'select * from public.customers' }, as(projectA)));
    expect(demo).toMatchObject({ code: 'refused', message: expect.stringMatching(/permission denied/) });
  });

  it('show run_sql no other project’s tables through information_schema', async () => {
    const listed = (await tools.run_sql(
      {
        query:
          "select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')",
      },
      as(projectA),
    )) as { rows: unknown[][] };
    expect(listed.rows).toEqual([[tableA.split('.')[0], 'notes_a']]);
  });

  it('name no project id in the catalog that every reader can list', async () => {
    const names = (await tools.run_sql(
      { query: 'select nspname from pg_namespace union all select rolname from pg_roles' },
      as(projectB),
    )) as { rows: string[][] };
    expect(names.rows.flat().join(' ')).not.toContain(projectA.toLowerCase());
    expect(names.rows.flat().join(' ')).not.toContain(projectA);
  });

  it('refuse create_table and drop_table in another project’s schema', async () => {
    const [schemaB] = tableB.split('.');
    const drop = await toolError(
      tools.drop_table({ table: 'notes_b', schema: schemaB, confirm: 'notes_b' }, as(projectA)),
    );
    expect(drop).toMatchObject({ code: 'refused', message: expect.stringMatching(/not this project's/) });
    expect(await errorCode(tools.drop_table({ table: 'notes_b', confirm: 'notes_b' }, as(projectA)))).toBe(
      'not_found',
    );
    const create = await toolError(
      tools.create_table(
        { schema: schemaB, name: 'planted', columns: [{ name: 'a', type: 'text' }] },
        as(projectA),
      ),
    );
    expect(create.code).toBe('refused');
    const fromDefault = await toolError(
      tools.drop_table({ table: 'notes_b', schema: schemaB, confirm: 'notes_b' }, as('proj_default')),
    );
    expect(fromDefault.code).toBe('refused');
    expect(await tableNames(projectB)).toEqual(['notes_b']);
  });

  it('drop a project’s own table', async () => {
    await createNotes(projectA, 'scratch');
    expect(await tools.drop_table({ table: 'scratch', confirm: 'scratch' }, as(projectA))).toMatchObject({
      dropped: `${tableA.split('.')[0]}.scratch`,
    });
  });

  it('hide one project’s running query from another’s run_sql in pg_stat_activity', async () => {
    const marker = `sleep_${Date.now()}`;
    const slow = tools.run_sql({ query: `select pg_sleep(3) as ${marker}` }, as(projectA));
    const deadline = Date.now() + 5_000;
    for (;;) {
      const seen = await env.toolsPool.query(
        "select 1 from pg_stat_activity where query like '%' || $1 || '%' and pid <> pg_backend_pid()",
        [marker],
      );
      if (seen.rowCount) break;
      if (Date.now() > deadline) throw new Error('project A’s query never showed up in pg_stat_activity');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seenByB = (await tools.run_sql(
      {
        query:
          "select usename, query from pg_stat_activity where pid <> pg_backend_pid() and application_name like 'threadwork run_sql%'",
      },
      as(projectB),
    )) as { rows: string[][] };
    expect(seenByB.rows.length).toBeGreaterThan(0);
    for (const [, query] of seenByB.rows) expect(query).not.toContain(marker);
    await slow;
  });
});

describe('the SQL tools of a project when the tools connection may not create roles', () => {
  it('answer unavailable instead of acting in a shared space', async () => {
    const role = `tw_plain_${Date.now()}`;
    await env.toolsPool.query(`create role "${role}" login password 'plain'`);
    try {
      const url = new URL(env.toolsUrl);
      url.username = role;
      url.password = 'plain';
      const { space: _space, pool: _pool, ...sql } = env.sqlDeps();
      const plain = createToolRunners({
        catalog: env.db.$client,
        files: { db: env.db, embedder: offlineEmbedder() },
        sql,
        sqlSpaces: sqlSpacesOf(url.toString()),
      });
      const error = await toolError(plain.list_tables({}, as(newId('project'))));
      expect(error).toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/may not create roles/),
      });
    } finally {
      await env.toolsPool.query(`drop role "${role}"`);
    }
  });
});

describe('the SQL tools of a project with its own tools database', () => {
  let own: pg.Pool;

  beforeAll(async () => {
    own = new pg.Pool({ connectionString: ownDatabase.url, max: 2 });
    await own.query(
      "create table garden_beds (id int primary key, plant text); insert into garden_beds values (1, 'kale')",
    );
    ownDatabases.set(projectC, ownDatabase.url);
  });

  afterAll(async () => {
    await own?.end();
  });

  it("act there, on its tables, reading as the project's own read-only login", async () => {
    expect(await tableNames(projectC)).toEqual(['garden_beds']);
    const read = (await tools.run_sql(
      { query: 'select plant, current_user from garden_beds' },
      as(projectC),
    )) as { rows: unknown[][] };
    const reader = projectToolsSpace(
      decodeURIComponent(new URL(ownDatabase.url).pathname.slice(1)),
      projectC,
    );
    expect(read.rows).toEqual([['kale', reader.readerRole]]);
    await tools.create_table({ name: 'harvests', columns: [{ name: 'kg', type: 'numeric' }] }, as(projectC));
    const created = await own.query(
      "select 1 from pg_tables where schemaname = 'public' and tablename = 'harvests'",
    );
    expect(created.rowCount).toBe(1);
    expect(await tableNames(projectC)).toEqual(['garden_beds', 'harvests']);
    expect(await tableNames('proj_default')).not.toContain('harvests');
  });

  it("keep its tables when the project goes: only the project's login is dropped", async () => {
    await dropProjectToolsSpace(ownDatabase.url, projectC);
    const kept = await own.query("select count(*)::int as n from pg_tables where schemaname = 'public'");
    expect(kept.rows).toEqual([{ n: 2 }]);
    const reader = projectToolsSpace(
      decodeURIComponent(new URL(ownDatabase.url).pathname.slice(1)),
      projectC,
    );
    expect((await own.query('select 1 from pg_roles where rolname = $1', [reader.readerRole])).rowCount).toBe(
      0,
    );
  });

  it('answer unavailable, without the address, when the database cannot be reached', async () => {
    const project = newId('project');
    ownDatabases.set(project, 'postgres://tw:hunter2@127.0.0.1:1/nowhere');
    const error = await toolError(tools.list_tables({}, as(project)));
    expect(error.code).toBe('unavailable');
    expect(error.message).not.toMatch(/hunter2|127\.0\.0\.1|nowhere/);
  });
});

describe("dropping a project's space in the deployment's tools database", () => {
  it('drops its schema with its tables and its roles, and then has nothing left to do', async () => {
    const project = newId('project');
    const table = await createNotes(project, 'leftovers');
    const [schemaName] = table.split('.');
    const space = projectToolsSpace(decodeURIComponent(new URL(env.toolsUrl).pathname.slice(1)), project);
    await dropProjectToolsSpace(env.toolsUrl, project);
    const schemas = await env.toolsPool.query('select 1 from pg_namespace where nspname = $1', [schemaName]);
    expect(schemas.rowCount).toBe(0);
    const roles = await env.toolsPool.query('select 1 from pg_roles where rolname = any($1::text[])', [
      [space.ownerRole, space.readerRole],
    ]);
    expect(roles.rowCount).toBe(0);
    await dropProjectToolsSpace(env.toolsUrl, project);
    expect(await tableNames(projectA)).toEqual(['notes_a']);
  });
});
