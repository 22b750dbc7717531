import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let alice: string;

interface SseEvent {
  id: number | null;
  event: string;
  data: Record<string, unknown>;
}

function parseBlock(block: string): SseEvent | null {
  let id: number | null = null;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = Number(line.slice(4));
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data.length > 0 ? { id, event, data: JSON.parse(data.join('\n')) as Record<string, unknown> } : null;
}

/** Reads SSE events until the body ends or `stopWhen` says to stop (then the connection is cut). */
async function readEvents(
  response: Response,
  stopWhen: (events: SseEvent[]) => boolean = () => false,
  controller?: AbortController,
): Promise<{ events: SseEvent[]; raw: string }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  let raw = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      raw += text;
      buffer += text;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) events.push(event);
        end = buffer.indexOf('\n\n');
      }
      if (stopWhen(events)) {
        controller?.abort();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return { events, raw };
}

function postStream(body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${stack.api.url}/api/chat/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

function getEvents(runId: string, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${stack.api.url}/api/runs/${runId}/events${query}`, {
    headers: { authorization: `Bearer ${alice}`, ...headers },
  });
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.api.url}${path}`, { headers: { authorization: `Bearer ${alice}` } });
  return (await response.json()) as Record<string, unknown>;
}

const textOf = (events: SseEvent[]) =>
  events
    .filter((event) => event.event === 'text')
    .map((event) => String(event.data.content))
    .join('');

/** The run's stored reply, once it has stopped. */
async function storedReply(runId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const view = await getJson(`/api/runs/${runId}`);
    if (!['queued', 'in_progress'].includes(String(view.status)) || Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  stack = await startStack({
    OFFLINE_TOKEN_DELAY_MS: '20',
    SSE_HEARTBEAT_MS: '50',
    CHAT_WAIT_TIMEOUT_MS: '150',
  });
  alice = (await stack.newUser('alice')).key;
});

afterAll(async () => {
  await stack?.close();
});

describe('POST /api/chat/stream', () => {
  it('streams thread_id first, text deltas that make up the stored reply, and done last, each with an id', async () => {
    const response = await postStream({ message: 'Stream this sentence to me, please' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const { events, raw } = await readEvents(response);
    expect(events[0]?.event).toBe('thread_id');
    expect(events.at(-1)?.event).toBe('done');
    expect(new Set(events.map((event) => event.event))).toEqual(new Set(['thread_id', 'text', 'done']));
    expect(events.filter((event) => event.event === 'text').length).toBeGreaterThan(5);
    const ids = events.map((event) => event.id);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect([...ids].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(ids);
    expect(raw).toContain(': keep-alive');
    const threadId = String(events[0]?.data.thread_id);
    const runId = String(events[0]?.data.run_id);
    const done = events.at(-1)?.data as Record<string, unknown>;
    expect(done).toMatchObject({ thread_id: threadId, run_id: runId, status: 'completed', model: 'offline' });
    expect((done.usage as { total_tokens: number }).total_tokens).toBeGreaterThan(0);
    const view = await getJson(`/api/runs/${runId}`);
    expect(view.status).toBe('completed');
    expect(textOf(events)).toBe(view.response);
    expect(done.message_id).toBe(view.message_id);
    expect(textOf(events)).toContain('Stream this sentence to me, please');
  });

  it('answers errors before the stream opens as JSON in the OpenAI shape', async () => {
    const response = await postStream({ message: '' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('message');
  });
});

/** The shop widget's parser: it reads only the `data:` lines and switches on their `type`. */
function widgetMessages(raw: string): Record<string, unknown>[] {
  return raw
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

function widgetReply(messages: Record<string, unknown>[]): string {
  return messages
    .filter((message) => message.type === 'text')
    .map((message) => String(message.content))
    .join('');
}

describe('a client that reads only data: lines', () => {
  it('finds the type in every event, the reply in text and the thread in done', async () => {
    const { events, raw } = await readEvents(await postStream({ message: 'Widget, read this' }));
    const messages = widgetMessages(raw);
    expect(messages.map((message) => message.type)).toEqual(events.map((event) => event.event));
    const done = messages.at(-1) ?? {};
    expect(done).toMatchObject({ type: 'done', thread_id: events[0]?.data.thread_id, status: 'completed' });
    expect(Number.isInteger(done.tokens_used)).toBe(true);
    expect(done.tokens_used).toBe((done.usage as { total_tokens: number }).total_tokens);
    const runId = String(events[0]?.data.run_id);
    expect(widgetReply(messages)).toBe((await getJson(`/api/runs/${runId}`)).response);
    // event: and id: lines are unchanged for EventSource-style parsers.
    expect(events.every((event) => event.id !== null)).toBe(true);
  });

  it('finds the type in a replayed stream and in one told from Postgres', async () => {
    const { raw } = await readEvents(await postStream({ message: 'Widget, replay this' }));
    const runId = String(widgetMessages(raw)[0]?.run_id);
    const replayed = widgetMessages((await readEvents(await getEvents(runId))).raw);
    expect(replayed.map((message) => message.type)).toEqual(
      widgetMessages(raw).map((message) => message.type),
    );
    const prefix = stack.config.QUEUE_PREFIX;
    await stack.api.deps.redis.del(`${prefix}:run:{${runId}}:events`, `${prefix}:run:{${runId}}:seq`);
    const told = widgetMessages((await readEvents(await getEvents(runId))).raw);
    expect(told.map((message) => message.type)).toEqual(['thread_id', 'text', 'done']);
    expect(widgetReply(told)).toBe(widgetReply(replayed));
  });
});

describe('GET /api/runs/{run_id}/events', () => {
  it('resumes with Last-Event-ID after a forced disconnect: no gap, no duplicate, and the run went on', async () => {
    const controller = new AbortController();
    const first = await readEvents(
      await postStream({ message: 'one two three four five six seven eight nine ten' }, controller.signal),
      (events) => events.filter((event) => event.event === 'text').length >= 3,
      controller,
    );
    expect(first.events.at(-1)?.event).toBe('text');
    const runId = String(first.events[0]?.data.run_id);
    const lastId = first.events.at(-1)?.id;
    expect(lastId).toBeTypeOf('number');
    const second = await readEvents(await getEvents(runId, { 'last-event-id': String(lastId) }));
    expect(second.events[0]).toMatchObject({ event: 'thread_id', id: null, data: { run_id: runId } });
    expect(second.events.at(-1)?.event).toBe('done');
    const resumedIds = second.events.slice(1).map((event) => event.id ?? 0);
    expect(Math.min(...resumedIds)).toBeGreaterThan(lastId ?? 0);
    expect(new Set(resumedIds).size).toBe(resumedIds.length);
    const view = await storedReply(runId);
    expect(view.status).toBe('completed');
    expect(textOf(first.events) + textOf(second.events)).toBe(view.response);
  });

  it('replays a run that already ended and ends with done; last_event_id in the query resumes too', async () => {
    const stream = await readEvents(await postStream({ message: 'replay me later' }));
    const runId = String(stream.events[0]?.data.run_id);
    const replay = await readEvents(await getEvents(runId));
    expect(replay.events.map((event) => [event.id, event.event])).toEqual(
      stream.events.map((event) => [event.id, event.event]),
    );
    const middle = stream.events.filter((event) => event.event === 'text')[2];
    const rest = await readEvents(await getEvents(runId, {}, `?last_event_id=${String(middle?.id)}`));
    const before = stream.events.filter(
      (event) => event.event === 'text' && (event.id ?? 0) <= (middle?.id ?? 0),
    );
    expect(textOf(before) + textOf(rest.events)).toBe(textOf(stream.events));
    const atEnd = await readEvents(
      await getEvents(runId, { 'last-event-id': String(stream.events.at(-1)?.id) }),
    );
    expect(atEnd.events.map((event) => event.event)).toEqual(['thread_id', 'done']);
    expect(atEnd.events[1]?.data.status).toBe('completed');
  });

  it('tells an ended run from Postgres when its events have expired from Redis', async () => {
    const stream = await readEvents(await postStream({ message: 'forget my events' }));
    const runId = String(stream.events[0]?.data.run_id);
    const prefix = stack.config.QUEUE_PREFIX;
    await stack.api.deps.redis.del(`${prefix}:run:{${runId}}:events`, `${prefix}:run:{${runId}}:seq`);
    const told = await readEvents(await getEvents(runId));
    expect(told.events.map((event) => event.event)).toEqual(['thread_id', 'text', 'done']);
    expect(textOf(told.events)).toBe(textOf(stream.events));
    expect(told.events.at(-1)?.data.status).toBe('completed');
  });

  it('refuses a Last-Event-ID that is not a number', async () => {
    const stream = await readEvents(await postStream({ message: 'ids' }));
    const response = await getEvents(String(stream.events[0]?.data.run_id), { 'last-event-id': 'abc' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('last_event_id');
  });
});

describe('POST /api/chat past its wait deadline', () => {
  it('answers 202 with the current status and where to follow the run, which then completes', async () => {
    const response = await fetch(`${stack.api.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'a reply slower than the wait deadline of this stack' }),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Record<string, string>;
    expect(['queued', 'in_progress']).toContain(body.status);
    expect(body.poll_url).toBe(`/api/runs/${body.run_id}`);
    const followed = await readEvents(await getEvents(String(body.run_id)));
    expect(followed.events.at(-1)?.data.status).toBe('completed');
    expect(textOf(followed.events)).toBe((await getJson(String(body.poll_url))).response);
  });
});
