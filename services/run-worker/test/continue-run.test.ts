// A continuation after built-in tool calls, against real Postgres and Redis: the step completes with the outputs
// their executions recorded, whatever the next turn does, and is announced before that turn's first events.
import {
  newId,
  RUNS_QUEUE,
  type StepToolCall,
  schema,
  toRunStepObject,
  transitionRun,
} from '@threadwork/shared';
import { QueueEvents, Worker } from 'bullmq';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continueRun } from '../src/execute-run.js';
import type { ModelRequest } from '../src/providers/types.js';
import { processRunJob } from '../src/run-jobs.processor.js';
import {
  answerEvents,
  eventsOf as eventsIn,
  type Harness,
  storedRows as rowsIn,
  startHarness,
} from './support/harness.js';
import { insertQueuedRun, insertToolStep } from './support/rows.js';
import { aborted, type ModelStep } from './support/scripted-model.js';

const OUTPUT = '{"tables":[],"count":0}';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('continue-run-test');
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
    id: newId('call'),
    type: 'function',
    function: { name: 'list_tables', arguments: '{}', output: null },
  };
  const stepId = await insertToolStep(harness.runtime.db, run, [call]);
  return { ...run, stepId, call };
}

/** What the tool worker records when it has run a call. */
async function recordExecution(run: { runId: string; ownerId: string }, call: StepToolCall, output: string) {
  await harness.runtime.db.insert(schema.toolExecutions).values({
    callId: call.id,
    runId: run.runId,
    ownerId: run.ownerId,
    tool: call.function.name,
    arguments: {},
    status: 'succeeded',
    output,
    finishedAt: new Date(),
  });
}

/** A run waiting for list_tables whose call the tool worker has run. */
async function runWithListTablesDone(status: 'in_progress' | 'cancelling' = 'in_progress') {
  const waiting = await runWaitingForListTables(status);
  await recordExecution(waiting, waiting.call, OUTPUT);
  return waiting;
}

/** The worker that dispatched the calls still holds the run, as it does until it has stored the continuation's id. */
async function holdAsDispatcher(runId: string): Promise<Date> {
  const until = new Date(Date.now() + 60_000);
  await harness.runtime.db
    .update(schema.runs)
    .set({ leaseOwner: 'dispatching-worker', leaseExpiresAt: until })
    .where(eq(schema.runs.id, runId));
  return until;
}

async function letGo(runId: string): Promise<void> {
  await harness.runtime.db
    .update(schema.runs)
    .set({ leaseOwner: null, leaseExpiresAt: null })
    .where(eq(schema.runs.id, runId));
}

function withOutput(call: StepToolCall, output: string): StepToolCall {
  return { ...call, function: { ...call.function, output } };
}

describe('continueRun', () => {
  it('completes the tool step with the outputs their executions recorded, announced before the answer', async () => {
    const { runId, stepId, call } = await runWithListTablesDone();
    const requests: ModelRequest[] = [];
    await continueRun(harness.depsFor(answer, requests), runId, stepId);

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
    const { runId, stepId, call } = await runWithListTablesDone();
    const failing: ModelStep[] = [() => Promise.reject(new Error('connection reset'))];
    await continueRun(harness.depsFor(failing), runId, stepId);

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
    const { runId, stepId, call } = await runWithListTablesDone();
    const { db, events } = harness.runtime;
    const cancelledMidCall: ModelStep[] = [
      async (signal) => {
        await transitionRun(db, runId, 'cancelling', {}, ['in_progress']);
        await events.publishCancel(runId);
        await aborted(signal);
      },
      ...answer,
    ];
    await continueRun(harness.depsFor(cancelledMidCall), runId, stepId);

    const { run, steps, messages } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'cancelled' });
    expect(messages).toEqual([]);
    expect(steps).toEqual([
      expect.objectContaining({
        status: 'completed',
        stepDetails: { type: 'tool_calls', tool_calls: [withOutput(call, OUTPUT)] },
      }),
    ]);
    expect((await eventsOf(runId)).names).toEqual([
      'thread.run.step.completed',
      'thread.run.cancelling',
      'thread.run.cancelled',
    ]);
  });

  it('ends a run it finds cancelling without calling the model; the tool step is cancelled', async () => {
    const { runId, stepId } = await runWithListTablesDone('cancelling');
    const requests: ModelRequest[] = [];
    await continueRun(harness.depsFor(answer, requests), runId, stepId);

    const { run, steps } = await storedRows(runId);
    expect(requests).toEqual([]);
    expect(run).toMatchObject({ status: 'cancelled' });
    expect(steps.map((step) => step.status)).toEqual(['cancelled']);
    expect((await eventsOf(runId)).names).toEqual([
      'thread.run.cancelling',
      'thread.run.step.cancelled',
      'thread.run.cancelled',
    ]);
  });

  it('writes and announces nothing for a step that is no longer open, and lets the run go', async () => {
    const { runId, stepId } = await runWithListTablesDone();
    await harness.runtime.db
      .update(schema.runSteps)
      .set({ status: 'completed', completedAt: new Date() })
      .where(eq(schema.runSteps.id, stepId));
    const requests: ModelRequest[] = [];
    await continueRun(harness.depsFor(answer, requests), runId, stepId);

    const { run, messages, usageLogs } = await storedRows(runId);
    expect(requests).toEqual([]);
    expect(run).toMatchObject({ status: 'in_progress', leaseOwner: null, leaseExpiresAt: null });
    expect(messages).toEqual([]);
    expect(usageLogs).toEqual([]);
    expect((await eventsOf(runId)).names).toEqual([]);
  });

  it('answers that the run is still held by the worker that dispatched its calls, and touches nothing', async () => {
    const { runId, stepId } = await runWithListTablesDone();
    const until = await holdAsDispatcher(runId);
    const requests: ModelRequest[] = [];
    const held = await continueRun(harness.depsFor(answer, requests), runId, stepId);

    expect(held).toEqual({ heldUntil: until });
    const { run, steps } = await storedRows(runId);
    expect(requests).toEqual([]);
    expect(run).toMatchObject({ status: 'in_progress', leaseOwner: 'dispatching-worker' });
    expect(steps.map((step) => step.status)).toEqual(['in_progress']);
    expect((await eventsOf(runId)).names).toEqual([]);

    await letGo(runId);
    expect(await continueRun(harness.depsFor(answer, requests), runId, stepId)).toBeNull();
    expect((await storedRows(runId)).run).toMatchObject({ status: 'completed' });
  });

  it("keeps the run's job when the step it continues is no longer open", async () => {
    const { runId, stepId } = await runWithListTablesDone();
    await harness.runtime.db
      .update(schema.runSteps)
      .set({ status: 'completed', completedAt: new Date() })
      .where(eq(schema.runSteps.id, stepId));
    await harness.runtime.db
      .update(schema.runs)
      .set({ jobId: 'next-step-continuation' })
      .where(eq(schema.runs.id, runId));
    await continueRun(harness.depsFor(answer), runId, stepId);

    expect((await storedRows(runId)).run).toMatchObject({
      jobId: 'next-step-continuation',
      leaseOwner: null,
    });
  });

  it('gives the model an error for a call whose execution recorded no result', async () => {
    const { runId, stepId, call } = await runWaitingForListTables();
    const requests: ModelRequest[] = [];
    await continueRun(harness.depsFor(answer, requests), runId, stepId);

    expect((await storedRows(runId)).run).toMatchObject({ status: 'completed' });
    expect(requests[0]?.messages).toContainEqual({
      role: 'tool',
      toolCallId: call.id,
      name: 'list_tables',
      output: 'Error: the tool did not return a result.',
    });
  });

  it('completes the tool step on its own, before the next step, when the next turn only calls a tool', async () => {
    const { runId, stepId, call } = await runWithListTablesDone();
    const callingAgain: ModelStep[] = [
      { type: 'tool_call', call: { id: 'model_call_2', name: 'list_tables', arguments: '{}' } },
      { type: 'usage', promptTokens: 20, completionTokens: 3 },
      { type: 'finish', reason: 'tool_calls' },
    ];
    await continueRun(harness.depsFor(callingAgain), runId, stepId);

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

describe('a run.continue job on the runs queue', () => {
  it('is put back while the run is still held, and continues the run once it is let go', async () => {
    const { runId, stepId } = await runWithListTablesDone();
    await holdAsDispatcher(runId);
    const { queues } = harness.runtime;
    const prefix = queues.runs.opts.prefix;
    const connection = harness.runtime.redis;
    const events = new QueueEvents(RUNS_QUEUE, { connection: connection.duplicate(), prefix });
    const worker = new Worker(RUNS_QUEUE, processRunJob(harness.depsFor(answer)), { connection, prefix });
    try {
      await events.waitUntilReady();
      const delayed = new Promise<void>((resolve) => events.once('delayed', () => resolve()));
      const job = await queues.runs.add('run.continue', { runId, stepId });
      await delayed;
      expect((await storedRows(runId)).run).toMatchObject({ status: 'in_progress' });

      await letGo(runId);
      await job.waitUntilFinished(events);
      const { run, steps } = await storedRows(runId);
      expect(run).toMatchObject({ status: 'completed' });
      expect(steps.map((step) => step.status)).toEqual(['completed', 'completed']);
      // Put back, not failed: the job finished on its one attempt.
      expect((await queues.runs.getJob(job.id ?? ''))?.attemptsMade).toBe(1);
    } finally {
      await worker.close();
      await events.close();
    }
  });
});
