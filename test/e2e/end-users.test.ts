// End users inside a project: a server key acting for one (`X-Threadwork-User`) sees only that end user's threads,
// runs, messages and feedback; another end user's ids answer 404; the key without the header sees the whole project.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let serverKey: string;
let project: OpenAI;
let alice: OpenAI;
let bob: OpenAI;
let assistantId: string;

type Body = Record<string, unknown> & { error?: { code: string | null; type: string } };

function asUser(client: OpenAI, user: string): OpenAI {
  return client.withOptions({ defaultHeaders: { 'X-Threadwork-User': user } });
}

async function call(
  method: string,
  path: string,
  user: string | null,
  body?: unknown,
): Promise<{ status: number; body: Body }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${serverKey}`,
    'content-type': 'application/json',
  };
  if (user !== null) headers['x-threadwork-user'] = user;
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

beforeAll(async () => {
  stack = await startStack();
  const app = await stack.newUser('mobile app backend');
  serverKey = app.key;
  project = app.client;
  alice = asUser(project, 'alice');
  bob = asUser(project, 'bob');
  assistantId = (await project.beta.assistants.create({ model: 'offline', name: 'coach' })).id;
});

afterAll(async () => {
  await stack?.close();
});

describe('a server key acting for end users through the official SDK', () => {
  it("keeps two end users' threads, messages and runs apart; the key alone sees the whole project", async () => {
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'my secret' }] });
    const run = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId });
    expect(run.status).toBe('completed');
    const [message] = (await alice.beta.threads.messages.list(thread.id)).data;
    if (!message) throw new Error('no message');

    const attempts: [string, () => Promise<unknown>][] = [
      ['retrieve thread', () => bob.beta.threads.retrieve(thread.id)],
      ['modify thread', () => bob.beta.threads.update(thread.id, { metadata: { a: 'b' } })],
      ['delete thread', () => bob.beta.threads.delete(thread.id)],
      ['list messages', () => bob.beta.threads.messages.list(thread.id)],
      ['add message', () => bob.beta.threads.messages.create(thread.id, { role: 'user', content: 'hi' })],
      ['retrieve message', () => bob.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })],
      ['delete message', () => bob.beta.threads.messages.delete(message.id, { thread_id: thread.id })],
      ['list runs', () => bob.beta.threads.runs.list(thread.id)],
      ['create run', () => bob.beta.threads.runs.create(thread.id, { assistant_id: assistantId })],
      ['retrieve run', () => bob.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })],
      ['cancel run', () => bob.beta.threads.runs.cancel(run.id, { thread_id: thread.id })],
      ['list run steps', () => bob.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })],
    ];
    for (const [name, attempt] of attempts) {
      await expect(attempt(), name).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    }

    expect((await alice.beta.threads.retrieve(thread.id)).id).toBe(thread.id);
    expect((await project.beta.threads.retrieve(thread.id)).id).toBe(thread.id);
    expect((await project.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status).toBe(
      'completed',
    );
    expect((await alice.beta.threads.messages.list(thread.id)).data).toHaveLength(2);
  });

  it('gives a thread made with create-thread-and-run to the end user it was made for', async () => {
    const run = await bob.beta.threads.createAndRunPoll({
      assistant_id: assistantId,
      thread: { messages: [{ role: 'user', content: 'hello' }] },
    });
    await expect(alice.beta.threads.retrieve(run.thread_id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await bob.beta.threads.retrieve(run.thread_id)).id).toBe(run.thread_id);
  });

  it('refuses an end-user id that is empty, too long or has spaces', async () => {
    for (const user of ['a b', 'x'.repeat(257)]) {
      const answer = await call('GET', `/v1/assistants`, user);
      expect(answer.status, user).toBe(400);
      expect(answer.body.error?.code).toBe('invalid_end_user');
    }
  });
});

describe('the chat API for end users', () => {
  it('gets or creates one thread per end user and assistant with reuse: true', async () => {
    const first = await call('POST', '/api/threads', 'carol', { assistant_id: assistantId, reuse: true });
    const again = await call('POST', '/api/threads', 'carol', { assistant_id: assistantId, reuse: true });
    const dave = await call('POST', '/api/threads', 'dave', { assistant_id: assistantId, reuse: true });
    const project = await call('POST', '/api/threads', null, { assistant_id: assistantId, reuse: true });
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(dave.body.id).not.toBe(first.body.id);
    expect(project.body.id).not.toBe(first.body.id);
    expect(project.body.id).not.toBe(dave.body.id);
  });

  it("lists only the end user's threads, and answers 404 for another's thread, run, messages and feedback", async () => {
    const mine = await call('POST', '/api/chat', 'erin', { message: 'only for erin' });
    expect(mine.status).toBe(200);
    const threadId = String(mine.body.thread_id);
    const listed = await call('GET', '/api/threads', 'frank');
    expect((listed.body.data as { id: string }[]).map((thread) => thread.id)).not.toContain(threadId);
    expect(
      ((await call('GET', '/api/threads', 'erin')).body.data as { id: string }[]).map((thread) => thread.id),
    ).toEqual([threadId]);
    const whole = await call('GET', '/api/threads?limit=100', null);
    expect((whole.body.data as { id: string }[]).map((thread) => thread.id)).toContain(threadId);

    const attempts: [string, string, unknown?][] = [
      ['GET', `/api/threads/${threadId}/messages`],
      ['GET', `/api/threads/${threadId}/export`],
      ['DELETE', `/api/threads/${threadId}`],
      ['GET', `/api/runs/${String(mine.body.run_id)}`],
      ['GET', `/api/runs/${String(mine.body.run_id)}/events`],
      ['POST', `/api/messages/${String(mine.body.message_id)}/feedback`, { rating: 1 }],
      ['POST', '/api/chat', { message: 'hijack', thread_id: threadId }],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await call(method, path, 'frank', body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(JSON.stringify(answer.body)).not.toContain('only for erin');
    }
    const rated = await call('POST', `/api/messages/${String(mine.body.message_id)}/feedback`, 'erin', {
      rating: 1,
    });
    expect(rated.status).toBe(200);
  });
});
