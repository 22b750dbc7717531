import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: string;
let bob: string;

type Body = Record<string, unknown> & {
  error?: { message: string; param: string | null; code: string | null };
};

async function call(
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

interface ThreadItem {
  id: string;
  assistant_id: string | null;
  last_interaction_at: number;
  last_message: { role: string; preview: string } | null;
}

beforeAll(async () => {
  stack = await startStack({ CORS_ORIGINS: 'https://app.example' });
  alice = (await stack.newUser('alice')).key;
  bob = (await stack.newUser('bob')).key;
});

afterAll(async () => {
  await stack?.close();
});

describe('GET /api/threads', () => {
  it("lists only the caller's threads, newest activity first, with the last message, page by page", async () => {
    const older = await call(bob, 'POST', '/api/chat', { message: 'older thread' });
    const newer = await call(bob, 'POST', '/api/chat', { message: 'newer thread' });
    const third = await call(bob, 'POST', '/api/chat', { message: 'third thread' });
    await call(alice, 'POST', '/api/chat', { message: 'not bob' });
    await call(bob, 'POST', '/api/chat', {
      message: 'back to the older one',
      thread_id: older.body.thread_id,
    });

    const all = await call(bob, 'GET', '/api/threads');
    const data = all.body.data as ThreadItem[];
    expect(data.map((thread) => thread.id)).toEqual([
      older.body.thread_id,
      third.body.thread_id,
      newer.body.thread_id,
    ]);
    expect(data[0]?.last_message?.role).toBe('assistant');
    expect(data[0]?.last_message?.preview).toContain('back to the older one');
    expect(data[0]?.last_message?.preview.length).toBeLessThanOrEqual(200);
    expect(data[0]?.last_interaction_at).toBeGreaterThanOrEqual(data[1]?.last_interaction_at ?? 0);
    expect(all.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });

    const first = await call(bob, 'GET', '/api/threads?limit=2');
    expect(first.body.has_more).toBe(true);
    const second = await call(bob, 'GET', `/api/threads?limit=2&cursor=${String(first.body.next_cursor)}`);
    expect(
      [...(first.body.data as ThreadItem[]), ...(second.body.data as ThreadItem[])].map((t) => t.id),
    ).toEqual(data.map((thread) => thread.id));
    expect(second.body.has_more).toBe(false);

    const badCursor = await call(bob, 'GET', '/api/threads?cursor=nonsense');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error?.param).toBe('cursor');
    const badLimit = await call(bob, 'GET', '/api/threads?limit=101');
    expect(badLimit.body.error).toMatchObject({ param: 'limit', code: 'integer_above_max_value' });
  });
});

describe('GET /api/threads/{id}/messages', () => {
  it('pages through the history, newest first by default', async () => {
    const first = await call(alice, 'POST', '/api/chat', { message: 'history one' });
    const threadId = String(first.body.thread_id);
    await call(alice, 'POST', '/api/chat', { message: 'history two', thread_id: threadId });
    const page = await call(alice, 'GET', `/api/threads/${threadId}/messages?limit=3`);
    const data = page.body.data as { id: string; role: string; content: string; object: string }[];
    expect(data.map((message) => message.role)).toEqual(['assistant', 'user', 'assistant']);
    expect(data[1]).toMatchObject({ object: 'chat.message', content: 'history two' });
    expect(page.body.has_more).toBe(true);
    const rest = await call(
      alice,
      'GET',
      `/api/threads/${threadId}/messages?limit=3&after=${String(page.body.last_id)}`,
    );
    expect((rest.body.data as { content: string }[]).map((message) => message.content)).toEqual([
      'history one',
    ]);
  });
});

describe('DELETE /api/threads/{id}', () => {
  it('clears a thread: gone from the list, its history and runs answer 404', async () => {
    const chat = await call(alice, 'POST', '/api/chat', { message: 'delete me' });
    const threadId = String(chat.body.thread_id);
    const deleted = await call(alice, 'DELETE', `/api/threads/${threadId}`);
    expect(deleted.body).toEqual({ id: threadId, object: 'chat.thread.deleted', deleted: true });
    expect((await call(alice, 'GET', `/api/threads/${threadId}/messages`)).status).toBe(404);
    expect((await call(alice, 'GET', `/api/runs/${String(chat.body.run_id)}`)).status).toBe(404);
    const list = await call(alice, 'GET', '/api/threads?limit=100');
    expect((list.body.data as ThreadItem[]).map((thread) => thread.id)).not.toContain(threadId);
    expect((await call(alice, 'DELETE', `/api/threads/${threadId}`)).status).toBe(404);
  });
});

describe('POST /api/threads', () => {
  it('gets or creates one thread per user and assistant with reuse: true', async () => {
    const carol = (await stack.newUser('carol')).key;
    const created = await call(carol, 'POST', '/api/threads', { reuse: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'chat.thread', last_message: null });
    const again = await call(carol, 'POST', '/api/threads', { reuse: true });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    const racing = await Promise.all(
      [1, 2, 3].map(() => call(carol, 'POST', '/api/threads', { reuse: true })),
    );
    expect(new Set(racing.map((answer) => answer.body.id))).toEqual(new Set([created.body.id]));

    const assistant = await call(carol, 'POST', '/v1/assistants', { model: 'offline' });
    const other = await call(carol, 'POST', '/api/threads', { assistant_id: assistant.body.id, reuse: true });
    expect(other.status).toBe(201);
    expect(other.body.assistant_id).toBe(assistant.body.id);
    expect(other.body.id).not.toBe(created.body.id);

    const fresh = await call(carol, 'POST', '/api/threads', {});
    expect(fresh.status).toBe(201);
    expect(fresh.body.id).not.toBe(created.body.id);

    const reply = await call(carol, 'POST', '/api/chat', {
      message: 'into the reused thread',
      thread_id: created.body.id,
    });
    expect(reply.body.thread_id).toBe(created.body.id);
    const foreign = await call(bob, 'POST', '/api/threads', { assistant_id: assistant.body.id, reuse: true });
    expect(foreign.status).toBe(404);
  });
});

describe('message feedback', () => {
  it('stores one rating per user and message, replaced when given again, and lists it for admins', async () => {
    const chat = await call(alice, 'POST', '/api/chat', { message: 'rate this answer' });
    const messageId = String(chat.body.message_id);
    const first = await call(alice, 'POST', `/api/messages/${messageId}/feedback`, {
      rating: -1,
      comment: 'too short',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      object: 'message.feedback',
      message_id: messageId,
      rating: -1,
      comment: 'too short',
    });
    const second = await call(alice, 'POST', `/api/messages/${messageId}/feedback`, { rating: 1 });
    expect(second.body).toMatchObject({ id: first.body.id, rating: 1, comment: null });

    const listed = await call(ADMIN_KEY, 'GET', '/admin/feedback');
    const items = listed.body.data as {
      id: string;
      rating: number;
      message_id: string;
      thread_id: string;
      message_preview: string;
    }[];
    expect(items.filter((item) => item.message_id === messageId)).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: first.body.id, rating: 1, thread_id: chat.body.thread_id });
    expect(items[0]?.message_preview).toContain('rate this answer');
    expect((await call(alice, 'GET', '/admin/feedback')).status).toBe(403);
  });

  it('refuses ratings out of range, feedback on user messages and unknown messages', async () => {
    const chat = await call(alice, 'POST', '/api/chat', { message: 'more feedback' });
    const messageId = String(chat.body.message_id);
    const outOfRange = await call(alice, 'POST', `/api/messages/${messageId}/feedback`, { rating: 5 });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.error).toMatchObject({ param: 'rating', code: 'invalid_value' });
    const history = await call(
      alice,
      'GET',
      `/api/threads/${String(chat.body.thread_id)}/messages?order=asc`,
    );
    const userMessage = (history.body.data as { id: string }[])[0];
    const onUser = await call(alice, 'POST', `/api/messages/${String(userMessage?.id)}/feedback`, {
      rating: 1,
    });
    expect(onUser.status).toBe(400);
    expect((await call(alice, 'POST', '/api/messages/msg_unknown/feedback', { rating: 1 })).status).toBe(404);
  });
});

describe('CORS', () => {
  it('lets the configured origins call the chat API from a browser, and no others', async () => {
    const preflight = await fetch(`${stack.api.url}/api/chat`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,last-event-id',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toBe(
      'authorization,content-type,last-event-id',
    );
    const answer = await fetch(`${stack.api.url}/api/threads`, {
      headers: { origin: 'https://app.example', authorization: `Bearer ${alice}` },
    });
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answer.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const other = await fetch(`${stack.api.url}/api/threads`, {
      headers: { origin: 'https://evil.example', authorization: `Bearer ${alice}` },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
