// A worker that stores a run's ending and dies before publishing it: the streams that follow the run do not wait
// forever. Within a couple of seconds of silence each ends with an error event, and a resume answers the stored reply.
// The worker's death is played by writing the ending the way it stores it (the run ended, its seq past the events
// its clients heard, the answer's text) with no run worker in the stack, so nothing is ever published.
import { newId, schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({ SSE_HEARTBEAT_MS: '100' }, { runWorker: false, toolWorker: false });
  key = (await stack.newUser('unpublished endings')).key;
});

afterAll(async () => stack?.close());

interface Frame {
  id: string | null;
  event: string;
  data: string;
}

/** Reads a stream's frames until `until` holds (answers them and the rest of the body unread) or the body ends. */
async function readFrames(
  response: Response,
  until: (frames: Frame[]) => boolean = () => false,
): Promise<{ frames: Frame[]; rest: Promise<Frame[]> }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const frames: Frame[] = [];
  let buffer = '';
  const readUntil = async (stop: (frames: Frame[]) => boolean) => {
    for (;;) {
      if (stop(frames)) return;
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2) ?? null;
        const event = field('event');
        if (event) frames.push({ id: field('id'), event, data: field('data') ?? '' });
      }
    }
  };
  await readUntil(until);
  const seen = frames.length;
  const rest = readUntil(() => false).then(() => frames.slice(seen));
  return { frames: frames.slice(0, seen), rest };
}

const headers = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

/** What a worker stores as it ends a run, `eventsAfter` seqs past the last one published; nothing is published. */
async function storeEndingUnpublished(runId: string, text: string, eventsAfter: number): Promise<void> {
  const { db } = stack.api.deps;
  const [run] = await db.select().from(schema.runs).where(eq(schema.runs.id, runId));
  if (!run) throw new Error(`run ${runId} missing`);
  const now = new Date();
  await db.insert(schema.messages).values({
    id: newId('message'),
    threadId: run.threadId,
    runId,
    assistantId: run.assistantId,
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'text', text: { value: text, annotations: [] } }],
    completedAt: now,
  });
  await db
    .update(schema.runs)
    .set({
      status: 'completed',
      startedAt: now,
      completedAt: now,
      expiresAt: null,
      eventSeq: run.eventSeq + eventsAfter,
    })
    .where(eq(schema.runs.id, runId));
}

it('ends an Assistants stream with an error event once its run has stopped with events never published', async () => {
  const assistant = (await (
    await fetch(`${stack.baseURL}/assistants`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ model: 'offline' }),
    })
  ).json()) as { id: string };
  const response = await fetch(`${stack.baseURL}/threads/runs`, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({
      assistant_id: assistant.id,
      stream: true,
      thread: { messages: [{ role: 'user', content: 'hello' }] },
    }),
  });
  const { frames, rest } = await readFrames(response, (seen) =>
    seen.some((frame) => frame.event === 'thread.run.queued'),
  );
  const runId = (JSON.parse(frames.at(-1)?.data ?? '{}') as { id: string }).id;

  await storeEndingUnpublished(runId, 'The stored answer.', 5);

  const after = await rest;
  expect(after.map((frame) => frame.event)).toEqual(['error']);
  expect(JSON.parse(after[0]?.data ?? '{}')).toMatchObject({ code: 'stream_interrupted' });
  const threadId = (JSON.parse(frames[0]?.data ?? '{}') as { id: string }).id;
  const runUrl = `${stack.baseURL}/threads/${threadId}/runs/${runId}`;
  const run = (await (await fetch(runUrl, { headers: headers() })).json()) as { status: string };
  expect(run.status).toBe('completed');
});

it('ends a chat stream with an error event, and a resume from its last id answers the stored reply', async () => {
  const response = await fetch(`${stack.api.url}/api/chat/stream`, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({ message: 'hello' }),
  });
  const { frames, rest } = await readFrames(response, (seen) => seen.some((frame) => frame.id !== null));
  const lastId = frames.findLast((frame) => frame.id !== null)?.id ?? '0';
  const started = frames.find((frame) => frame.event === 'thread_id');
  expect(started).toBeDefined();
  const chatRunId = await latestRunOf(JSON.parse(started?.data ?? '{}').thread_id as string);

  await storeEndingUnpublished(chatRunId, 'The stored reply.', 4);

  const after = await rest;
  expect(after.map((frame) => frame.event)).toEqual(['error']);
  expect(JSON.parse(after[0]?.data ?? '{}')).toMatchObject({ code: 'stream_interrupted' });

  const resumed = await fetch(`${stack.api.url}/api/runs/${chatRunId}/events`, {
    headers: { ...headers(), 'last-event-id': lastId },
  });
  const { frames: replay } = await readFrames(resumed);
  const text = replay
    .filter((frame) => frame.event === 'text')
    .map((frame) => (JSON.parse(frame.data) as { content: string }).content)
    .join('');
  expect(text).toBe('The stored reply.');
  expect(replay.at(-1)?.event).toBe('done');
});

async function latestRunOf(threadId: string): Promise<string> {
  const [run] = await stack.api.deps.db
    .select({ id: schema.runs.id })
    .from(schema.runs)
    .where(eq(schema.runs.threadId, threadId));
  if (!run) throw new Error(`thread ${threadId} has no run`);
  return run.id;
}
