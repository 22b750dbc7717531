import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({
    SSE_HEARTBEAT_MS: '25',
    SSE_MAX_LIFETIME_MS: '150',
    OFFLINE_TOKEN_DELAY_MS: '200',
  });
  key = (await stack.newUser()).key;
});

afterAll(async () => {
  await stack?.close();
});

describe('SSE connection upkeep', () => {
  it('sends keep-alive comments and closes a stream that outlives its maximum lifetime', async () => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const assistant = (await (
      await fetch(`${stack.baseURL}/assistants`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'offline' }),
      })
    ).json()) as { id: string };
    const response = await fetch(`${stack.baseURL}/threads/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        assistant_id: assistant.id,
        stream: true,
        thread: { messages: [{ role: 'user', content: 'a slow answer, please' }] },
      }),
    });
    const body = await response.text();
    expect(body).toContain(': keep-alive\n\n');
    expect(body).toContain('event: thread.run.created');
    expect(body).not.toContain('event: done');
    const run =
      /"id":"(run_[0-9A-Za-z]+)","object":"thread.run","created_at":\d+,"thread_id":"(thread_[0-9A-Za-z]+)"/.exec(
        body,
      );
    const cancelled = await fetch(`${stack.baseURL}/threads/${run?.[2]}/runs/${run?.[1]}/cancel`, {
      method: 'POST',
      headers,
    });
    expect(cancelled.status).toBe(200);
  });
});
