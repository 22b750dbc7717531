import type { ChildProcess } from 'node:child_process';
import { waitFor } from '@threadwork/testing';
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceProcess } from '../support/processes.js';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let client: OpenAI;
let db: pg.Pool;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack(
    { TOOL_JOB_LOCK_MS: '1000', RUN_SQL_STATEMENT_TIMEOUT_MS: '20000', TOOL_TIMEOUT_MS: '30000' },
    { toolWorker: false },
  );
  // The demo shop's tables belong to the default project's SQL tools.
  client = (await stack.newDefaultProjectKey('analyst')).client;
  db = new pg.Pool({ connectionString: stack.database.url, max: 2 });
  await startToolWorkerProcess();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await db?.end();
  await stack?.close();
});

/** Starts a tool worker as a child process on the stack's databases and prefix; resolves once it consumes jobs. */
async function startToolWorkerProcess(): Promise<ChildProcess> {
  const child = await startServiceProcess(stack, 'tool-worker');
  children.push(child);
  return child;
}

async function importCatalog(body: string, contentType: string, key = ADMIN_KEY) {
  const response = await fetch(`${stack.api.url}/admin/catalog`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const catalog = {
  products: [
    {
      id: 'dog-1',
      name: 'Salmon dog food',
      description: 'Dry food for adult dogs',
      price: 24.5,
      currency: 'EUR',
      url: 'https://shop.example/dog-1',
      image_url: 'https://shop.example/dog-1.png',
      categories: ['dogs', 'food'],
    },
    {
      id: 'cat-1',
      name: 'Tuna cat food',
      description: 'Wet food for cats',
      price: 12,
      currency: 'EUR',
      url: 'https://shop.example/cat-1',
      image_url: 'https://shop.example/cat-1.png',
      categories: ['cats', 'food'],
    },
  ],
};

describe('built-in tools through the official SDK', () => {
  it('imports the catalog for admins only, skipping unchanged content and accepting CSV', async () => {
    const body = JSON.stringify(catalog);
    const user = await stack.newUser('shopper');
    expect((await importCatalog(body, 'application/json', user.key)).status).toBe(403);
    const first = await importCatalog(body, 'application/json');
    expect(first).toMatchObject({ status: 200, body: { status: 'imported', count: 2 } });
    const again = await importCatalog(body, 'application/json');
    expect(again.body).toEqual({ ...first.body, status: 'skipped' });
    const csv =
      'id,name,description,price,currency,url,image_url,categories\nbird-1,Seed mix,For birds,5,EUR,,,birds;food\n';
    expect((await importCatalog(csv, 'text/csv')).body).toMatchObject({ status: 'imported', count: 1 });
    const broken = await importCatalog(JSON.stringify({ products: [{ id: 'x' }] }), 'application/json');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: { type: 'invalid_request_error' } });
    await importCatalog(body, 'application/json');
  });

  it('answers "what tables do I have?" with a completed run whose step shows the list_tables call and output', async () => {
    const assistant = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'list_tables' }, { type: 'get_schema' }, { type: 'run_sql' }] as never,
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'What tables do I have?' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(run.status).toBe('completed');
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    const toolStep = steps.data.find((step) => step.step_details.type === 'tool_calls');
    const call =
      toolStep?.step_details.type === 'tool_calls' ? toolStep.step_details.tool_calls[0] : undefined;
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('list_tables');
    expect(call.function.output).toContain('customers');
    const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect(answer?.content[0]?.type === 'text' && answer.content[0].text.value).toContain('customers');
  });

  /** A streamed run that shows products, and the names of the events its stream sent. */
  async function streamProducts(headers: Record<string, string>) {
    const assistant = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'search_products' }, { type: 'show_products' }] as never,
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'show me dog food' }],
    });
    const seen: Array<{ event: string; data: unknown }> = [];
    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id }, { headers });
    stream.on('event', (event) => seen.push(event as { event: string; data: unknown }));
    const run = await stream.finalRun();
    return { thread, run, seen };
  }

  it("sends only OpenAI's events on a /v1 stream unless Threadwork events are asked for", async () => {
    const { run, seen } = await streamProducts({});
    expect(run.status).toBe('completed');
    expect(seen.map((event) => event.event)).not.toContain('products');
    expect(seen.every((event) => event.event.startsWith('thread.'))).toBe(true);
  });

  it('streams a products event with the cards show_products returned, when asked for', async () => {
    const { thread, run, seen } = await streamProducts({ 'X-Threadwork-Events': 'products' });
    expect(run.status).toBe('completed');
    const products = seen.find((event) => event.event === ('products' as string));
    const cards = (products?.data as { products: Array<{ id: string }> } | undefined)?.products ?? [];
    expect(cards[0]).toMatchObject({ id: 'dog-1', name: 'Salmon dog food', price: 24.5, currency: 'EUR' });
    const toolNames = (
      await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })
    ).data
      .flatMap((step) => (step.step_details.type === 'tool_calls' ? step.step_details.tool_calls : []))
      .map((call) => (call.type === 'function' ? call.function.name : call.type));
    expect(toolNames).toEqual(['search_products', 'show_products']);
  });

  it('never runs a call twice when its tool worker is killed mid-job, and the run still completes', async () => {
    const assistant = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'run_sql' }] as never,
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: JSON.stringify({ query: 'select pg_sleep(8) as slept' }) }],
    });
    const created = await client.beta.threads.runs.create(thread.id, {
      assistant_id: assistant.id,
      tool_choice: { type: 'function', function: { name: 'run_sql' } },
    });
    const callId = await waitFor(
      async () => {
        const found = await db.query<{ call_id: string }>(
          "select call_id from tool_executions where run_id = $1 and status = 'running'",
          [created.id],
        );
        return found.rows[0]?.call_id;
      },
      { what: 'the tool call to start', timeoutMs: 20_000, intervalMs: 25 },
    );
    const victim = children.at(-1);
    const exited = new Promise((resolve) => victim?.once('exit', resolve));
    victim?.kill('SIGKILL');
    await exited;
    await startToolWorkerProcess();
    const run = await client.beta.threads.runs.poll(created.id, { thread_id: thread.id });
    expect(run.status).toBe('completed');
    const executions = await db.query<{ status: string; error: string | null }>(
      'select status, error from tool_executions where call_id = $1',
      [callId],
    );
    expect(executions.rows).toHaveLength(1);
    expect(executions.rows[0]?.status).toBe('failed');
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    const outputs = steps.data.flatMap((step) =>
      step.step_details.type === 'tool_calls'
        ? step.step_details.tool_calls.map((call) => (call.type === 'function' ? call.function.output : null))
        : [],
    );
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toContain('interrupted');
  });
});
