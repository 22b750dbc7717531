// Attacks the fuzzer found, repeated: text Postgres refuses, JSON nested thousands deep, integers past the column.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let key: string;
let threadId: string;
let assistantId: string;

beforeAll(async () => {
  stack = await startStack({}, { runWorker: false, toolWorker: false });
  const user = await stack.newUser();
  key = user.key;
  threadId = (await user.client.beta.threads.create()).id;
  assistantId = (await user.client.beta.assistants.create({ model: 'offline' })).id;
});

afterAll(async () => {
  await stack?.close();
});

interface ErrorAnswer {
  status: number;
  error: { message: string; param: string | null; code: string | null };
}

async function send(method: string, path: string, body?: string): Promise<ErrorAnswer> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  const answer = (await response.json()) as { error: ErrorAnswer['error'] };
  return { status: response.status, error: answer.error };
}

/** `depth` arrays around `inner`, written as text: JSON.stringify would overflow the stack building it. */
function nested(depth: number, inner = '1'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

describe('text Postgres cannot store', () => {
  it('answers 404 for a NUL byte in a path id', async () => {
    for (const path of [`/v1/threads/%00`, `/v1/assistants/asst_%00`, `/v1/threads/${threadId}/runs/%00`]) {
      expect((await send('GET', path)).status, path).toBe(404);
    }
    expect((await send('DELETE', `/api/threads/%00`)).status).toBe(404);
  });

  it('answers 400 naming the parameter for a NUL byte in a cursor', async () => {
    const answer = await send('GET', `/v1/threads/${threadId}/messages?after=%00`);
    expect(answer).toMatchObject({ status: 400, error: { param: 'after', code: 'invalid_value' } });
    expect(answer.error.message).toContain('NUL');
    expect((await send('GET', '/v1/assistants?before=a%00b')).status).toBe(400);
    expect((await send('GET', '/api/threads?after=%00')).status).toBe(400);
  });

  it('refuses a lone surrogate in message content with a clear 400', async () => {
    const answer = await send(
      'POST',
      `/v1/threads/${threadId}/messages`,
      '{"role":"user","content":"\\ud800"}',
    );
    expect(answer).toMatchObject({ status: 400, error: { param: 'content', code: 'invalid_value' } });
    expect(answer.error.message).toContain('unpaired UTF-16 surrogate');
    const low = await send('POST', '/api/chat', '{"message":"hi \\udfff there"}');
    expect(low).toMatchObject({ status: 400, error: { param: 'message' } });
  });

  it('refuses NUL in content, metadata values and keys, and names', async () => {
    const cases: [string, string, string][] = [
      [`/v1/threads/${threadId}/messages`, '{"role":"user","content":"a\\u0000b"}', 'content'],
      [
        `/v1/threads/${threadId}/messages`,
        '{"role":"user","content":[{"type":"text","text":"\\u0000"}]}',
        'content[0].text',
      ],
      ['/v1/threads', '{"metadata":{"k":"v\\u0000"}}', 'metadata.k'],
      ['/v1/threads', '{"metadata":{"k\\u0000":"v"}}', 'metadata.k\u0000'],
      ['/v1/assistants', '{"model":"offline","name":"\\ud800x"}', 'name'],
      ['/v1/assistants', '{"model":"offline","name":"a\\u0000"}', 'name'],
    ];
    for (const [path, body, param] of cases) {
      expect(await send('POST', path, body), body).toMatchObject({ status: 400, error: { param } });
    }
  });

  it('still stores surrogate pairs (emoji) and other unusual text as sent', async () => {
    const text = 'emoji 😀, RTL שלום, zero-width \u200b, replacement \ufffd';
    const response = await fetch(`${stack.baseURL}/threads/${threadId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'user', content: text, metadata: { '😀': '😀' } }),
    });
    expect(response.status).toBe(200);
    const message = (await response.json()) as { content: { text: { value: string } }[] };
    expect(message.content[0]?.text.value).toBe(text);
  });
});

describe('JSON nested thousands of levels deep', () => {
  it('answers 400 for deep nesting in tool_choice, response_format, role and rating', async () => {
    const runs = `/v1/threads/${threadId}/runs`;
    const cases: [string, string][] = [
      [runs, `{"assistant_id":"${assistantId}","tool_choice":${nested(5_000)}}`],
      [runs, `{"assistant_id":"${assistantId}","response_format":{"type":${nested(5_000)}}}`],
      [`/v1/threads/${threadId}/messages`, `{"role":${nested(5_000)},"content":"x"}`],
      ['/api/messages/msg_x/feedback', `{"rating":${nested(5_000)}}`],
      ['/v1/assistants', `{"model":"offline","metadata":{"a":${nested(100_000, '{"b":1}')}}}`],
    ];
    for (const [path, body] of cases) {
      const answer = await send('POST', path, body);
      expect(answer, body.slice(0, 60)).toMatchObject({ status: 400, error: { code: 'invalid_json' } });
      expect(answer.error.message).toContain('nested too deeply');
    }
  });

  it('still accepts a tool schema nested a realistic few levels deep', async () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let level = 0; level < 12; level += 1) schema = { type: 'object', properties: { inner: schema } };
    const response = await fetch(`${stack.baseURL}/assistants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'offline',
        tools: [{ type: 'function', function: { name: 'deep', parameters: schema } }],
      }),
    });
    expect(response.status).toBe(200);
  });
});

describe('integers past a Postgres integer column', () => {
  it('refuses max_prompt_tokens and max_completion_tokens of 2147483648', async () => {
    for (const field of ['max_prompt_tokens', 'max_completion_tokens']) {
      const answer = await send(
        'POST',
        '/v1/threads/runs',
        `{"assistant_id":"${assistantId}","${field}":2147483648}`,
      );
      expect(answer).toMatchObject({
        status: 400,
        error: { param: field, code: 'integer_above_max_value' },
      });
    }
  });

  it('accepts 2147483647, the largest the column holds', async () => {
    const response = await fetch(`${stack.baseURL}/threads/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        assistant_id: assistantId,
        max_prompt_tokens: 2_147_483_647,
        max_completion_tokens: 2_147_483_647,
        truncation_strategy: { type: 'last_messages', last_messages: 2_147_483_647 },
      }),
    });
    expect(response.status).toBe(200);
    const run = (await response.json()) as { max_prompt_tokens: number };
    expect(run.max_prompt_tokens).toBe(2_147_483_647);
  });
});
