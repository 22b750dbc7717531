// Driving a run against real Postgres and Redis, with a scripted model: what a turn stores and what it announces.
import {
  type EventBus,
  endRunEarly,
  toMessageObject,
  toRunObject,
  toRunStepObject,
} from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRun } from '../src/execute-run.js';
import {
  answerEvents,
  eventsOf as eventsIn,
  type Harness,
  storedRows as rowsIn,
  startHarness,
} from './support/harness.js';
import { insertQueuedRun } from './support/rows.js';
import type { ModelStep } from './support/scripted-model.js';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('execute-run-test');
});

afterAll(async () => {
  await harness?.close();
});

const depsFor = (steps: ModelStep[]) => harness.depsFor(steps);
const eventsOf = (runId: string) => eventsIn(harness.runtime, runId);
const storedRows = (runId: string) => rowsIn(harness.runtime, runId);

const answer: ModelStep[] = [
  { type: 'text', delta: 'Hello' },
  { type: 'text', delta: ' there' },
  { type: 'usage', promptTokens: 7, completionTokens: 2 },
  { type: 'finish', reason: 'stop' },
];

describe('executeRun', () => {
  it('completes a plain run and announces the rows exactly as they were stored', async () => {
    const { runId, ownerId } = await insertQueuedRun(harness.runtime.db);
    await executeRun(depsFor(answer), runId, runId);

    const { run, message, steps, usageLogs, thread } = await storedRows(runId);
    const events = await eventsOf(runId);
    expect(events.names).toEqual(['thread.run.in_progress', ...answerEvents, 'thread.run.completed']);
    expect(run).toMatchObject({
      status: 'completed',
      usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
    });
    expect(message).toMatchObject({
      status: 'completed',
      content: [{ type: 'text', text: { value: 'Hello there', annotations: [] } }],
    });
    expect(steps).toHaveLength(1);
    const [step] = steps;
    expect(step).toMatchObject({ type: 'message_creation', status: 'completed' });
    if (!run || !message || !step) throw new Error('rows missing');
    expect(events.data('thread.run.completed')).toEqual(toRunObject(run));
    expect(events.data('thread.message.completed')).toEqual(toMessageObject(message));
    expect(events.data('thread.run.step.completed')).toEqual(toRunStepObject(step));
    expect(events.data('thread.message.created')).toEqual(
      toMessageObject({ ...message, status: 'in_progress', content: [], completedAt: null }),
    );
    expect(events.data('thread.run.step.created')).toEqual(
      toRunStepObject({ ...step, status: 'in_progress', completedAt: null, usage: null }),
    );
    expect(usageLogs).toEqual([
      expect.objectContaining({
        ownerId,
        model: 'offline',
        promptTokens: 7,
        completionTokens: 2,
        totalTokens: 9,
        costUsd: '0.00900000',
      }),
    ]);
    expect(thread?.lastActivityAt).toEqual(run.completedAt);
  });

  it('writes, announces and streams an answer at its first text, while the model goes on', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db);
    const streamedBeforeTheRest = async () => {
      // The model goes on only once its first text is stored and out.
      await waitFor(async () =>
        (await harness.runtime.events.read(runId)).find((item) => item.event === 'thread.message.delta'),
      );
      const { message } = await storedRows(runId);
      expect(message).toMatchObject({ status: 'in_progress', content: [] });
    };
    await executeRun(
      depsFor([answer[0] as ModelStep, streamedBeforeTheRest, ...answer.slice(1)]),
      runId,
      runId,
    );

    const { message } = await storedRows(runId);
    expect(message).toMatchObject({ status: 'completed', content: [{ text: { value: 'Hello there' } }] });
    const deltas = (await harness.runtime.events.read(runId)).filter(
      (item) => item.event === 'thread.message.delta',
    );
    expect(deltas.map((item) => item.data)).toMatchObject([
      { delta: { content: [{ text: { value: 'Hello' } }] } },
      { delta: { content: [{ text: { value: ' there' } }] } },
    ]);
  });

  it('stores the ending while the last text travels, and publishes it only once that text is appended', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db);
    const bus = harness.runtime.events;
    let appendsLost = false;
    const events: EventBus = Object.create(bus);
    events.append = (run, firstSeq, appended) =>
      appendsLost ? Promise.reject(new Error('append lost')) : bus.append(run, firstSeq, appended);
    const loseAppends = async () => {
      appendsLost = true;
    };
    const steps = [answer[0] as ModelStep, loseAppends, ...answer.slice(1)];

    await expect(executeRun({ ...depsFor(steps), events }, runId, runId)).rejects.toThrow('append lost');
    const { run, message } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'completed' });
    expect(message).toMatchObject({ status: 'completed', content: [{ text: { value: 'Hello there' } }] });
    const published = (await eventsOf(runId)).names;
    expect(published).toContain('thread.message.created');
    expect(published).not.toContain('thread.run.completed');
  });

  it('ends a run cut at max_completion_tokens as incomplete, its message too', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db);
    await executeRun(depsFor([...answer.slice(0, 3), { type: 'finish', reason: 'length' }]), runId, runId);

    const { run, message, steps, usageLogs } = await storedRows(runId);
    const events = await eventsOf(runId);
    expect(events.names.slice(-3)).toEqual([
      'thread.message.incomplete',
      'thread.run.step.completed',
      'thread.run.incomplete',
    ]);
    expect(run).toMatchObject({
      status: 'incomplete',
      incompleteDetails: { reason: 'max_completion_tokens' },
    });
    expect(message).toMatchObject({ status: 'incomplete', incompleteDetails: { reason: 'max_tokens' } });
    expect(usageLogs).toHaveLength(1);
    const [step] = steps;
    if (!run || !message || !step) throw new Error('rows missing');
    expect(message.incompleteAt).toEqual(run.completedAt);
    expect(events.data('thread.message.incomplete')).toEqual(toMessageObject(message));
    expect(events.data('thread.run.step.completed')).toEqual(toRunStepObject(step));
    expect(events.data('thread.run.incomplete')).toEqual(toRunObject(run));
  });

  it("lets another actor's ending stand when it moved the run first: no completion is stored or announced", async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db);
    const { thread: before } = await storedRows(runId);
    const lastError = { code: 'server_error' as const, message: 'failed by another actor' };
    const movedMidAnswer: ModelStep[] = [
      { type: 'text', delta: 'Hello' },
      () => endRunEarly(harness.runtime, runId, { status: 'failed', error: lastError }),
      ...answer.slice(2),
    ];
    await executeRun(depsFor(movedMidAnswer), runId, runId);

    const { run, message, steps, usageLogs, thread } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'failed', lastError, usage: null, completedAt: null });
    // The model call's tokens were spent: its usage is logged all the same.
    expect(usageLogs).toHaveLength(1);
    // The other actor's ending stands, keeping the text streamed so far (from the run's event log).
    expect(message).toMatchObject({
      status: 'incomplete',
      incompleteDetails: { reason: 'run_failed' },
      completedAt: null,
      content: [{ type: 'text', text: { value: 'Hello', annotations: [] } }],
    });
    expect(steps.map((step) => step.status)).toEqual(['failed']);
    expect(thread?.lastActivityAt).toEqual(before?.lastActivityAt);
    const { names } = await eventsOf(runId);
    expect(names).not.toContain('thread.message.completed');
    expect(names).not.toContain('thread.run.step.completed');
    expect(names).not.toContain('thread.run.completed');
    expect(names.filter((name) => name === 'thread.run.failed')).toHaveLength(1);
  });

  it('closes the answer and opens the tool step of a turn that calls a function, then requires action', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db, {
      tools: [{ type: 'function', function: { name: 'book_table', parameters: { type: 'object' } } }],
    });
    const callingTurn: ModelStep[] = [
      { type: 'text', delta: 'Booking it' },
      { type: 'tool_call', call: { id: 'model_call_1', name: 'book_table', arguments: '{"seats":2}' } },
      { type: 'usage', promptTokens: 11, completionTokens: 4 },
      { type: 'finish', reason: 'tool_calls' },
    ];
    await executeRun(depsFor(callingTurn), runId, runId);

    const { run, message, steps, usageLogs } = await storedRows(runId);
    const events = await eventsOf(runId);
    expect(events.names).toEqual([
      'thread.run.in_progress',
      ...answerEvents,
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.step.delta',
      'thread.run.requires_action',
    ]);
    const usage = { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 };
    expect(run).toMatchObject({ status: 'requires_action', usage });
    const [messageStep, toolStep] = steps;
    expect(messageStep).toMatchObject({ type: 'message_creation', status: 'completed', usage: null });
    expect(toolStep).toMatchObject({ type: 'tool_calls', status: 'in_progress', usage });
    expect(usageLogs).toEqual([expect.objectContaining({ promptTokens: 11, completionTokens: 4 })]);
    if (!run || !message || !messageStep || !toolStep) throw new Error('rows missing');
    expect(events.data('thread.message.completed')).toEqual(toMessageObject(message));
    expect(events.data('thread.run.step.completed')).toEqual(toRunStepObject(messageStep));
    expect(events.data('thread.run.requires_action')).toEqual(toRunObject(run));
    expect(run.requiredAction?.submit_tool_outputs.tool_calls).toEqual([
      expect.objectContaining({ function: { name: 'book_table', arguments: '{"seats":2}' } }),
    ]);
  });

  it('writes no answer when the model answers no text', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db);
    const beforeAnyText = async () => {
      // The answer is written at its first text, not before.
      expect((await storedRows(runId)).messages).toEqual([]);
    };
    await executeRun(depsFor([beforeAnyText, ...answer.slice(2)]), runId, runId);

    const { run, messages, steps, usageLogs } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'completed' });
    expect(messages).toEqual([]);
    expect(steps).toEqual([]);
    expect(usageLogs).toHaveLength(1);
    expect((await eventsOf(runId)).names).toEqual(['thread.run.in_progress', 'thread.run.completed']);
  });

  it('fails a run whose model fails before any text, with no answer written', async () => {
    const { runId } = await insertQueuedRun(harness.runtime.db);
    const failing = async () => {
      throw new Error('the model is down');
    };
    await executeRun(depsFor([failing]), runId, runId);

    const { run, messages, steps } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'failed', lastError: { code: 'server_error' } });
    expect(messages).toEqual([]);
    expect(steps).toEqual([]);
    expect((await eventsOf(runId)).names).toEqual(['thread.run.in_progress', 'thread.run.failed']);
  });
});
