// A message sent while the thread is busy: multitask_strategy on the chat API (default enqueue) and, as a
// Threadwork extension, on /v1 run creation (default reject), each with two messages sent back to back.
import { waitFor } from '@threadwork/testing';
import OpenAI from 'openai';
import type { RunCreateParamsNonStreaming } from 'openai/resources/beta/threads/runs/runs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sseFrames } from '../support/run-streams.js';
import { type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV, expectApiError, textOf, waitForRunStatus } from './assistants-helpers.js';

let stack: Stack;
let key: string;
let client: OpenAI;
let assistantId: string;

/** A message whose echo streams for a while (the offline model sleeps OFFLINE_TOKEN_DELAY_MS per token). */
const LONG = Array.from({ length: 150 }, (_, index) => `word${index}`).join(' ');
const TERMINAL = ['completed', 'incomplete', 'failed', 'cancelled', 'expired'];

beforeAll(async () => {
  stack = await startStack({ ...ASSISTANTS_TEST_ENV, OFFLINE_TOKEN_DELAY_MS: '8' });
  ({ key, client } = await stack.newUser('double texter'));
  assistantId = (await client.beta.assistants.create({ model: 'offline' })).id;
});

afterAll(async () => {
  await stack?.close();
});

type Body = Record<string, unknown> & { error?: { message: string } };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const chat = (body: Record<string, unknown>) => call('POST', '/api/chat', body);

/** What the offline model answers to a message: it quotes it. */
const echoOf = (text: string) => `You said: "${text}".`;

async function chatRunWhenStopped(runId: string): Promise<Body> {
  return waitFor(
    async () => {
      const { body } = await call('GET', `/api/runs/${runId}`);
      return TERMINAL.includes(String(body.status)) && body;
    },
    { timeoutMs: 20_000, intervalMs: 20, what: `run ${runId} to stop` },
  );
}

interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  status: string;
  run_id: string | null;
}

async function history(threadId: string): Promise<ChatMessage[]> {
  const { body } = await call('GET', `/api/threads/${threadId}/messages?order=asc&limit=100`);
  return body.data as ChatMessage[];
}

/** Starts a slow turn (no wait) and waits until its answer is being written. */
async function busyThread(): Promise<{ threadId: string; runId: string }> {
  const { status, body } = await chat({ message: LONG, wait: false });
  expect(status).toBe(202);
  const runId = String(body.run_id);
  const threadId = String(body.thread_id);
  await waitFor(
    async () => {
      const { data } = await client.beta.threads.messages.list(threadId, { run_id: runId });
      return data[0]?.status === 'in_progress';
    },
    { timeoutMs: 10_000, intervalMs: 10, what: 'the first answer to stream' },
  );
  return { threadId, runId };
}

describe('POST /api/chat on a busy thread', () => {
  it('enqueue (the default): the second message waits its turn, and each run answers its own message', async () => {
    const first = await chat({ message: LONG, wait: false });
    const threadId = String(first.body.thread_id);
    const second = await chat({ message: 'and a second thing', thread_id: threadId });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'completed' });
    expect(second.body.response).toContain(echoOf('and a second thing'));
    const firstView = await chatRunWhenStopped(String(first.body.run_id));
    expect(firstView).toMatchObject({ status: 'completed' });
    expect(firstView.response).toContain(echoOf(LONG));
    // The second run started only once the first had ended.
    const [firstRun, secondRun] = await Promise.all(
      [first.body.run_id, second.body.run_id].map((id) =>
        client.beta.threads.runs.retrieve(String(id), { thread_id: threadId }),
      ),
    );
    expect(secondRun?.started_at).toBeGreaterThanOrEqual(firstRun?.completed_at ?? Number.POSITIVE_INFINITY);
    const messages = await history(threadId);
    expect(messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      LONG,
      'and a second thing',
    ]);
    expect(messages.filter((m) => m.role === 'assistant').map((m) => m.run_id)).toEqual([
      first.body.run_id,
      second.body.run_id,
    ]);
  });

  it('reject: answers 400 naming the active run, as before', async () => {
    const { threadId, runId } = await busyThread();
    const refused = await chat({ message: 'too soon', thread_id: threadId, multitask_strategy: 'reject' });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toBe(`Thread ${threadId} already has an active run ${runId}.`);
    expect((await history(threadId)).map((m) => m.content)).not.toContain('too soon');
    await chatRunWhenStopped(runId);
  });

  it('interrupt: the active run is cancelled keeping the text its stream received, and the new one answers', async () => {
    const response = await fetch(`${stack.api.url}/api/chat/stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: LONG }),
    });
    expect(response.status).toBe(200);
    if (!response.body) throw new Error('no stream');
    let streamed = '';
    let threadId = '';
    let firstRunId = '';
    let interrupted: Promise<{ status: number; body: Body }> | null = null;
    let done: Body | null = null;
    for await (const frame of sseFrames(response.body)) {
      const data = JSON.parse(frame.data) as Body;
      if (data.type === 'thread_id') [threadId, firstRunId] = [String(data.thread_id), String(data.run_id)];
      if (data.type === 'text') streamed += String(data.content);
      // Sent once the first answer is under way.
      if (data.type === 'text' && !interrupted) {
        interrupted = chat({
          message: 'stop, this instead',
          thread_id: threadId,
          multitask_strategy: 'interrupt',
        });
      }
      if (data.type === 'done') done = data;
    }
    expect(done).toMatchObject({ status: 'cancelled', run_id: firstRunId });
    const second = await interrupted;
    expect(second?.status).toBe(200);
    expect(second?.body).toMatchObject({ status: 'completed' });
    expect(second?.body.response).toContain(echoOf('stop, this instead'));
    const messages = await history(threadId);
    const cut = messages.find((m) => m.run_id === firstRunId);
    expect(cut).toMatchObject({ status: 'incomplete', content: streamed });
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.length).toBeLessThan(echoOf(LONG).length);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('rollback: the active run is cancelled and its answer removed; the user messages stay', async () => {
    const { threadId, runId } = await busyThread();
    const second = await chat({
      message: 'forget that',
      thread_id: threadId,
      multitask_strategy: 'rollback',
    });
    expect(second.status).toBe(200);
    expect(second.body.response).toContain(echoOf('forget that'));
    expect(await chatRunWhenStopped(runId)).toMatchObject({ status: 'cancelled', response: null });
    const messages = await history(threadId);
    expect(messages.map((m) => [m.role, m.run_id])).toEqual([
      ['user', null],
      ['user', null],
      ['assistant', second.body.run_id],
    ]);
    expect((await client.beta.threads.runs.steps.list(runId, { thread_id: threadId })).data).toEqual([]);
  });

  it('enqueue keeps the order of 20 messages sent at once, each run answering its own message', async () => {
    const opened = await chat({ message: 'opening' });
    const threadId = String(opened.body.thread_id);
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        chat({ message: `message ${index}`, thread_id: threadId, wait: false }),
      ),
    );
    expect(sent.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    const views = await Promise.all(sent.map((answer) => chatRunWhenStopped(String(answer.body.run_id))));
    views.forEach((view, index) => {
      expect(view.status).toBe('completed');
      expect(view.response).toContain(echoOf(`message ${index}`));
    });
    const later = (await history(threadId)).slice(2);
    const users = later.filter((m) => m.role === 'user');
    const answers = later.filter((m) => m.role === 'assistant');
    expect(users).toHaveLength(20);
    // The answers come in the order of the messages, each quoting its own.
    answers.forEach((answer, index) => {
      expect(answer.content).toContain(echoOf(users[index]?.content ?? ''));
    });
  });
});

describe('/v1 run creation with multitask_strategy (a Threadwork extension)', () => {
  /** A thread whose first run streams slowly, followed until its first text. */
  async function slowRun() {
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: LONG }] });
    let streamed = '';
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistantId })
      .on('textDelta', (delta) => {
        streamed += delta.value ?? '';
      });
    await new Promise<void>((resolve) => stream.once('textDelta', () => resolve()));
    const runId = stream.currentRun()?.id;
    if (!runId) throw new Error('no run in the stream');
    return { threadId: thread.id, runId, stream, streamed: () => streamed };
  }

  function runWith(threadId: string, strategy: string | undefined, content: string) {
    const params = {
      assistant_id: assistantId,
      additional_messages: [{ role: 'user', content }],
      ...(strategy ? { multitask_strategy: strategy } : {}),
    } as RunCreateParamsNonStreaming;
    return client.beta.threads.runs.create(threadId, params);
  }

  it('reject is the default, as on OpenAI', async () => {
    const { threadId, runId, stream } = await slowRun();
    await expectApiError(runWith(threadId, undefined, 'too soon'), OpenAI.BadRequestError, {
      status: 400,
      message: `Thread ${threadId} already has an active run ${runId}.`,
    });
    await expectApiError(runWith(threadId, 'reject', 'too soon'), OpenAI.BadRequestError, { status: 400 });
    await expectApiError(runWith(threadId, 'sometimes', 'too soon'), OpenAI.BadRequestError, {
      status: 400,
      param: 'multitask_strategy',
    });
    expect(await stream.finalRun()).toMatchObject({ status: 'completed' });
  });

  it('enqueue: the new run is queued behind the active one and answers its own message after it', async () => {
    const { threadId, runId, stream } = await slowRun();
    const queued = await runWith(threadId, 'enqueue', 'next please');
    expect(queued.status).toBe('queued');
    const second = await waitForRunStatus(client, threadId, queued.id, ['completed'], 20_000);
    const first = await stream.finalRun();
    expect(first.status).toBe('completed');
    expect(second.started_at).toBeGreaterThanOrEqual(first.completed_at ?? Number.POSITIVE_INFINITY);
    const messages = (await client.beta.threads.messages.list(threadId, { order: 'asc' })).data;
    expect(messages.map((m) => [m.role, m.run_id])).toEqual([
      ['user', null],
      ['assistant', runId],
      ['user', null],
      ['assistant', queued.id],
    ]);
    expect(textOf(messages[3])).toContain(echoOf('next please'));
  });

  it('a waiting run can be cancelled like any run: it ends at once, and the run behind it moves up', async () => {
    const { threadId, stream } = await slowRun();
    const second = await runWith(threadId, 'enqueue', 'second');
    const third = await runWith(threadId, 'enqueue', 'third');
    expect(await client.beta.threads.runs.cancel(second.id, { thread_id: threadId })).toMatchObject({
      status: 'cancelling',
    });
    await waitForRunStatus(client, threadId, second.id, ['cancelled']);
    await waitForRunStatus(client, threadId, third.id, ['completed'], 20_000);
    expect((await stream.finalRun()).status).toBe('completed');
    expect((await client.beta.threads.messages.list(threadId, { run_id: second.id })).data).toEqual([]);
    const [answer] = (await client.beta.threads.messages.list(threadId, { run_id: third.id })).data;
    expect(textOf(answer)).toContain(echoOf('third'));
  });

  it('interrupt: the active run ends cancelled with the text it streamed, and the new run answers', async () => {
    const { threadId, runId, stream, streamed } = await slowRun();
    const next = await runWith(threadId, 'interrupt', 'stop, this instead');
    expect(await stream.finalRun()).toMatchObject({ id: runId, status: 'cancelled' });
    await waitForRunStatus(client, threadId, next.id, ['completed'], 20_000);
    const [cut] = (await client.beta.threads.messages.list(threadId, { run_id: runId })).data;
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'run_cancelled' } });
    expect(textOf(cut)).toBe(streamed());
    const [answer] = (await client.beta.threads.messages.list(threadId, { run_id: next.id })).data;
    expect(textOf(answer)).toContain(echoOf('stop, this instead'));
  });

  it('rollback: the active run ends cancelled and its messages and steps are removed', async () => {
    const { threadId, runId, stream } = await slowRun();
    const next = await runWith(threadId, 'rollback', 'forget that');
    expect(await stream.finalRun()).toMatchObject({ id: runId, status: 'cancelled' });
    await waitForRunStatus(client, threadId, next.id, ['completed'], 20_000);
    expect((await client.beta.threads.messages.list(threadId, { run_id: runId })).data).toEqual([]);
    expect((await client.beta.threads.runs.steps.list(runId, { thread_id: threadId })).data).toEqual([]);
    const messages = (await client.beta.threads.messages.list(threadId, { order: 'asc' })).data;
    expect(messages.map((m) => [m.role, m.run_id])).toEqual([
      ['user', null],
      ['user', null],
      ['assistant', next.id],
    ]);
  });
});
