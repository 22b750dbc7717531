import { schema } from '@threadwork/shared';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: string;
let aliceClient: OpenAI;
let aliceProject: string;

const catalog = [
  {
    id: 'dog-food-1',
    name: 'Crunchy Dog Food',
    description: 'Dry dog food with chicken for adult dogs',
    price: 24.5,
    currency: 'EUR',
    url: 'https://shop.example/dog-food-1',
    imageUrl: 'https://shop.example/dog-food-1.jpg',
    categories: ['dogs'],
  },
  {
    id: 'dog-food-2',
    name: 'Puppy Dog Food',
    description: 'Soft dog food for puppies',
    price: 19.9,
    currency: 'EUR',
    url: null,
    imageUrl: null,
    categories: ['dogs'],
  },
  {
    id: 'cat-toy-1',
    name: 'Feather Cat Toy',
    description: 'A toy for cats',
    price: 4,
    currency: 'EUR',
    url: null,
    imageUrl: null,
    categories: ['cats'],
  },
];

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

function parseEvents(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .map((block) => ({
      event: /^event: (.+)$/m.exec(block)?.[1] ?? '',
      data: /^data: (.+)$/m.exec(block)?.[1] ?? '',
    }))
    .filter((item) => item.event && item.data)
    .map((item) => ({ event: item.event, data: JSON.parse(item.data) as Record<string, unknown> }));
}

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  stack = await startStack();
  ({ key: alice, client: aliceClient, projectId: aliceProject } = await stack.newUser('alice'));
  await stack.api.deps.db
    .insert(schema.products)
    .values(catalog.map((product) => ({ ...product, projectId: aliceProject })));
});

afterAll(async () => {
  await stack?.close();
});

describe('products in the chat API', () => {
  it('"show me dog food" searches the catalog and answers the cards it showed', async () => {
    const response = await post('/api/chat', { message: 'show me dog food' });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(200);
    expect(body.status).toBe('completed');
    const calls = body.tool_calls as { name: string; arguments: string; output: string | null }[];
    expect(calls.map((call) => call.name)).toEqual(['search_products', 'show_products']);
    expect(calls.every((call) => call.output !== null)).toBe(true);
    const cards = body.products as {
      id: string;
      name: string;
      price: number | null;
      image_url: string | null;
    }[];
    expect(cards.map((card) => card.id).sort()).toEqual(['dog-food-1', 'dog-food-2']);
    expect(cards.find((card) => card.id === 'dog-food-1')).toMatchObject({
      name: 'Crunchy Dog Food',
      price: 24.5,
      image_url: 'https://shop.example/dog-food-1.jpg',
    });
    expect(body.response).toContain('Crunchy Dog Food');
  });

  it('streams tool activity and a products event, and keeps the cards in the history', async () => {
    const response = await post('/api/chat/stream', { message: 'show me dog food' });
    const events = parseEvents(await response.text());
    expect(events[0]?.event).toBe('thread_id');
    expect(events.at(-1)?.event).toBe('done');
    const tools = events
      .filter((event) => event.event === 'tool')
      .map((event) => [event.data.name, event.data.status]);
    expect(tools).toEqual([
      ['search_products', 'started'],
      ['search_products', 'completed'],
      ['show_products', 'started'],
      ['show_products', 'completed'],
    ]);
    const products = events.find((event) => event.event === 'products');
    const cards = (products?.data.products ?? []) as { id: string }[];
    expect(cards.map((card) => card.id).sort()).toEqual(['dog-food-1', 'dog-food-2']);
    const names = events.map((event) => event.event);
    expect(names.indexOf('products')).toBeLessThan(names.lastIndexOf('text'));

    const threadId = String(events[0]?.data.thread_id);
    const history = await fetch(`${stack.api.url}/api/threads/${threadId}/messages`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    const [answer] = ((await history.json()) as { data: { role: string; products: { id: string }[] }[] })
      .data;
    expect(answer?.role).toBe('assistant');
    expect(answer?.products.map((card) => card.id).sort()).toEqual(['dog-food-1', 'dog-food-2']);
  });
});

// The shop assistant's catalog and function use WooCommerce's integer ids: they must come back as integers.
describe('integer product ids, as the shop assistant sends them', () => {
  const wooCatalog = {
    products: [
      { id: 101, name: 'Crunchy Dog Food', description: 'Dry dog food', price: 24.5, currency: 'EUR' },
      {
        id: 'dog-food-2',
        name: 'Puppy Dog Food',
        description: 'Soft dog food',
        price: 19.9,
        currency: 'EUR',
      },
    ],
  };

  beforeAll(async () => {
    const response = await fetch(`${stack.api.url}/admin/projects/${aliceProject}/catalog`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(wooCatalog),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'imported', count: 2 });
  });

  it('answers cards whose ids have the type the catalog gave them', async () => {
    const response = await post('/api/chat', { message: 'show me dog food' });
    const body = (await response.json()) as { products: { id: unknown }[] };
    expect(body.products.map((card) => card.id).sort()).toEqual([101, 'dog-food-2']);
  });

  it('runs show_products with {"product_ids": [101]}', async () => {
    const assistant = await aliceClient.beta.assistants.create({
      model: 'offline',
      tools: [{ type: 'show_products' } as unknown as OpenAI.Beta.AssistantTool],
    });
    const thread = await aliceClient.beta.threads.create({
      messages: [{ role: 'user', content: JSON.stringify({ product_ids: [101] }) }],
    });
    const run = await aliceClient.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
      tool_choice: { type: 'function', function: { name: 'show_products' } },
    });
    expect(run.status).toBe('completed');
    const view = (await (
      await fetch(`${stack.api.url}/api/runs/${run.id}`, { headers: { authorization: `Bearer ${alice}` } })
    ).json()) as { products: { id: unknown; name: string }[]; tool_calls: { arguments: string }[] };
    expect(view.tool_calls.map((call) => JSON.parse(call.arguments))).toEqual([{ product_ids: [101] }]);
    expect(view.products).toMatchObject([{ id: 101, name: 'Crunchy Dog Food' }]);
  });
});

describe('GET /api/threads/{thread_id}/export', () => {
  const get = (key: string, path: string) =>
    fetch(`${stack.api.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  it('exports the messages with roles, times, tool calls, product cards and feedback, as JSON and Markdown', async () => {
    const chat = (await (await post('/api/chat', { message: 'show me dog food' })).json()) as {
      thread_id: string;
      message_id: string;
    };
    const rated = await post(`/api/messages/${chat.message_id}/feedback`, {
      rating: 1,
      comment: 'just right',
    });
    expect(rated.status).toBe(200);

    const json = await get(alice, `/api/threads/${chat.thread_id}/export?format=json`);
    expect(json.status).toBe(200);
    const exported = (await json.json()) as {
      thread_id: string;
      messages: {
        role: string;
        content: string;
        created_at: number;
        tool_calls: { name: string }[];
        products: { id: unknown }[];
        feedback: { rating: number; comment: string | null }[];
      }[];
    };
    expect(exported.thread_id).toBe(chat.thread_id);
    expect(exported.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    const [question, answer] = exported.messages;
    expect(question).toMatchObject({
      content: 'show me dog food',
      tool_calls: [],
      products: [],
      feedback: [],
    });
    expect(answer?.created_at).toBeGreaterThanOrEqual(question?.created_at ?? Number.POSITIVE_INFINITY);
    expect(answer?.tool_calls.map((call) => call.name)).toEqual(['search_products', 'show_products']);
    expect(answer?.products.map((card) => card.id).sort()).toEqual([101, 'dog-food-2']);
    expect(answer?.feedback).toMatchObject([{ rating: 1, comment: 'just right' }]);

    const markdown = await get(alice, `/api/threads/${chat.thread_id}/export?format=markdown`);
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    const text = await markdown.text();
    expect(text).toContain(`# Thread ${chat.thread_id}`);
    expect(text).toMatch(/## User · \d{4}-\d\d-\d\dT/);
    expect(text).toContain('show me dog food');
    expect(text).toContain('**Tool call** `show_products`');
    expect(text).toContain('- Crunchy Dog Food — 24.5 EUR (id 101)');
    expect(text).toContain('Feedback: 👍 helpful — just right');
  });

  it("answers 404 for another user's thread and 400 for an unknown format", async () => {
    const chat = (await (await post('/api/chat', { message: 'private' })).json()) as { thread_id: string };
    const bob = (await stack.newUser('bob')).key;
    const other = await get(bob, `/api/threads/${chat.thread_id}/export`);
    expect(other.status).toBe(404);
    const format = await get(alice, `/api/threads/${chat.thread_id}/export?format=pdf`);
    expect(format.status).toBe(400);
    expect(((await format.json()) as { error: { param: string } }).error.param).toBe('format');
  });
});
