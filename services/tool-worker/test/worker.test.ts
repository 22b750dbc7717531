import { newId, schema } from '@threadwork/shared';
import { importCatalog } from '@threadwork/shared/catalog';
import { projectToolsSpace } from '@threadwork/shared/tools-database';
import { databaseUrlFor, waitFor } from '@threadwork/testing';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startToolWorker, type ToolWorker } from '../src/worker.js';
import { createEnvironment, silentLog, type TestEnvironment } from './support/environment.js';
import { createToolQueue, type ToolQueue } from './support/queue.js';
import { type CallSpec, insertToolCalls } from './support/rows.js';

let env: TestEnvironment;
let worker: ToolWorker;
let tools: ToolQueue;
const otherProject = newId('project');

beforeAll(async () => {
  env = await createEnvironment(inject('databaseServerUrl'), inject('redisUrl'));
  const config = env.config({ TOOL_TIMEOUT_MS: '15000,run_sql=1500', RUN_SQL_STATEMENT_TIMEOUT_MS: '10000' });
  worker = await startToolWorker(config, silentLog);
  tools = await createToolQueue(config);
});

afterAll(async () => {
  await tools?.close();
  await worker?.close();
  await env?.close();
  // Roles belong to the server; the project's space made them for this file's tools database only.
  const { ownerRole, readerRole } = projectToolsSpace(new URL(env.toolsUrl).pathname.slice(1), otherProject);
  const admin = new pg.Client({ connectionString: databaseUrlFor(env.serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`drop role if exists "${ownerRole}", "${readerRole}"`).finally(() => admin.end());
});

async function invokeOne(call: CallSpec, options: Parameters<typeof insertToolCalls>[2] = {}) {
  const inserted = await insertToolCalls(env.db, [call], options);
  const callId = inserted.callIds[0] ?? '';
  const result = await tools.invoke({ runId: inserted.runId, stepId: inserted.stepId, callId });
  const [execution] = await env.db
    .select()
    .from(schema.toolExecutions)
    .where(eq(schema.toolExecutions.callId, callId));
  return { ...inserted, callId, result, execution, output: JSON.parse(result.output) };
}

describe('tool.invoke jobs', () => {
  it('execute the call and record it in tool_executions', async () => {
    const { result, output, execution, callId, runId, ownerId } = await invokeOne({
      name: 'list_tables',
      arguments: {},
    });
    expect(result).toMatchObject({ callId, isError: false });
    expect(output.tables.map((table: { name: string }) => table.name)).toContain('orders');
    expect(execution).toMatchObject({
      callId,
      runId,
      ownerId,
      tool: 'list_tables',
      arguments: {},
      status: 'succeeded',
      output: result.output,
      error: null,
    });
    expect(execution?.durationMs).toBeGreaterThanOrEqual(0);
    expect(execution?.finishedAt).toBeInstanceOf(Date);
  });

  it("act in the run's project: another project sees its own schema, not the default project's demo", async () => {
    const created = await invokeOne(
      { name: 'create_table', arguments: { name: 'notes', columns: [{ name: 'body', type: 'text' }] } },
      { ownerId: otherProject },
    );
    expect(created.output.created).toMatch(/^tw_project_[0-9a-f]{20}\.notes$/);
    const listed = await invokeOne({ name: 'list_tables', arguments: {} }, { ownerId: otherProject });
    expect(listed.output.tables.map((table: { name: string }) => table.name)).toEqual(['notes']);
    const demo = await invokeOne(
      { name: 'run_sql', arguments: { query: 'select * from public.customers' } },
      { ownerId: otherProject },
    );
    expect(demo.output).toMatchObject({ code: 'refused', error: expect.stringMatching(/permission denied/) });
  });
  it("run product tools against their project's catalog", async () => {
    await importCatalog(env.db, schema.DEFAULT_PROJECT_ID, {
      products: [
        { id: 'tea', name: 'Green Tea', description: 'Sencha from Japan', price: 4.5, currency: 'EUR' },
      ],
    });
    const search = await invokeOne({ name: 'search_products', arguments: { query: 'gren tea' } });
    expect(search.output).toMatchObject({ count: 1, products: [{ id: 'tea' }] });
    const show = await invokeOne({ name: 'show_products', arguments: { product_ids: ['tea'] } });
    expect(show.output).toEqual({
      products: [
        {
          id: 'tea',
          name: 'Green Tea',
          price: 4.5,
          currency: 'EUR',
          image_url: null,
          url: null,
          description: 'Sencha from Japan',
        },
      ],
      missing: [],
    });
    const elsewhere = { ownerId: otherProject };
    const searched = await invokeOne({ name: 'search_products', arguments: { query: 'tea' } }, elsewhere);
    expect(searched.output).toEqual({ count: 0, products: [] });
    const shown = await invokeOne({ name: 'show_products', arguments: { product_ids: ['tea'] } }, elsewhere);
    expect(shown.output).toEqual({ products: [], missing: ['tea'] });
  });

  it('refuse the tools a project turned off, in that project only, without running them', async () => {
    const project = newId('project');
    await env.db
      .insert(schema.projects)
      .values({ id: project, name: 'careful', disabledTools: ['list_tables'] });
    const refused = await invokeOne({ name: 'list_tables', arguments: {} }, { ownerId: project });
    expect(refused.output).toEqual({
      code: 'disabled',
      error: 'The tool list_tables is disabled in this project.',
    });
    expect(refused.execution).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^disabled: /),
    });
    expect((await invokeOne({ name: 'list_tables', arguments: {} })).result.isError).toBe(false);
  });

  it('turn bad arguments into an error output the model reads, not a failed job', async () => {
    const invalid = await invokeOne({ name: 'run_sql', arguments: { sql: 'select 1' } });
    expect(invalid.result.isError).toBe(true);
    expect(invalid.output).toEqual({
      code: 'invalid_arguments',
      error: expect.stringMatching(/^Invalid arguments: query: /),
    });
    expect(invalid.execution).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^invalid_arguments: /),
    });
    const notJson = await invokeOne({ name: 'list_tables', arguments: '{"schema": ' });
    expect(notJson.output).toEqual({ code: 'invalid_arguments', error: 'The arguments are not valid JSON.' });
    expect(notJson.execution?.arguments).toBe('{"schema": ');
  });

  it('refuse arguments holding a NUL in one attempt, recording them as the model wrote them', async () => {
    const written = '{"query": "select \'a\\u0000b\' as nul"}';
    const nul = await invokeOne({ name: 'run_sql', arguments: written });
    expect(nul.output).toEqual({
      code: 'invalid_arguments',
      error: expect.stringMatching(/^The arguments contain a NUL character \(\\u0000\).*not executed/),
    });
    expect(nul.execution).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^invalid_arguments: /),
    });
    // Read in SQL: drizzle would parse a jsonb string that holds JSON text.
    const stored = await env.db.$client.query(
      "select jsonb_typeof(arguments) as type, arguments #>> '{}' as text from tool_executions where call_id = $1",
      [nul.callId],
    );
    expect(stored.rows).toEqual([{ type: 'string', text: written }]);
    const job = await tools.queue.getJob(nul.callId);
    expect(job?.attemptsStarted).toBe(1);
    expect(await job?.getState()).toBe('completed');

    const inKey = await invokeOne({ name: 'list_tables', arguments: '{"sch\\u0000ema": "public"}' });
    expect(inKey.output).toMatchObject({ code: 'invalid_arguments', error: expect.stringMatching(/NUL/) });

    const escapedBackslash = await invokeOne({
      name: 'run_sql',
      arguments: { query: "select 'a\\u0000b' as text" },
    });
    expect(escapedBackslash.output.rows).toEqual([['a\\u0000b']]);
    expect(escapedBackslash.execution?.arguments).toEqual({ query: "select 'a\\u0000b' as text" });
  });

  it('turn refused SQL, SQL errors and timeouts into error outputs', async () => {
    const refused = await invokeOne({ name: 'run_sql', arguments: { query: 'delete from customers' } });
    expect(refused.output).toMatchObject({
      code: 'refused',
      error: expect.stringMatching(/DELETE is not allowed/),
    });
    const broken = await invokeOne({ name: 'run_sql', arguments: { query: 'select * from invoices' } });
    expect(broken.output).toMatchObject({
      code: 'sql_error',
      error: expect.stringMatching(/relation "invoices" does not exist/),
    });
    const slow = await invokeOne({ name: 'run_sql', arguments: { query: 'select pg_sleep(5)' } });
    expect(slow.output).toEqual({ code: 'timeout', error: 'The tool did not finish within 1500 ms.' });
    expect(slow.execution).toMatchObject({ status: 'failed', error: expect.stringMatching(/^timeout: /) });
  });

  it('refuse disabled tools, unknown tools and calls of runs that are over, without running them', async () => {
    const drop = await invokeOne({ name: 'drop_table', arguments: { table: 'orders', confirm: 'orders' } });
    expect(drop.output).toEqual({
      code: 'disabled',
      error: 'The tool drop_table is disabled on this server.',
    });
    expect(
      (await env.toolsPool.query("select to_regclass('public.orders') is not null as present")).rows,
    ).toEqual([{ present: true }]);
    const unknown = await invokeOne({ name: 'get_weather', arguments: {} });
    expect(unknown.output.code).toBe('refused');
    const cancelled = await invokeOne(
      { name: 'create_table', arguments: { name: 'never_made', columns: [{ name: 'a', type: 'text' }] } },
      { runStatus: 'cancelled' },
    );
    expect(cancelled.output).toMatchObject({ code: 'run_inactive' });
    expect(cancelled.execution).toMatchObject({ status: 'failed', durationMs: 0 });
    expect((await env.toolsPool.query("select to_regclass('public.never_made') as oid")).rows).toEqual([
      { oid: null },
    ]);
  });
});

describe('at most once', () => {
  it('returns the stored result of a call that already finished, without running it again', async () => {
    const { runId, stepId, ownerId, callIds } = await insertToolCalls(env.db, [
      { name: 'create_table', arguments: { name: 'made_once', columns: [{ name: 'a', type: 'text' }] } },
    ]);
    const callId = callIds[0] ?? '';
    await env.db.insert(schema.toolExecutions).values({
      callId,
      runId,
      ownerId,
      tool: 'create_table',
      arguments: {},
      status: 'succeeded',
      output: '{"created":"public.made_once"}',
      finishedAt: new Date(),
      durationMs: 5,
    });
    const result = await tools.invoke({ runId, stepId, callId });
    expect(result).toEqual({ callId, output: '{"created":"public.made_once"}', isError: false });
    expect((await env.toolsPool.query("select to_regclass('public.made_once') as oid")).rows).toEqual([
      { oid: null },
    ]);
  });

  it('settles a call left running by a dead attempt as interrupted instead of running it twice', async () => {
    const { runId, stepId, ownerId, callIds } = await insertToolCalls(env.db, [
      { name: 'create_table', arguments: { name: 'half_made', columns: [{ name: 'a', type: 'text' }] } },
    ]);
    const callId = callIds[0] ?? '';
    await env.db
      .insert(schema.toolExecutions)
      .values({ callId, runId, ownerId, tool: 'create_table', arguments: {}, status: 'running' });
    const result = await tools.invoke({ runId, stepId, callId });
    expect(result.isError).toBe(true);
    expect(JSON.parse(result.output)).toMatchObject({
      code: 'interrupted',
      error: expect.stringMatching(/not run again/),
    });
    const [execution] = await env.db
      .select()
      .from(schema.toolExecutions)
      .where(eq(schema.toolExecutions.callId, callId));
    expect(execution).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^interrupted: /),
      output: result.output,
    });
    expect((await env.toolsPool.query("select to_regclass('public.half_made') as oid")).rows).toEqual([
      { oid: null },
    ]);
  });
});

describe('malformed jobs', () => {
  it('fail at once, without retries, when the payload is malformed or names no call', async () => {
    const malformed = await tools.add({ runId: 'not-a-run', callId: 42 }, 'malformed-1');
    await expect(malformed.waitUntilFinished(tools.events, 15_000)).rejects.toThrow(
      /Malformed tool.invoke payload/,
    );
    const { runId, stepId } = await insertToolCalls(env.db, [{ name: 'list_tables', arguments: {} }]);
    const ghostCall = 'call_0000000000000000000000ZZ';
    const ghost = await tools.add({ runId, stepId, callId: ghostCall }, ghostCall);
    await expect(ghost.waitUntilFinished(tools.events, 15_000)).rejects.toThrow(/No tool call/);
    for (const id of ['malformed-1', ghostCall]) {
      const job = await tools.queue.getJob(id);
      expect({ id, attempts: job?.attemptsMade, state: await job?.getState() }).toEqual({
        id,
        attempts: 1,
        state: 'failed',
      });
    }
  });
});

describe('http endpoints', () => {
  it('answer /healthz and /readyz', async () => {
    const health = await fetch(`http://127.0.0.1:${worker.port}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    const ready = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${worker.port}/readyz`);
      return response.status === 200 && response.json();
    });
    expect(ready).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('refuse to start on a port already taken, taking no jobs', async () => {
    const config = env.config({ TOOL_WORKER_PORT: String(worker.port) });
    await expect(startToolWorker(config, silentLog)).rejects.toThrow(/EADDRINUSE/);
  });

  it('expose Prometheus metrics with the latency of each tool', async () => {
    await invokeOne({ name: 'list_tables', arguments: {} });
    const response = await fetch(`http://127.0.0.1:${worker.port}/metrics`);
    expect(response.status).toBe(200);
    const lines = (await response.text()).split('\n');
    const count = (name: string, ...labels: string[]) =>
      lines.find((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)));
    const toolCount = count('threadwork_tool_duration_seconds_count', 'tool="list_tables"', 'outcome="ok"');
    expect(Number(toolCount?.split(' ').pop())).toBeGreaterThan(0);
    expect(
      count('threadwork_job_duration_seconds_count', 'queue="tools"', 'outcome="completed"'),
    ).toBeDefined();
  });
});
