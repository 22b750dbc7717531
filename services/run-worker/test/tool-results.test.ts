// A continuation after built-in tool calls, against real Postgres and Redis: the step completes with its outputs
// whatever the next turn does, and is announced just before that turn's first events.
import { type StepToolCall, schema, toRunStepObject, transitionRun } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRequest } from '../src/providers/types.js';
import { continueAfterTools } from '../src/tool-results.js';
import {
  answerEvents,
  eventsOf as eventsIn,
  type Harness,
  storedRows as rowsIn,
  startHarness,
} from './support/harness.js';
import { insertQueuedRun, insertToolStep } from './support/rows.js';
import { aborted, type ModelStep } from './support/scripted-model.js';

const firstDelivery = { isRedelivery: false };
const OUTPUT = '{"tables":[],"count":0}';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('tool-results-test');
});

afterAll(async () => {
  await harness?.close();
});

const eventsOf = (runId: string) => eventsIn(harness.runtime, runId);
const storedRows = (runId: string) => rowsIn(harness.runtime, runId);

const answer: ModelStep[] = [
  { type: 'text', delta: 'There are no tables.' },
  { type: 'usage', promptTokens: 20, completionTokens: 5 },
  { type: 'finish', reason: 'stop' },
];

/** An in_progress run that called list_tables once, and the tool step waiting for its output. */
async function runWaitingForListTables(status: 'in_progress' | 'cancelling' = 'in_progress') {
  const run = await insertQueuedRun(harness.runtime.db, {
    status,
    tools: [{ type: 'list_tables' }],
    usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
    startedAt: new Date(),
  });
  const call: StepToolCall = {
    id: 'call_list_tables_1',
    type: 'function',
    function: { name: 'list_tables', arguments: '{}', output: null },
  };
  const stepId = await insertToolStep(harness.runtime.db, run, [call]);
  const outputs = Promise.resolve([{ callId: call.id, output: OUTPUT, isError: false }]);
  return { ...run, stepId, call, outputs };
}

function withOutput(call: StepToolCall, output: string): StepToolCall {
  return { ...call, function: { ...call.function, output } };
}

describe('continueAfterTools', () => {
  it('completes the tool step with the statement that opens the answer, announced right before it', async () => {
    const { runId, stepId, call, outputs } = await runWaitingForListTables();
    const requests: ModelRequest[] = [];
    await continueAfterTools(harness.depsFor(answer, requests), runId, stepId, outputs, firstDelivery);

    const { run, steps } = await storedRows(runId);
    const events = await eventsOf(runId);
    expect(run).toMatchObject({ status: 'completed' });
    expect(events.names).toEqual(['thread.run.step.completed', ...answerEvents, 'thread.run.completed']);
    const [toolStep, messageStep] = steps;
    expect(toolStep).toMatchObject({
      id: stepId,
      status: 'completed',
      stepDetails: { type: 'tool_calls', tool_calls: [withOutput(call, OUTPUT)] },
    });
    expect(messageStep).toMatchObject({ type: 'message_creation', status: 'completed' });
    if (!toolStep) throw new Error('tool step missing');
    expect(events.data('thread.run.step.completed')).toEqual(toRunStepObject(toolStep));
    expect(requests[0]?.messages).toContainEqual({
      role: 'tool',
      toolCallId: call.id,
      name: 'list_tables',
      output: OUTPUT,
    });
  });

  it('keeps the outputs on the completed step when the model fails before answering', async () => {
    const { runId, stepId, call, outputs } = await runWaitingForListTables();
    const failing: ModelStep[] = [() => Promise.reject(new Error('connection reset'))];
    await continueAfterTools(harness.depsFor(failing), runId, stepId, outputs, firstDelivery);

    const { run, steps, messages } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'failed', lastError: { code: 'server_error' } });
    expect(messages).toEqual([]);
    expect(steps).toEqual([
      expect.objectContaining({
        status: 'completed',
        stepDetails: { type: 'tool_calls', tool_calls: [withOutput(call, OUTPUT)] },
      }),
    ]);
    const events = await eventsOf(runId);
    expect(events.names).toEqual(['thread.run.step.completed', 'thread.run.failed']);
    const [toolStep] = steps;
    if (!toolStep) throw new Error('tool step missing');
    expect(events.data('thread.run.step.completed')).toEqual(toRunStepObject(toolStep));
  });

  it('keeps the outputs on the completed step when the run is cancelled while the model answers', async () => {
    const { runId, stepId, call, outputs } = await runWaitingForListTables();
    const { db, events } = harness.runtime;
    const cancelledMidCall: ModelStep[] = [
      async (signal) => {
        await transitionRun(db, runId, 'cancelling', {}, ['in_progress']);
        await events.publishCancel(runId);
        await aborted(signal);
      },
      ...answer,
    ];
    await continueAfterTools(harness.depsFor(cancelledMidCall), runId, stepId, outputs, firstDelivery);

    const { run, steps, messages } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'cancelled' });
    expect(messages).toEqual([]);
    expect(steps).toEqual([
      expect.objectContaining({
        status: 'completed',
        stepDetails: { type: 'tool_calls', tool_calls: [withOutput(call, OUTPUT)] },
      }),
    ]);
    expect((await eventsOf(runId)).names).toEqual(['thread.run.step.completed', 'thread.run.cancelled']);
  });

  it('ends a run it finds cancelling without calling the model; the tool step is cancelled', async () => {
    const { runId, stepId, outputs } = await runWaitingForListTables('cancelling');
    const requests: ModelRequest[] = [];
    await continueAfterTools(harness.depsFor(answer, requests), runId, stepId, outputs, firstDelivery);

    const { run, steps } = await storedRows(runId);
    expect(requests).toEqual([]);
    expect(run).toMatchObject({ status: 'cancelled' });
    expect(steps.map((step) => step.status)).toEqual(['cancelled']);
    expect((await eventsOf(runId)).names).toEqual(['thread.run.step.cancelled', 'thread.run.cancelled']);
  });

  it('writes and announces nothing when another delivery completed the step before the answer opened', async () => {
    const { runId, stepId, outputs } = await runWaitingForListTables();
    const completedElsewhere: ModelStep[] = [
      () =>
        harness.runtime.db
          .update(schema.runSteps)
          .set({ status: 'completed', completedAt: new Date() })
          .where(eq(schema.runSteps.id, stepId)),
      ...answer,
    ];
    await continueAfterTools(harness.depsFor(completedElsewhere), runId, stepId, outputs, firstDelivery);

    const { run, steps, messages, usageLogs } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'in_progress' });
    expect(messages).toEqual([]);
    expect(usageLogs).toEqual([]);
    expect(steps).toEqual([expect.objectContaining({ id: stepId, status: 'completed' })]);
    expect((await eventsOf(runId)).names).toEqual([]);
  });

  it('completes the tool step on its own, before the next step, when the next turn only calls a tool', async () => {
    const { runId, stepId, call, outputs } = await runWaitingForListTables();
    const callingAgain: ModelStep[] = [
      { type: 'tool_call', call: { id: 'model_call_2', name: 'list_tables', arguments: '{}' } },
      { type: 'usage', promptTokens: 20, completionTokens: 3 },
      { type: 'finish', reason: 'tool_calls' },
    ];
    await continueAfterTools(harness.depsFor(callingAgain), runId, stepId, outputs, firstDelivery);

    const { run, steps } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'in_progress' });
    const [firstStep, secondStep] = steps;
    expect(firstStep).toMatchObject({
      id: stepId,
      status: 'completed',
      stepDetails: { type: 'tool_calls', tool_calls: [withOutput(call, OUTPUT)] },
    });
    expect(secondStep).toMatchObject({ type: 'tool_calls', status: 'in_progress' });
    const events = await eventsOf(runId);
    expect(events.names).toEqual([
      'thread.run.step.completed',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.run.step.delta',
    ]);
    if (!firstStep) throw new Error('tool step missing');
    expect(events.data('thread.run.step.completed')).toEqual(toRunStepObject(firstStep));
  });
});
