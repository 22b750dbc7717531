// A created run is answered (and announced) from the values the API wrote, not read back: what a client is told
// must be exactly what a later retrieve returns. No run worker here, so the run stays as it was created.
import { createRedis } from '@threadwork/shared';
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: OpenAI;

beforeAll(async () => {
  stack = await startStack({}, { runWorker: false });
  alice = (await stack.newUser('alice')).client;
});

afterAll(async () => {
  await stack?.close();
});

const lookup = {
  type: 'function' as const,
  function: {
    name: 'lookup',
    description: 'Looks a word up',
    parameters: { type: 'object', properties: {} },
  },
};

describe('a created run as answered', () => {
  it('equals the stored run, with settings from the request over the assistant', async () => {
    const assistant = await alice.beta.assistants.create({
      model: 'offline',
      instructions: 'Be brief.',
      tools: [lookup],
      temperature: 0.7,
      top_p: 0.95,
      response_format: { type: 'json_object' },
    });
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
    const created = await alice.beta.threads.runs.create(thread.id, {
      assistant_id: assistant.id,
      additional_instructions: 'Answer in French.',
      additional_messages: [{ role: 'user', content: 'And again' }],
      metadata: { origin: 'test' },
      max_prompt_tokens: 5000,
      max_completion_tokens: 700,
      truncation_strategy: { type: 'last_messages', last_messages: 3 },
      tool_choice: 'none',
      parallel_tool_calls: false,
    });
    const stored = await alice.beta.threads.runs.retrieve(created.id, { thread_id: thread.id });
    expect(created).toEqual(stored);
    expect(created).toMatchObject({
      status: 'queued',
      instructions: 'Be brief.\n\nAnswer in French.',
      temperature: 0.7,
      top_p: 0.95,
      response_format: { type: 'json_object' },
      tools: [lookup],
      required_action: null,
      last_error: null,
      usage: null,
      started_at: null,
    });
    // Absent values are SQL NULLs, not the JSON value null.
    const client = new pg.Client({ connectionString: stack.database.url });
    await client.connect();
    const { rows } = await client.query(
      `select required_action is null and last_error is null and usage is null and incomplete_details is null
         as all_null from runs where id = $1`,
      [created.id],
    );
    await client.end();
    expect(rows).toEqual([{ all_null: true }]);
  });

  it('publishes nothing for a run that was refused (persisted first, published after)', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create();
    const first = await alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    const subscriber = createRedis(stack.config.REDIS_URL, 'worker', 'refused-run-test');
    const published: Array<{ channel: string; event: string }> = [];
    const cancelled = new Promise<void>((resolve) => {
      subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
        const { event } = JSON.parse(message) as { event: string };
        published.push({ channel, event });
        if (event === 'thread.run.cancelled') resolve();
      });
    });
    await subscriber.psubscribe(`${stack.config.QUEUE_PREFIX}:run-events:*`);
    await expect(
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }),
    ).rejects.toMatchObject({ status: 400 });
    // The API appends on one connection in order: the refused run's events, had there been any, came first.
    await alice.beta.threads.runs.cancel(first.id, { thread_id: thread.id });
    await cancelled;
    subscriber.disconnect();
    const channels = new Set(published.map((item) => item.channel));
    expect(channels).toEqual(new Set([`${stack.config.QUEUE_PREFIX}:run-events:${first.id}`]));
  });

  it('equals the stored run and thread for create-thread-and-run, defaults included', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const created = await alice.beta.threads.createAndRun({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'Hello' }], metadata: { topic: 'greeting' } },
    });
    const stored = await alice.beta.threads.runs.retrieve(created.id, { thread_id: created.thread_id });
    expect(created).toEqual(stored);
    expect(created).toMatchObject({ instructions: '', temperature: 1, top_p: 1, response_format: 'auto' });
    const thread = await alice.beta.threads.retrieve(created.thread_id);
    expect(thread.metadata).toEqual({ topic: 'greeting' });
    const messages = await alice.beta.threads.messages.list(created.thread_id);
    expect(messages.data.map((message) => message.content)).toEqual([
      [{ type: 'text', text: { value: 'Hello', annotations: [] } }],
    ]);
  });
});
