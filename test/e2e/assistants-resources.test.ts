// The /v1 resources through the official SDK: assistants, threads and messages, lists and cursors, errors, limits.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, sdkClient, startStack } from '../support/stack.js';
import {
  ASSISTANT_KEYS,
  ASSISTANTS_TEST_ENV,
  expectApiError,
  expectKeys,
  MESSAGE_KEYS,
  textOf,
} from './assistants-helpers.js';

const MAX_MESSAGE_CHARS = 2000;

let stack: Stack;
let alice: OpenAI;
let bob: OpenAI;
let bobKey: string;

beforeAll(async () => {
  stack = await startStack({ ...ASSISTANTS_TEST_ENV, MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS) });
  alice = (await stack.newUser('alice')).client;
  const bobUser = await stack.newUser('bob');
  bob = bobUser.client;
  bobKey = bobUser.key;
});

afterAll(async () => {
  await stack?.close();
});

async function collect<T>(page: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of page) items.push(item);
  return items;
}

describe('assistants', () => {
  it('creates, retrieves, modifies, lists and deletes with every field of the SDK type', async () => {
    const created = await alice.beta.assistants.create({
      model: 'offline',
      name: 'Math tutor',
      description: 'Helps with sums',
      instructions: 'Answer briefly.',
      tools: [
        { type: 'function', function: { name: 'add', description: 'Adds', parameters: { type: 'object' } } },
        { type: 'code_interpreter' },
        { type: 'file_search' },
      ],
      metadata: { team: 'blue' },
      temperature: 0.5,
      top_p: 0.9,
      response_format: { type: 'json_object' },
    });
    expectKeys(created, ASSISTANT_KEYS);
    expect(created).toMatchObject({
      object: 'assistant',
      model: 'offline',
      name: 'Math tutor',
      description: 'Helps with sums',
      instructions: 'Answer briefly.',
      metadata: { team: 'blue' },
      temperature: 0.5,
      top_p: 0.9,
      response_format: { type: 'json_object' },
    });
    expect(created.id).toMatch(/^asst_[0-9A-Za-z]{24}$/);
    expect(created.tools.map((tool) => tool.type)).toEqual(['function', 'code_interpreter', 'file_search']);
    expect(Number.isInteger(created.created_at)).toBe(true);
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(60);

    const plain = await alice.beta.assistants.create({ model: 'offline' });
    expect(plain).toMatchObject({
      name: null,
      description: null,
      instructions: null,
      tools: [],
      metadata: {},
      tool_resources: {},
      temperature: 1,
      top_p: 1,
      response_format: 'auto',
    });

    expect(await alice.beta.assistants.retrieve(created.id)).toEqual(created);
    const renamed = await alice.beta.assistants.update(created.id, {
      name: 'Algebra tutor',
      metadata: { v: '2' },
    });
    expect(renamed).toMatchObject({
      name: 'Algebra tutor',
      metadata: { v: '2' },
      instructions: 'Answer briefly.',
    });
    expect(await alice.beta.assistants.update(created.id, {})).toEqual(renamed);

    const listed = await alice.beta.assistants.list();
    const mine = listed.data.filter((assistant) => assistant.id === plain.id || assistant.id === created.id);
    expect(mine.map((assistant) => assistant.id)).toEqual([plain.id, created.id]);
    const deleted = await alice.beta.assistants.delete(plain.id);
    expect(deleted).toEqual({ id: plain.id, object: 'assistant.deleted', deleted: true });
    await expectApiError(alice.beta.assistants.retrieve(plain.id), OpenAI.NotFoundError, {
      status: 404,
      message: `No assistant found with id '${plain.id}'.`,
    });
  });

  it("hides another user's assistant behind 404, and lets users run but not change a shared one (403)", async () => {
    const mine = await alice.beta.assistants.create({ model: 'offline', name: 'private' });
    await expectApiError(bob.beta.assistants.retrieve(mine.id), OpenAI.NotFoundError, { status: 404 });
    await expectApiError(bob.beta.assistants.update(mine.id, { name: 'x' }), OpenAI.NotFoundError, {
      status: 404,
    });
    await expectApiError(bob.beta.assistants.delete(mine.id), OpenAI.NotFoundError, { status: 404 });
    expect((await bob.beta.assistants.list()).data.map((a) => a.id)).not.toContain(mine.id);

    const shared = await stack.admin.beta.assistants.create({ model: 'offline', name: 'Company helper' });
    await expect(bob.beta.assistants.retrieve(shared.id)).resolves.toMatchObject({ name: 'Company helper' });
    await expectApiError(
      bob.beta.assistants.update(shared.id, { name: 'mine now' }),
      OpenAI.PermissionDeniedError,
      {
        status: 403,
        type: 'permission_error',
      },
    );
    await expectApiError(bob.beta.assistants.delete(shared.id), OpenAI.PermissionDeniedError, {
      status: 403,
    });
    await expect(stack.admin.beta.assistants.update(shared.id, { name: 'Helper' })).resolves.toMatchObject({
      name: 'Helper',
    });
  });
});

describe('threads and messages', () => {
  it('creates a thread with messages, retrieves, modifies and deletes it', async () => {
    const thread = await alice.beta.threads.create({
      messages: [
        { role: 'user', content: 'first', metadata: { n: '1' } },
        { role: 'assistant', content: [{ type: 'text', text: 'second' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
      metadata: { topic: 'cats' },
    });
    expect(thread).toEqual({
      id: thread.id,
      object: 'thread',
      created_at: thread.created_at,
      metadata: { topic: 'cats' },
      tool_resources: {},
    });
    expect(thread.id).toMatch(/^thread_/);
    const messages = await alice.beta.threads.messages.list(thread.id, { order: 'asc' });
    expect(messages.data.map((message) => [message.role, textOf(message)])).toEqual([
      ['user', 'first'],
      ['assistant', 'second'],
      ['user', 'look'],
    ]);
    const first = messages.data[0];
    if (!first) throw new Error('no message');
    expectKeys(first, MESSAGE_KEYS);
    expect(first).toMatchObject({
      object: 'thread.message',
      thread_id: thread.id,
      status: 'completed',
      assistant_id: null,
      run_id: null,
      incomplete_details: null,
      incomplete_at: null,
      attachments: [],
      metadata: { n: '1' },
      content: [{ type: 'text', text: { value: 'first', annotations: [] } }],
    });
    expect(messages.data[2]?.content[1]).toEqual({
      type: 'image_url',
      image_url: { url: 'https://example.com/cat.png', detail: 'auto' },
    });

    expect(await alice.beta.threads.retrieve(thread.id)).toEqual(thread);
    const modified = await alice.beta.threads.update(thread.id, { metadata: { topic: 'dogs' } });
    expect(modified.metadata).toEqual({ topic: 'dogs' });
    expect(await alice.beta.threads.update(thread.id, {})).toEqual(modified);
    expect(await alice.beta.threads.create()).toMatchObject({ object: 'thread', metadata: {} });

    expect(await alice.beta.threads.delete(thread.id)).toEqual({
      id: thread.id,
      object: 'thread.deleted',
      deleted: true,
    });
    await expectApiError(alice.beta.threads.retrieve(thread.id), OpenAI.NotFoundError, {
      status: 404,
      message: `No thread found with id '${thread.id}'.`,
    });
  });

  it('creates, retrieves, modifies and deletes messages', async () => {
    const thread = await alice.beta.threads.create();
    const message = await alice.beta.threads.messages.create(thread.id, {
      role: 'user',
      content: 'hello',
      metadata: { a: '1' },
    });
    expect(message).toMatchObject({ role: 'user', thread_id: thread.id, metadata: { a: '1' } });
    expect(message.id).toMatch(/^msg_/);
    expect(await alice.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })).toEqual(message);
    const modified = await alice.beta.threads.messages.update(message.id, {
      thread_id: thread.id,
      metadata: { a: '2', b: '3' },
    });
    expect(modified.metadata).toEqual({ a: '2', b: '3' });
    expect(textOf(modified)).toBe('hello');
    expect(await alice.beta.threads.messages.update(message.id, { thread_id: thread.id })).toEqual(modified);
    expect(await alice.beta.threads.messages.delete(message.id, { thread_id: thread.id })).toEqual({
      id: message.id,
      object: 'thread.message.deleted',
      deleted: true,
    });
    await expectApiError(
      alice.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }),
      OpenAI.NotFoundError,
      { status: 404, message: `No message found with id '${message.id}'.` },
    );
  });

  it("answers 404 for unknown ids and for another user's thread and messages", async () => {
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'secret' }] });
    const [message] = (await alice.beta.threads.messages.list(thread.id)).data;
    if (!message) throw new Error('no message');
    const notFound = { status: 404 } as const;
    await expectApiError(bob.beta.threads.retrieve(thread.id), OpenAI.NotFoundError, notFound);
    await expectApiError(
      bob.beta.threads.update(thread.id, { metadata: {} }),
      OpenAI.NotFoundError,
      notFound,
    );
    await expectApiError(bob.beta.threads.delete(thread.id), OpenAI.NotFoundError, notFound);
    await expectApiError(bob.beta.threads.messages.list(thread.id), OpenAI.NotFoundError, notFound);
    await expectApiError(
      bob.beta.threads.messages.create(thread.id, { role: 'user', content: 'hi' }),
      OpenAI.NotFoundError,
      notFound,
    );
    await expectApiError(
      bob.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }),
      OpenAI.NotFoundError,
      notFound,
    );
    await expectApiError(alice.beta.threads.retrieve('thread_doesnotexist'), OpenAI.NotFoundError, {
      status: 404,
      message: "No thread found with id 'thread_doesnotexist'.",
      type: 'invalid_request_error',
    });
    const other = await alice.beta.threads.create();
    await expectApiError(
      alice.beta.threads.messages.retrieve(message.id, { thread_id: other.id }),
      OpenAI.NotFoundError,
      notFound,
    );
    await expect(alice.beta.threads.retrieve(thread.id)).resolves.toMatchObject({ id: thread.id });
  });
});

describe('lists and cursors', () => {
  it('pages with for await over many pages in both orders, stable for items made in the same millisecond', async () => {
    const count = 32;
    const thread = await alice.beta.threads.create({
      messages: Array.from({ length: count }, (_, index) => ({
        role: 'user' as const,
        content: `m${index}`,
      })),
    });
    const expected = Array.from({ length: count }, (_, index) => `m${index}`);
    const sameSecond = new Set(
      (await alice.beta.threads.messages.list(thread.id, { limit: 100 })).data.map((m) => m.created_at),
    );
    expect(sameSecond.size).toBeLessThanOrEqual(2);

    const ascending = await collect(alice.beta.threads.messages.list(thread.id, { order: 'asc', limit: 5 }));
    expect(ascending.map(textOf)).toEqual(expected);
    const descending = await collect(alice.beta.threads.messages.list(thread.id, { limit: 7 }));
    expect(descending.map(textOf)).toEqual([...expected].reverse());

    const firstPage = await alice.beta.threads.messages.list(thread.id, { order: 'asc', limit: 5 });
    expect(firstPage.has_more).toBe(true);
    expect(firstPage.hasNextPage()).toBe(true);
    const secondPage = await firstPage.getNextPage();
    expect(secondPage.data.map(textOf)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);

    const anchor = ascending[20]?.id;
    const before = await alice.beta.threads.messages.list(thread.id, {
      order: 'asc',
      limit: 3,
      before: anchor,
    });
    expect(before.data.map(textOf)).toEqual(['m17', 'm18', 'm19']);
    const window = await collect(
      alice.beta.threads.messages.list(thread.id, {
        order: 'asc',
        limit: 2,
        after: ascending[3]?.id,
        before: anchor,
      }),
    );
    expect(window.map(textOf)).toEqual(expected.slice(4, 20));
    const descWindow = await collect(
      alice.beta.threads.messages.list(thread.id, { limit: 4, after: anchor, before: ascending[10]?.id }),
    );
    expect(descWindow.map(textOf)).toEqual(expected.slice(11, 20).reverse());
  });

  it('keeps a cursor working after its item is deleted, and lists assistants over pages', async () => {
    const thread = await alice.beta.threads.create({
      messages: ['a', 'b', 'c', 'd'].map((content) => ({ role: 'user' as const, content })),
    });
    const page = await alice.beta.threads.messages.list(thread.id, { order: 'asc', limit: 2 });
    await alice.beta.threads.messages.delete(page.data[1]?.id ?? '', { thread_id: thread.id });
    expect((await page.getNextPage()).data.map(textOf)).toEqual(['c', 'd']);

    const user = (await stack.newUser('lister')).client;
    const made = [];
    for (let index = 0; index < 5; index += 1) {
      made.push(await user.beta.assistants.create({ model: 'offline', name: `a${index}` }));
    }
    const names = (await collect(user.beta.assistants.list({ limit: 2, order: 'asc' }))).map((a) => a.name);
    expect(names.filter((name) => name?.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('answers the list envelope, with null ids when empty', async () => {
    const thread = await alice.beta.threads.create();
    const raw = await alice.beta.threads.messages.list(thread.id).asResponse();
    expect(raw.headers.get('content-type')).toContain('application/json');
    expect(await raw.json()).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
    await alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' });
    await alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'y' });
    const body = (await (
      await alice.beta.threads.messages.list(thread.id, { limit: 1 }).asResponse()
    ).json()) as {
      data: { id: string }[];
      first_id: string;
      last_id: string;
      has_more: boolean;
    };
    expect(body.has_more).toBe(true);
    expect(body.first_id).toBe(body.data[0]?.id);
    expect(body.last_id).toBe(body.data[0]?.id);
  });

  it('validates limit and order in OpenAI wording', async () => {
    const thread = await alice.beta.threads.create();
    await expectApiError(
      alice.beta.threads.messages.list(thread.id, { limit: 101 }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message:
          "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
        param: 'limit',
        code: 'integer_above_max_value',
      },
    );
    await expectApiError(
      alice.beta.threads.messages.list(thread.id, { order: 'sideways' as 'asc' }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: "Invalid value: 'sideways'. Supported values are: 'asc' and 'desc'.",
        param: 'order',
      },
    );
  });
});

describe('errors and limits', () => {
  it('maps each status the server produces to the SDK error class', async () => {
    const stranger = sdkClient(stack.baseURL, 'sk-tw-not-a-real-key-000000');
    await expectApiError(stranger.beta.assistants.list(), OpenAI.AuthenticationError, {
      status: 401,
      code: 'invalid_api_key',
      message: /^Incorrect API key provided: /,
    });
    const bobAtRoot = sdkClient(stack.api.url, bobKey);
    await expectApiError(bobAtRoot.get('/admin/keys'), OpenAI.PermissionDeniedError, {
      status: 403,
      type: 'permission_error',
    });
    await expectApiError(alice.beta.assistants.retrieve('asst_nope'), OpenAI.NotFoundError, { status: 404 });
    const badRequest = await expectApiError(
      alice.beta.assistants.create({
        model: 'offline',
        zzz: 1,
      } as unknown as OpenAI.Beta.AssistantCreateParams),
      OpenAI.BadRequestError,
      { status: 400, message: "Unknown parameter: 'zzz'.", param: 'zzz', code: 'unknown_parameter' },
    );
    expect(badRequest.requestID).toMatch(/^req_/);
    await expectApiError(
      alice.beta.assistants.create({} as OpenAI.Beta.AssistantCreateParams),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: "Missing required parameter: 'model'.",
        param: 'model',
        code: 'missing_required_parameter',
      },
    );
    await expectApiError(alice.beta.assistants.create({ model: 'no-such-model' }), OpenAI.BadRequestError, {
      status: 400,
      param: 'model',
      code: 'model_not_found',
    });
    await expectApiError(
      alice.beta.assistants.create({ model: 'offline', temperature: 3 }),
      OpenAI.BadRequestError,
      { status: 400, param: 'temperature', code: 'integer_above_max_value' },
    );
  });

  it('enforces metadata limits with param and code', async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v']));
    await expectApiError(alice.beta.threads.create({ metadata: tooMany }), OpenAI.BadRequestError, {
      status: 400,
      message:
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
      param: 'metadata',
      code: 'object_above_max_properties',
    });
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`k${index}`, 'v']));
    await expect(alice.beta.threads.create({ metadata: sixteen })).resolves.toMatchObject({
      metadata: sixteen,
    });

    const longKey = 'k'.repeat(65);
    await expectApiError(
      alice.beta.assistants.create({ model: 'offline', metadata: { [longKey]: 'v' } }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: `Invalid property name in 'metadata': '${longKey}' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.`,
        param: `metadata.${longKey}`,
        code: 'property_name_above_max_length',
      },
    );
    await expect(
      alice.beta.assistants.create({ model: 'offline', metadata: { ['k'.repeat(64)]: 'v'.repeat(512) } }),
    ).resolves.toMatchObject({ object: 'assistant' });

    const thread = await alice.beta.threads.create();
    await expectApiError(
      alice.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: 'x',
        metadata: { note: 'v'.repeat(513) },
      }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message:
          "Invalid 'metadata.note': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
        param: 'metadata.note',
        code: 'string_above_max_length',
      },
    );
    await expectApiError(
      alice.beta.threads.update(thread.id, { metadata: { n: 5 } as unknown as Record<string, string> }),
      OpenAI.BadRequestError,
      { status: 400, param: 'metadata.n', code: 'invalid_type' },
    );
  });

  it('enforces the message size limit on strings and on text parts, naming the field', async () => {
    const thread = await alice.beta.threads.create();
    const tooLong = 'x'.repeat(MAX_MESSAGE_CHARS + 1);
    await expectApiError(
      alice.beta.threads.messages.create(thread.id, { role: 'user', content: tooLong }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: `Invalid 'content': string too long. Expected a string with maximum length ${MAX_MESSAGE_CHARS}, but got a string with length ${MAX_MESSAGE_CHARS + 1} instead.`,
        param: 'content',
        code: 'string_above_max_length',
      },
    );
    await expectApiError(
      alice.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: [
          { type: 'text', text: 'fine' },
          { type: 'text', text: tooLong },
        ],
      }),
      OpenAI.BadRequestError,
      { status: 400, param: 'content[1].text', code: 'string_above_max_length' },
    );
    await expectApiError(
      alice.beta.threads.create({ messages: [{ role: 'user', content: tooLong }] }),
      OpenAI.BadRequestError,
      { status: 400, param: 'messages[0].content', code: 'string_above_max_length' },
    );
    await expectApiError(
      alice.beta.threads.messages.create(thread.id, { role: 'user', content: [] }),
      OpenAI.BadRequestError,
      { status: 400, param: 'content' },
    );
    await expectApiError(
      alice.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: [{ type: 'video', video: {} } as unknown as OpenAI.Beta.Threads.MessageContentPartParam],
      }),
      OpenAI.BadRequestError,
      { status: 400, param: 'content[0].type', code: 'invalid_value' },
    );
    await expect(
      alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'x'.repeat(MAX_MESSAGE_CHARS) }),
    ).resolves.toMatchObject({ role: 'user' });
  });
});
