import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: string;
let bob: string;

interface Answer {
  status: number;
  body: Record<string, unknown> & {
    error?: { message: string; type: string; param: string | null; code: string | null };
  };
}

async function call(key: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** Polls the run until it stops, with a deadline: what a mobile client without SSE does. */
async function pollUntilStopped(key: string, pollUrl: string, deadlineMs = 15_000): Promise<Answer> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const answer = await call(key, 'GET', pollUrl);
    if (!['queued', 'in_progress'].includes(String(answer.body.status)) || Date.now() > deadline)
      return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  stack = await startStack();
  alice = (await stack.newUser('alice')).key;
  bob = (await stack.newUser('bob')).key;
});

afterAll(async () => {
  await stack?.close();
});

describe('POST /api/chat', () => {
  it('waits for the run and answers the reply with usage, model and cost', async () => {
    const started = Date.now();
    const { status, body } = await call(alice, 'POST', '/api/chat', { message: 'Hello from the chat API' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'completed',
      model_used: 'offline',
      products: [],
      tool_calls: [],
      error: null,
    });
    expect(body.thread_id).toMatch(/^thread_/);
    expect(body.run_id).toMatch(/^run_/);
    expect(body.message_id).toMatch(/^msg_/);
    expect(body.response).toContain('Hello from the chat API');
    expect(body.response).toContain('offline');
    const usage = body.usage as {
      prompt_tokens: number;
      completion_tokens: number;
      total_tokens: number;
    };
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    // The wellness-coach client decodes tokens_used as an integer.
    expect(Number.isInteger(body.tokens_used)).toBe(true);
    expect(body.tokens_used).toBe(usage.total_tokens);
    expect(body.cost_estimate).toBeTypeOf('number');
    expect(body.response_time_ms).toBeTypeOf('number');
    expect(body.response_time_ms as number).toBeLessThanOrEqual(Date.now() - started);
  });

  it('continues a thread and records the default assistant on a new one', async () => {
    const first = await call(alice, 'POST', '/api/chat', { message: 'first turn' });
    const second = await call(alice, 'POST', '/api/chat', {
      message: 'second turn',
      thread_id: first.body.thread_id,
    });
    expect(second.status).toBe(200);
    expect(second.body.thread_id).toBe(first.body.thread_id);
    const history = await call(
      alice,
      'GET',
      `/api/threads/${String(first.body.thread_id)}/messages?order=asc`,
    );
    const data = history.body.data as { role: string; content: string; run_id: string | null }[];
    expect(data.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(data[2]?.content).toBe('second turn');
    expect(data[3]?.run_id).toBe(second.body.run_id);
    const assistants = await call(alice, 'GET', '/v1/assistants');
    const byDefault = (
      assistants.body.data as { id: string; model: string; tools: { type: string }[] }[]
    ).find((assistant) => assistant.tools.some((tool) => tool.type === 'show_products'));
    expect(byDefault?.model).toBe('offline');
    expect(byDefault?.tools.map((tool) => tool.type)).toEqual([
      'list_tables',
      'get_schema',
      'run_sql',
      'search_products',
      'show_products',
    ]);
    const threads = await call(alice, 'GET', '/api/threads');
    const thread = (threads.body.data as { id: string; assistant_id: string }[]).find(
      (item) => item.id === first.body.thread_id,
    );
    expect(thread?.assistant_id).toBe(byDefault?.id);
  });

  it('uses the assistant it is given, with additional instructions and metadata', async () => {
    const assistant = await call(alice, 'POST', '/v1/assistants', { model: 'offline', name: 'Plain' });
    const { status, body } = await call(alice, 'POST', '/api/chat', {
      message: 'plain',
      assistant_id: assistant.body.id,
      additional_instructions: 'Be brief.',
      metadata: { client: 'ios' },
    });
    expect(status).toBe(200);
    const run = await call(alice, 'GET', `/v1/threads/${String(body.thread_id)}/runs/${String(body.run_id)}`);
    expect(run.body).toMatchObject({ assistant_id: assistant.body.id, metadata: { client: 'ios' } });
    expect(String(run.body.instructions)).toContain('Be brief.');
  });

  it('stops at requires_action when the assistant asks for a client function, in every view', async () => {
    const assistant = await call(alice, 'POST', '/v1/assistants', {
      model: 'offline',
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    });
    const { status, body } = await call(alice, 'POST', '/api/chat', {
      message: '{"city":"Paris"}',
      assistant_id: assistant.body.id,
    });
    expect(status).toBe(200);
    expect(body.status).toBe('requires_action');
    expect(body.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        output: null,
      },
    ]);
    const events = async (lastEventId: string) => {
      const response = await fetch(`${stack.api.url}/api/runs/${String(body.run_id)}/events`, {
        headers: { authorization: `Bearer ${alice}`, 'last-event-id': lastEventId },
      });
      return [...(await response.text()).matchAll(/^id: (\d+)\nevent: (\w+)$/gm)].map((match) => ({
        id: match[1],
        event: match[2],
      }));
    };
    const replayed = await events('0');
    expect(replayed.map((event) => event.event)).toEqual(['thread_id', 'tool', 'done']);
    const resumed = await events(String(replayed.at(-1)?.id));
    expect(resumed.map((event) => event.event)).toEqual(['done']);
  });

  it('answers 202 with poll and stream URLs when told not to wait, and the poll reaches completed', async () => {
    const { status, body } = await call(alice, 'POST', '/api/chat', {
      message: 'do not wait for me',
      wait: false,
    });
    expect(status).toBe(202);
    expect(body).toEqual({
      thread_id: expect.stringMatching(/^thread_/),
      run_id: expect.stringMatching(/^run_/),
      status: 'queued',
      poll_url: `/api/runs/${String(body.run_id)}`,
      stream_url: `/api/runs/${String(body.run_id)}/events`,
    });
    const polled = await pollUntilStopped(alice, String(body.poll_url));
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({
      status: 'completed',
      run_id: body.run_id,
      thread_id: body.thread_id,
    });
    expect(polled.body.response).toContain('do not wait for me');
    expect(polled.body.tokens_used).toBe((polled.body.usage as { total_tokens: number }).total_tokens);
  });

  it('answers validation errors in the OpenAI error shape', async () => {
    const missing = await call(alice, 'POST', '/api/chat', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({
      message: "Missing required parameter: 'message'.",
      type: 'invalid_request_error',
      param: 'message',
      code: 'missing_required_parameter',
    });
    const unknown = await call(alice, 'POST', '/api/chat', { message: 'hi', stream: true });
    expect(unknown.body.error).toMatchObject({ param: 'stream', code: 'unknown_parameter' });
    const blank = await call(alice, 'POST', '/api/chat', { message: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body.error?.param).toBe('message');
    const badWait = await call(alice, 'POST', '/api/chat', { message: 'hi', wait: 'no' });
    expect(badWait.body.error).toMatchObject({ param: 'wait', code: 'invalid_type' });
    const tooLong = await call(alice, 'POST', '/api/chat', {
      message: 'x'.repeat(stack.config.MAX_MESSAGE_CHARS + 1),
    });
    expect(tooLong.body.error).toMatchObject({ param: 'message', code: 'string_above_max_length' });
    const noKey = await fetch(`${stack.api.url}/api/chat`, { method: 'POST' });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as Answer['body']).error?.code).toBe('missing_api_key');
    const noAssistant = await call(alice, 'POST', '/api/chat', {
      message: 'hi',
      assistant_id: 'asst_missing',
    });
    expect(noAssistant.status).toBe(404);
    expect(noAssistant.body.error?.param).toBe('assistant_id');
  });
});

describe("other users' ids", () => {
  it('answer 404 for runs, threads, messages and feedback', async () => {
    const mine = await call(alice, 'POST', '/api/chat', { message: 'private' });
    const threadId = String(mine.body.thread_id);
    const runId = String(mine.body.run_id);
    const notFound = [
      await call(bob, 'GET', `/api/runs/${runId}`),
      await call(bob, 'GET', `/api/runs/${runId}/events`),
      await call(bob, 'GET', `/api/threads/${threadId}/messages`),
      await call(bob, 'DELETE', `/api/threads/${threadId}`),
      await call(bob, 'POST', '/api/chat', { message: 'sneak in', thread_id: threadId }),
      await call(bob, 'POST', `/api/messages/${String(mine.body.message_id)}/feedback`, { rating: 1 }),
    ];
    expect(notFound.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(notFound[0]?.body.error?.message).toBe(`No run found with id '${runId}'.`);
    expect(notFound[4]?.body.error?.param).toBe('thread_id');
    const bobsThreads = await call(bob, 'GET', '/api/threads');
    expect((bobsThreads.body.data as { id: string }[]).map((thread) => thread.id)).not.toContain(threadId);
    expect((await call(alice, 'GET', `/api/runs/${runId}`)).status).toBe(200);
  });
});
