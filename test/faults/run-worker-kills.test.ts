// The run worker SIGKILLed three times while 30 streamed runs are in flight: every run ends, keeping exactly what
// its clients received, with one answer per thread, and every client's stream ends with a terminal event.
import { waitFor } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTerminal, ChildWorker, reportFigures, textOf, threadMessages } from '../support/fault-runs.js';
import { type ApiClient, apiClient, type RunStream, within } from '../support/run-streams.js';
import { type Stack, startStack } from '../support/stack.js';

const timing = {
  RUN_LEASE_MS: 1500,
  SWEEP_INTERVAL_MS: 500,
  SWEEP_QUEUED_GRACE_MS: 500,
};

let stack: Stack;
let api: ApiClient;
let assistantId: string;
let worker: ChildWorker;

beforeAll(async () => {
  stack = await startStack(
    {
      ...Object.fromEntries(Object.entries(timing).map(([name, value]) => [name, String(value)])),
      RUN_JOB_LOCK_MS: '1000',
      OFFLINE_TOKEN_DELAY_MS: '40',
    },
    { runWorker: false, toolWorker: false },
  );
  api = apiClient(stack.api.url, (await stack.newUser('kills')).key);
  assistantId = (
    await api.json<{ id: string }>('/v1/assistants', { method: 'POST', body: { model: 'offline' } })
  ).id;
  worker = new ChildWorker(stack, 'run-worker');
});

afterAll(async () => {
  await worker?.kill();
  await stack?.close();
});

/** A message whose offline echo is long enough (about 60 words) to be mid-answer when the worker is killed. */
function message(index: number): string {
  const words = Array.from({ length: 30 }, (_, word) => `w${index}x${word}`).join(' ');
  return `Please repeat this long list back to me: ${words}`;
}

/** Ten runs, half streamed in each dialect. */
async function startWave(wave: number): Promise<RunStream[]> {
  return Promise.all(
    Array.from({ length: 10 }, (_, index) => {
      const text = message(wave * 10 + index);
      return index % 2 === 0 ? api.streamAssistantsRun(assistantId, text) : api.streamChat(text, assistantId);
    }),
  );
}

function streaming(streams: RunStream[], atLeast: number): Promise<unknown> {
  return waitFor(async () => streams.filter((stream) => stream.deltas >= 2).length >= atLeast, {
    timeoutMs: 20_000,
    what: `${atLeast} runs to be streaming`,
  });
}

/** Ends a client: a terminal event, or an interrupted stream resumed until one comes. */
async function finish(stream: RunStream): Promise<{ text: string; endedAt: number; resumed: boolean }> {
  const ending = await within(stream.ending, 30_000, `the stream of ${stream.runId} to end`);
  if (ending.kind === 'terminal') return { text: stream.text, endedAt: ending.at, resumed: false };
  expect(ending.kind, `stream of ${stream.runId} closed without a terminal or error event`).toBe(
    'interrupted',
  );
  // The Assistants dialect has no ids: its resume starts from the beginning.
  const from = stream.dialect === 'simple' ? stream.lastId : 0;
  const resumed = await api.resume(stream.runId ?? '', from);
  const again = await within(resumed.ending, 30_000, `the resume of ${stream.runId} to end`);
  expect(again.kind).toBe('terminal');
  if (from === 0) expect(resumed.text.startsWith(stream.text)).toBe(true);
  return { text: from === 0 ? resumed.text : stream.text + resumed.text, endedAt: again.at, resumed: true };
}

describe('a run worker SIGKILLed three times while 30 streamed runs are in flight', () => {
  it('ends every run keeping what its clients received, once per thread, and ends every stream', async () => {
    await worker.start();
    const first = await startWave(0);
    await streaming(first, 5);
    await worker.kill();
    const killedAt = [Date.now()];

    // Created while no worker runs: their jobs wait; the restarted worker is killed as soon as it claims them.
    const second = await startWave(1);
    await worker.start();
    // Looked for often: the kill must come before the first token (40 ms) of the runs claimed with it.
    await waitFor(async () => second.some((stream) => stream.runEvents.includes('thread.run.in_progress')), {
      timeoutMs: 20_000,
      intervalMs: 2,
      what: 'the restarted worker to claim a run of the second wave',
    });
    await worker.kill();
    killedAt.push(Date.now());

    await worker.start();
    const third = await startWave(2);
    await streaming(third, 5);
    await worker.kill();
    killedAt.push(Date.now());
    await worker.start();

    const streams = [...first, ...second, ...third];
    const ends = await Promise.all(streams.map(finish));
    const runIds = streams.map((stream) => stream.runId ?? '');
    const { rows } = await allTerminal(stack.api.deps.db, runIds, 30_000);

    const statuses: Record<string, number> = {};
    for (const [index, stream] of streams.entries()) {
      const run = rows.find((row) => row.id === stream.runId);
      expect(run, `run of stream ${index}`).toBeDefined();
      if (!run) continue;
      statuses[run.status] = (statuses[run.status] ?? 0) + 1;
      expect(['completed', 'failed']).toContain(run.status);
      if (run.status === 'failed') expect(run.lastError?.code).toBe('server_error');
      const messages = await threadMessages(stack.api.deps.db, run.threadId);
      expect(messages.filter((row) => row.role === 'user')).toHaveLength(1);
      const answers = messages.filter((row) => row.role === 'assistant');
      expect(answers, `answers on the thread of ${run.id}`).toHaveLength(1);
      const answer = answers[0];
      if (!answer) continue;
      expect(answer.status).toBe(run.status === 'completed' ? 'completed' : 'incomplete');
      expect(textOf(answer), `stored text of ${run.id} (${run.status})`).toBe(ends[index]?.text);
    }
    expect((statuses.completed ?? 0) + (statuses.failed ?? 0)).toBe(30);
    // A run claimed and abandoned before it streamed is queued again, and its clients are told so before it
    // starts over (two in_progress in a row mean the announcement was refused).
    const claims = streams
      .filter((stream) => stream.dialect === 'assistants')
      .map((stream) =>
        stream.runEvents.filter((event) => /^thread\.run\.(queued|in_progress)$/.test(event)).join(' '),
      );
    expect(claims.filter((seen) => seen.includes('thread.run.in_progress thread.run.in_progress'))).toEqual(
      [],
    );
    expect(
      claims.filter((seen) => seen.includes('thread.run.in_progress thread.run.queued')).length,
    ).toBeGreaterThan(0);
    expect(worker.output.join('').match(/.*XADD.*/g) ?? []).toEqual([]);
    // Each kill interrupted answers mid-stream: some runs failed keeping their text, and the others completed.
    expect(statuses.failed ?? 0).toBeGreaterThan(0);
    expect(statuses.completed ?? 0).toBeGreaterThan(0);
    reportFigures('run worker SIGKILLed 3 times', {
      statuses,
      resumed: ends.filter((end) => end.resumed).length,
      lastStreamEndedMsAfterThirdKill: Math.max(...ends.map((end) => end.endedAt)) - (killedAt[2] ?? 0),
    });
  }, 90_000);
});
