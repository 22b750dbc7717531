// Threadwork unchanged behind pgbouncer in transaction mode: two server connections shared by every pool of the
// API and both workers, so consecutive transactions of one client land on different server connections and any
// state kept between them (a named prepared statement, a SET, a session lock) would break a run.
import { waitFor } from '@threadwork/testing';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OwnPgbouncer, startOwnPgbouncer } from '../support/pgbouncer.js';
import { type Stack, startStack } from '../support/stack.js';

let pgbouncer: OwnPgbouncer;
let stack: Stack;
let client: OpenAI;

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

beforeAll(async () => {
  pgbouncer = await startOwnPgbouncer(inject('databaseServerUrl'), { poolSize: 2 });
  stack = await startStack(
    // Debian's pgbouncer (1.18) does not carry named prepared statements between transactions.
    { DATABASE_POOL_SIZE: '8', OFFLINE_TOKEN_DELAY_MS: '5', DATABASE_PREPARED_STATEMENTS: 'false' },
    { pooledUrl: (direct) => pgbouncer.urlFor(direct) },
  );
  client = (await stack.newDefaultProjectKey('pooled')).client;
});

afterAll(async () => {
  await stack?.close();
  await pgbouncer?.destroy();
});

async function streamedRun(assistantId: string, content: string) {
  const thread = await client.beta.threads.create({ messages: [{ role: 'user', content }] });
  return client.beta.threads.runs.stream(thread.id, { assistant_id: assistantId }).finalRun();
}

describe('behind pgbouncer in transaction mode (2 server connections)', () => {
  it('serves streamed runs, built-in tool runs, client tool round trips and cancels at once', async () => {
    const plain = await client.beta.assistants.create({ model: 'offline' });
    const sql = await client.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'list_tables' }] as never,
    });
    const weather = await client.beta.assistants.create({ model: 'offline', tools: [weatherTool] });
    const roundTrip = async () => {
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: JSON.stringify({ city: 'Lyon' }) }],
      });
      const waiting = await client.beta.threads.runs.createAndPoll(thread.id, {
        assistant_id: weather.id,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      const call = waiting.required_action?.submit_tool_outputs.tool_calls[0];
      if (!call) throw new Error(`run ${waiting.id} asked for no tool: ${waiting.status}`);
      return client.beta.threads.runs.submitToolOutputsAndPoll(waiting.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'sunny, 21 C' }],
      });
    };
    const cancelled = async () => {
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ') }],
      });
      const run = await client.beta.threads.runs.create(thread.id, { assistant_id: plain.id });
      await client.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
      return client.beta.threads.runs.poll(run.id, { thread_id: thread.id });
    };
    const runs = await Promise.all([
      ...Array.from({ length: 6 }, (_, index) => streamedRun(plain.id, `Hello number ${index}`)),
      streamedRun(sql.id, 'What tables do I have?'),
      streamedRun(sql.id, 'List the tables please'),
      roundTrip(),
      roundTrip(),
      cancelled(),
    ]);
    expect(runs.map((run) => run.status)).toEqual([...Array(10).fill('completed'), 'cancelled']);
    const [answer] = (await client.beta.threads.messages.list(runs[6]?.thread_id ?? '')).data;
    expect(answer?.content[0]?.type === 'text' && answer.content[0].text.value).toContain('customers');
    const [weatherAnswer] = (await client.beta.threads.messages.list(runs[8]?.thread_id ?? '')).data;
    expect(weatherAnswer?.content[0]?.type === 'text' && weatherAnswer.content[0].text.value).toContain(
      'sunny',
    );
  });

  it('went through pgbouncer: the test database has a pool there of at most 2 server connections', async () => {
    const pool = await waitFor(
      async () => (await pgbouncer.pools()).find((row) => row.database === stack.database.name),
      { what: "the test database's pool in SHOW POOLS" },
    );
    expect(Number(pool.sv_active) + Number(pool.sv_idle)).toBeGreaterThan(0);
    expect(Number(pool.sv_active) + Number(pool.sv_idle)).toBeLessThanOrEqual(2);
  });
});
