import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: OpenAI;
let bob: OpenAI;

beforeAll(async () => {
  stack = await startStack();
  alice = (await stack.newUser('alice')).client;
  bob = (await stack.newUser('bob')).client;
});

afterAll(async () => {
  await stack?.close();
});

describe('a first run through the official openai SDK', () => {
  it('streams an offline answer whose deltas assemble exactly the stored message', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline', name: 'Echo' });
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: 'Hello there, Threadwork' }],
    });
    let streamed = '';
    const stream = alice.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    const run = await stream.finalRun();
    expect(run.status).toBe('completed');
    expect(run.usage?.total_tokens).toBeGreaterThan(0);
    const retrieved = await alice.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    expect(retrieved.status).toBe('completed');
    const messages = await alice.beta.threads.messages.list(thread.id, { order: 'asc' });
    expect(messages.data.map((message) => message.role)).toEqual(['user', 'assistant']);
    const answer = messages.data[1];
    expect(answer?.run_id).toBe(run.id);
    const text = answer?.content[0]?.type === 'text' ? answer.content[0].text.value : '';
    expect(text).toContain('Hello there, Threadwork');
    expect(text).toContain('offline');
    expect(streamed).toBe(text);
  });

  it('completes a run with createAndPoll', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create();
    await alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'poll me' });
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
    expect(run.status).toBe('completed');
    expect(run.completed_at).toBeTypeOf('number');
    expect(run.expires_at).toBeNull();
  });

  it("answers 404 when another user's key asks for a thread", async () => {
    const thread = await alice.beta.threads.create();
    await expect(bob.beta.threads.retrieve(thread.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(bob.beta.threads.messages.list(thread.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.beta.threads.retrieve(thread.id)).resolves.toMatchObject({ id: thread.id });
  });

  it('streams raw SSE that ends with event: done', async () => {
    const assistant = await alice.beta.assistants.create({ model: 'offline' });
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'raw' }] });
    const response = await fetch(`${stack.baseURL}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: assistant.id, stream: true }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = await response.text();
    const names = [...body.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
    expect(names[0]).toBe('thread.run.created');
    expect(names.at(-2)).toBe('thread.run.completed');
    expect(names.at(-1)).toBe('done');
    expect(body.endsWith('event: done\ndata: [DONE]\n\n')).toBe(true);
  });
});
