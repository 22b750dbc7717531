// Limits per end user (requests per minute, runs in flight, streams open) and per client address for requests with
// invalid credentials: over a limit answers 429 with Retry-After. No run worker: runs stay queued, streams stay open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let key: string;
let assistantId: string;

async function call(method: string, path: string, user: string | null, body?: unknown, credential = key) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${credential}`,
    'content-type': 'application/json',
  };
  if (user !== null) headers['x-threadwork-user'] = user;
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: await response.json(),
  };
}

beforeAll(async () => {
  stack = await startStack(
    {
      RATE_LIMIT_PER_USER_PER_MINUTE: '4',
      MAX_ACTIVE_RUNS_PER_USER: '1',
      MAX_STREAMS_PER_USER: '1',
      RATE_LIMIT_INVALID_AUTH_PER_MINUTE: '3',
    },
    { runWorker: false },
  );
  const user = await stack.newUser('app');
  key = user.key;
  assistantId = (await user.client.beta.assistants.create({ model: 'offline' })).id;
});

afterAll(async () => {
  await stack?.close();
});

describe('limits per end user', () => {
  it('refuses requests beyond RATE_LIMIT_PER_USER_PER_MINUTE for that end user only', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await call('GET', '/api/threads', 'rate-alice')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await call('GET', '/api/threads', 'rate-alice');
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect((await call('GET', '/api/threads', 'rate-bob')).status).toBe(200);
    expect((await call('GET', '/api/threads', null)).status).toBe(200);
  });

  it('refuses a run beyond MAX_ACTIVE_RUNS_PER_USER while the first is in flight', async () => {
    const first = await call('POST', '/v1/threads/runs', 'runs-carol', { assistant_id: assistantId });
    expect(first.status).toBe(200);
    const second = await call('POST', '/v1/threads/runs', 'runs-carol', { assistant_id: assistantId });
    expect(second.status).toBe(429);
    expect(Number(second.retryAfter)).toBeGreaterThan(0);
    const chat = await call('POST', '/api/chat/stream', 'runs-carol', { message: 'hi' });
    expect(chat.status).toBe(429);
    expect((await call('POST', '/v1/threads/runs', 'runs-dave', { assistant_id: assistantId })).status).toBe(
      200,
    );
  });

  it('refuses a stream beyond MAX_STREAMS_PER_USER, and gives the place back when the stream closes', async () => {
    const run = await call('POST', '/v1/threads/runs', 'streams-erin', { assistant_id: assistantId });
    const path = `${stack.api.url}/api/runs/${run.body.id as string}/events`;
    const headers = { authorization: `Bearer ${key}`, 'x-threadwork-user': 'streams-erin' };
    const open = new AbortController();
    const first = await fetch(path, { headers, signal: open.signal });
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    const second = await fetch(path, { headers });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    open.abort();
    const deadline = Date.now() + 5_000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      const again = await fetch(path, { headers, signal: AbortSignal.timeout(2_000) });
      status = again.status;
      await again.body?.cancel();
    }
    expect(status).toBe(200);
  });
});

describe('invalid credentials', () => {
  it('are limited per client address: past the limit the address is refused with 429 before any lookup', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await call('GET', '/api/threads', null, undefined, `sk-tw-wrong-${i}`)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const blocked = await call('GET', '/api/threads', null, undefined, 'sk-tw-wrong-again');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.retryAfter)).toBeGreaterThan(0);
  });
});
