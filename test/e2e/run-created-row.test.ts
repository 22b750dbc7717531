// A created run is answered (and announced) from the values the API wrote, not read back: what a client is told
// must be exactly what a later retrieve returns. No run worker here, so the run stays as it was created.
import { parseRunEvents } from '@threadwork/shared';
import type OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: OpenAI;
let aliceProject: string;
let bob: OpenAI;

beforeAll(async () => {
  stack = await startStack({}, { runWorker: false });
  const aliceUser = await stack.newUser('alice');
  alice = aliceUser.client;
  aliceProject = aliceUser.projectId;
  bob = (await stack.newUser('bob')).client;
});

async function queryOne<T>(text: string, values: unknown[]): Promise<T> {
  const client = new pg.Client({ connectionString: stack.database.url });
  await client.connect();
  try {
    const { rows } = await client.query(text, values);
    return rows[0] as T;
  } finally {
    await client.end();
  }
}

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
    const row = await queryOne(
      `select required_action is null and last_error is null and usage is null and incomplete_details is null
         as all_null from runs where id = $1`,
      [created.id],
    );
    expect(row).toEqual({ all_null: true });
  });

  it('publishes nothing for a run that was refused (persisted first, published after)', async () => {
    const { redis } = stack.api.deps;
    const logPattern = `${stack.config.QUEUE_PREFIX}:run:*:events`;
    const logsBefore = new Set(await redis.keys(logPattern));
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create();
    const first = await alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await expect(
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }),
    ).rejects.toMatchObject({ status: 400 });
    // The API appends on one connection in order: the refused run's events, had there been any, came first.
    await alice.beta.threads.runs.cancel(first.id, { thread_id: thread.id });
    // An append writes the run's log and publishes the same entry in one script: the logs are what was published.
    const logs = (await redis.keys(logPattern)).filter((key) => !logsBefore.has(key));
    const published = (await redis.xrange(stack.api.deps.events.streamKey(first.id), '-', '+')).flatMap(
      ([, fields]) => parseRunEvents(fields[1] ?? '[]').map((event) => event.event),
    );
    expect(logs).toEqual([stack.api.deps.events.streamKey(first.id)]);
    expect(published).toContain('thread.run.cancelled');
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

describe('the assistant a run is made from (remembered by the API, checked by the run statement)', () => {
  it('is the assistant as it is now, right after an update', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline', instructions: 'First.' });
    const first = await alice.beta.threads.createAndRun({ assistant_id: assistant.id });
    expect(first.instructions).toBe('First.');
    await alice.beta.assistants.update(assistant.id, { instructions: 'Second.', temperature: 0.2 });
    const second = await alice.beta.threads.createAndRun({ assistant_id: assistant.id });
    expect(second).toMatchObject({ instructions: 'Second.', temperature: 0.2 });
    const thread = await alice.beta.threads.create();
    await alice.beta.assistants.update(assistant.id, { instructions: 'Third.' });
    const third = await alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    expect(third.instructions).toBe('Third.');
    expect(await alice.beta.threads.runs.retrieve(third.id, { thread_id: thread.id })).toEqual(third);
  });

  it('is never run once deleted, though it was remembered', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    await alice.beta.threads.createAndRun({ assistant_id: assistant.id });
    await alice.beta.assistants.delete(assistant.id);
    const thread = await alice.beta.threads.create();
    await expect(
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }),
    ).rejects.toMatchObject({
      status: 404,
      error: { param: 'assistant_id' },
    });
    await expect(alice.beta.threads.createAndRun({ assistant_id: assistant.id })).rejects.toMatchObject({
      status: 404,
    });
    expect((await alice.beta.threads.messages.list(thread.id)).data).toEqual([]);
  });

  it("is not another user's to run, though the API remembers it from its owner's run", async () => {
    const alices = await alice.beta.assistants.create({ model: 'offline', instructions: 'Secret.' });
    await alice.beta.threads.createAndRun({ assistant_id: alices.id });
    const bobsThread = await bob.beta.threads.create();
    await expect(
      bob.beta.threads.runs.create(bobsThread.id, { assistant_id: alices.id }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(bob.beta.threads.createAndRun({ assistant_id: alices.id })).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('the thread a run is written on (checked by the same statement)', () => {
  it("refuses another user's thread as missing, and writes none of the run's messages there", async () => {
    const bobs = await bob.beta.assistants.create({ model: 'offline' });
    await bob.beta.threads.createAndRun({ assistant_id: bobs.id });
    const alicesThread = await alice.beta.threads.create();
    await expect(
      bob.beta.threads.runs.create(alicesThread.id, {
        assistant_id: bobs.id,
        additional_messages: [{ role: 'user', content: 'Injected' }],
      }),
    ).rejects.toMatchObject({ status: 404, message: expect.stringContaining(alicesThread.id) });
    expect((await alice.beta.threads.messages.list(alicesThread.id)).data).toEqual([]);
    expect((await alice.beta.threads.runs.list(alicesThread.id)).data).toEqual([]);
  });

  it('answers the missing thread first when the assistant is missing too', async () => {
    await expect(
      alice.beta.threads.runs.create('thread_missing', { assistant_id: 'asst_missing' }),
    ).rejects.toMatchObject({ status: 404, message: expect.stringContaining('thread_missing') });
  });

  it("gives a deployment admin's run in a project's thread to the thread's project", async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create();
    const admin = stack.admin.withOptions({ defaultHeaders: { 'X-Threadwork-Project': aliceProject } });
    const run = await admin.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    const owners = await queryOne<{ run: string; thread: string }>(
      'select r.owner_id as run, t.owner_id as thread from runs r join threads t on t.id = r.thread_id where r.id = $1',
      [run.id],
    );
    expect(owners.run).toBe(owners.thread);
    expect(await alice.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).toEqual(run);
  });
});
