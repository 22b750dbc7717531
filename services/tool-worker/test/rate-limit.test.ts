import { schema, type ToolJobResult } from '@threadwork/shared';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startToolWorker, type ToolWorker } from '../src/worker.js';
import { createEnvironment, silentLog, type TestEnvironment } from './support/environment.js';
import { createToolQueue, type ToolQueue } from './support/queue.js';
import { type CallSpec, insertToolCalls } from './support/rows.js';

let env: TestEnvironment;
let worker: ToolWorker;
let tools: ToolQueue;
const delayed = new Set<string>();

beforeAll(async () => {
  env = await createEnvironment(inject('databaseServerUrl'), inject('redisUrl'));
  const config = env.config({
    TOOL_RATE_LIMIT_PER_USER: '100/60,list_tables=2/2,get_schema=1/30,search_products=1/3',
    TOOL_RATE_LIMIT_GLOBAL: '1000/60,show_products=1/30',
    TOOL_RATE_LIMIT_MAX_WAIT_MS: '4500',
  });
  worker = await startToolWorker(config, silentLog);
  tools = await createToolQueue(config);
  tools.events.on('delayed', ({ jobId }) => delayed.add(jobId));
});

afterAll(async () => {
  await tools?.close();
  await worker?.close();
  await env?.close();
});

async function invokeAll(calls: CallSpec[], ownerId?: string): Promise<ToolJobResult[]> {
  const inserted = await insertToolCalls(env.db, calls, { ownerId });
  return Promise.all(
    inserted.callIds.map((callId) =>
      tools.invoke({ runId: inserted.runId, stepId: inserted.stepId, callId }),
    ),
  );
}

const errorCode = (result: ToolJobResult) => (result.isError ? JSON.parse(result.output).code : 'ok');

describe('rate limits', () => {
  it('delay the call past the per-user limit, then serve it', async () => {
    const started = Date.now();
    const calls = Array.from({ length: 3 }, () => ({ name: 'list_tables', arguments: {} }));
    const results = await invokeAll(calls);
    expect(results.map(errorCode)).toEqual(['ok', 'ok', 'ok']);
    const ids = results.map((result) => result.callId);
    expect(ids.filter((id) => delayed.has(id))).toHaveLength(1);
    const executions = await env.db
      .select({ startedAt: schema.toolExecutions.startedAt })
      .from(schema.toolExecutions)
      .where(inArray(schema.toolExecutions.callId, ids));
    const last = Math.max(...executions.map((execution) => execution.startedAt.getTime()));
    expect(last - started).toBeGreaterThan(500);
  });

  it('fail with a clear error the model reads when the wait would pass the bound', async () => {
    const results = await invokeAll([
      { name: 'get_schema', arguments: { table: 'orders' } },
      { name: 'get_schema', arguments: { table: 'customers' } },
    ]);
    expect(results.map(errorCode).sort()).toEqual(['ok', 'rate_limited']);
    const limited = results.find((result) => result.isError);
    expect(JSON.parse(limited?.output ?? '{}').error).toMatch(
      /^Rate limit reached for get_schema: at most 1 calls per 30 s per user\. The call waited 0 s .* so it was not executed\./,
    );
  });

  it('limit a tool across users', async () => {
    const first = await invokeAll([{ name: 'show_products', arguments: { product_ids: ['a'] } }]);
    const second = await invokeAll([{ name: 'show_products', arguments: { product_ids: ['b'] } }]);
    expect([...first, ...second].map(errorCode)).toEqual(['ok', 'rate_limited']);
    expect(JSON.parse(second[0]?.output ?? '{}').error).toMatch(/per 30 s for all users together/);
  });

  it('give up after a delay when the total wait would pass the bound', async () => {
    const calls = Array.from({ length: 3 }, () => ({ name: 'search_products', arguments: { query: 'tea' } }));
    const results = await invokeAll(calls);
    expect(results.map(errorCode).sort()).toEqual(['ok', 'ok', 'rate_limited']);
    const limited = results.find((result) => result.isError);
    expect(delayed.has(limited?.callId ?? '')).toBe(true);
    expect(JSON.parse(limited?.output ?? '{}').error).toMatch(/The call waited [1-9][\d.]* s/);
  });
});
