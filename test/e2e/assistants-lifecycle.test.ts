// The run state machine through the official SDK: cancel from queued, in_progress and requires_action, and races
// that the database decides (a submit against a cancel, two runs on one thread).

import { waitFor } from '@threadwork/testing';
import OpenAI from 'openai';
import type { AssistantStreamEvent } from 'openai/resources/beta/assistants';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { ASSISTANTS_TEST_ENV, expectApiError, textOf, waitForRunStatus } from './assistants-helpers.js';

let stack: Stack;
let alice: OpenAI;
let assistantId: string;

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const forceWeather = { type: 'function' as const, function: { name: 'get_weather' } };
/** A message the offline model echoes word by word: long enough to stay in progress for seconds. */
const LONG = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');

beforeAll(async () => {
  // One run at a time, and slow tokens: a second run waits queued while the first one is in progress.
  stack = await startStack({ ...ASSISTANTS_TEST_ENV, RUN_CONCURRENCY: '1', OFFLINE_TOKEN_DELAY_MS: '25' });
  alice = (await stack.newUser('alice')).client;
  assistantId = (await alice.beta.assistants.create({ model: 'offline', tools: [weatherTool] })).id;
});

afterAll(async () => {
  await stack?.close();
});

async function runWaitingForTools(city: string) {
  const thread = await alice.beta.threads.create({
    messages: [{ role: 'user', content: JSON.stringify({ city }) }],
  });
  const run = await alice.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistantId,
    tool_choice: forceWeather,
  });
  expect(run.status).toBe('requires_action');
  const call = run.required_action?.submit_tool_outputs.tool_calls[0];
  if (!call) throw new Error('no tool call');
  return { thread, run, call };
}

/** Starts a slow streamed run and resolves once its first text delta has arrived. */
async function slowStreamedRun(threadId: string) {
  const events: AssistantStreamEvent[] = [];
  const stream = alice.beta.threads.runs
    .stream(threadId, { assistant_id: assistantId })
    .on('event', (event) => events.push(event));
  await new Promise<void>((resolve) => stream.once('textDelta', () => resolve()));
  const runId = stream.currentRun()?.id;
  if (!runId) throw new Error('no run in the stream');
  return { stream, events, runId };
}

describe('cancelling a run', () => {
  it('cancels in_progress: the model stops, the message is incomplete and the step cancelled', async () => {
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: LONG }] });
    const { stream, events, runId } = await slowStreamedRun(thread.id);
    const cancelling = await alice.beta.threads.runs.cancel(runId, { thread_id: thread.id });
    expect(cancelling).toMatchObject({ id: runId, status: 'cancelling' });
    const final = await stream.finalRun();
    expect(final).toMatchObject({ status: 'cancelled', expires_at: null });
    expect(final.cancelled_at).toBeTypeOf('number');
    const names = events.map((event) => event.event).filter((name) => name !== 'thread.message.delta');
    expect(names.slice(-4)).toEqual([
      'thread.run.cancelling',
      'thread.message.incomplete',
      'thread.run.step.cancelled',
      'thread.run.cancelled',
    ]);
    const [message] = (await alice.beta.threads.messages.list(thread.id, { run_id: runId })).data;
    expect(message).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'run_cancelled' } });
    expect(textOf(message).length).toBeLessThan(LONG.length);
    const [step] = (await alice.beta.threads.runs.steps.list(runId, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ type: 'message_creation', status: 'cancelled' });
    expect(step?.cancelled_at).toBeTypeOf('number');
    await expectApiError(
      alice.beta.threads.runs.cancel(runId, { thread_id: thread.id }),
      OpenAI.BadRequestError,
      {
        status: 400,
        message: "Cannot cancel run with status 'cancelled'.",
      },
    );
    await expect(
      alice.beta.threads.messages.create(thread.id, { role: 'user', content: 'free again' }),
    ).resolves.toMatchObject({ role: 'user' });
  });

  it('cancels a queued run that no worker has taken, and its stream ends cancelled', async () => {
    const busy = await alice.beta.threads.create({ messages: [{ role: 'user', content: LONG }] });
    const holder = await slowStreamedRun(busy.id);
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: 'wait your turn' }],
    });
    const names: string[] = [];
    const waiting = alice.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
    waiting.on('event', (event) => names.push(event.event));
    await new Promise<void>((resolve) =>
      waiting.on('event', (event) => {
        if (event.event === 'thread.run.queued') resolve();
      }),
    );
    const queued = waiting.currentRun();
    if (!queued) throw new Error('no run in the stream');
    expect((await alice.beta.threads.runs.retrieve(queued.id, { thread_id: thread.id })).status).toBe(
      'queued',
    );
    const cancelling = await alice.beta.threads.runs.cancel(queued.id, { thread_id: thread.id });
    expect(cancelling.status).toBe('cancelling');
    const final = await waiting.finalRun();
    expect(final.status).toBe('cancelled');
    expect(final.started_at).toBeNull();
    expect(names).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.cancelling',
      'thread.run.cancelled',
    ]);
    expect((await alice.beta.threads.runs.steps.list(queued.id, { thread_id: thread.id })).data).toEqual([]);

    await alice.beta.threads.runs.cancel(holder.runId, { thread_id: busy.id });
    expect((await holder.stream.finalRun()).status).toBe('cancelled');
  });

  it('cancels requires_action: the tool step is cancelled and outputs are refused', async () => {
    const { thread, run, call } = await runWaitingForTools('Lima');
    const cancelling = await alice.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    expect(cancelling.status).toBe('cancelling');
    const cancelled = await waitForRunStatus(alice, thread.id, run.id, ['cancelled']);
    expect(cancelled.required_action).toBeNull();
    const [step] = (await alice.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ type: 'tool_calls', status: 'cancelled' });
    await expectApiError(
      alice.beta.threads.runs.submitToolOutputs(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'late' }],
      }),
      OpenAI.BadRequestError,
      { status: 400, message: 'Runs in status "cancelled" do not accept tool outputs.' },
    );
    const next = await alice.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistantId,
      tool_choice: 'none',
    });
    expect(next.status).toBe('completed');
  });
});

describe('races decided by the database', () => {
  it('lets exactly one of a concurrent submit_tool_outputs and cancel win', async () => {
    const { thread, run, call } = await runWaitingForTools('Quito');
    // Hold the run's row so both requests have read `requires_action` and wait on the same compare-and-set.
    const holder = new pg.Client({ connectionString: stack.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from runs where id = $1 for update', [run.id]);
      const ids = { thread_id: thread.id };
      const racing = Promise.allSettled([
        alice.beta.threads.runs.submitToolOutputs(run.id, {
          ...ids,
          tool_outputs: [{ tool_call_id: call.id, output: 'warm' }],
        }),
        alice.beta.threads.runs.cancel(run.id, ids),
      ]);
      await waitForLockWaiters(holder, 2);
      await holder.query('commit');
      const [submitted, cancelled] = await racing;
      expect([submitted.status, cancelled.status].filter((status) => status === 'fulfilled')).toHaveLength(1);
      const loser =
        submitted.status === 'rejected'
          ? submitted.reason
          : cancelled.status === 'rejected'
            ? cancelled.reason
            : null;
      expect(loser).toBeInstanceOf(OpenAI.BadRequestError);
      const final = await waitForRunStatus(alice, thread.id, run.id, ['completed', 'cancelled']);
      expect(final.status).toBe(submitted.status === 'fulfilled' ? 'completed' : 'cancelled');
    } finally {
      await holder.end();
    }
  });

  it('lets exactly one of two concurrent runs on a thread start', async () => {
    const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'only once' }] });
    const results = await Promise.allSettled([
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistantId, tool_choice: 'none' }),
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistantId, tool_choice: 'none' }),
      alice.beta.threads.runs.create(thread.id, { assistant_id: assistantId, tool_choice: 'none' }),
    ]);
    const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    expect(started).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(OpenAI.BadRequestError);
        expect((result.reason as Error).message).toBe(
          `400 Thread ${thread.id} already has an active run ${started[0]?.id}.`,
        );
      }
    }
    await waitForRunStatus(alice, thread.id, started[0]?.id ?? '', ['completed']);
    expect((await alice.beta.threads.runs.list(thread.id)).data).toHaveLength(1);
  });
});

/** Waits until `count` other sessions of this database wait on a lock (the racing requests' updates). */
async function waitForLockWaiters(client: pg.Client, count: number, timeoutMs = 10_000): Promise<void> {
  let waiting = 0;
  await waitFor(
    async () => {
      // Statistics are snapshotted once per transaction, and the holder is inside one: drop the snapshot each time.
      await client.query('select pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ waiting: number }>(
        `select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
      );
      waiting = rows[0]?.waiting ?? 0;
      return waiting >= count;
    },
    { timeoutMs, intervalMs: 10, what: () => `${count} sessions to wait on the run's row (${waiting} do)` },
  );
}
