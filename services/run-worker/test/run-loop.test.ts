// The run loop against real Postgres and Redis, with a scripted model: what a turn stores and what it announces.
import {
  createLogger,
  createRuntime,
  endRunEarly,
  loadConfig,
  type Runtime,
  schema,
  toMessageObject,
  toRunObject,
  toRunStepObject,
} from '@threadwork/shared';
import { createTestDatabase, randomPrefix, type TestDatabase } from '@threadwork/testing';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CancelSignals } from '../src/cancel-watch.js';
import { executeRun, type RunLoopDeps } from '../src/run-loop.js';
import { insertQueuedRun } from './support/rows.js';
import { type ModelStep, scriptedModel } from './support/scripted-model.js';

const log = createLogger({ name: 'run-loop-test', level: 'silent', pretty: false });
const firstDelivery = { isRedelivery: false };

let database: TestDatabase;
let runtime: Runtime;
let cancels: CancelSignals;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: randomPrefix(),
    DATABASE_POOL_SIZE: '5',
  });
  runtime = createRuntime(config, log, 'run-loop-test', 'worker');
  cancels = await CancelSignals.start(runtime.subscriber, runtime.events);
});

afterAll(async () => {
  await runtime?.close();
  await database?.drop();
});

function depsFor(steps: ModelStep[]): RunLoopDeps {
  return {
    db: runtime.db,
    events: runtime.events,
    queues: runtime.queues,
    cancels,
    providers: scriptedModel(steps),
    config: loadConfig({}),
    log,
    estimateCostUsd: (_model, promptTokens, completionTokens) => (promptTokens + completionTokens) / 1000,
  };
}

async function eventsOf(runId: string) {
  const events = await runtime.events.read(runId);
  const names = events.map((item) => item.event).filter((name) => name !== 'thread.message.delta');
  const data = (name: string) => events.find((item) => item.event === name)?.data;
  return { names, data };
}

async function storedRows(runId: string) {
  const { db } = runtime;
  const [run] = await db.select().from(schema.runs).where(eq(schema.runs.id, runId));
  const [message] = await db.select().from(schema.messages).where(eq(schema.messages.runId, runId));
  const steps = await db
    .select()
    .from(schema.runSteps)
    .where(eq(schema.runSteps.runId, runId))
    .orderBy(asc(schema.runSteps.id));
  const usageLogs = await db.select().from(schema.usageLogs).where(eq(schema.usageLogs.runId, runId));
  const [thread] = await db
    .select()
    .from(schema.threads)
    .where(eq(schema.threads.id, run?.threadId ?? ''));
  return { run, message, steps, usageLogs, thread };
}

const answer: ModelStep[] = [
  { type: 'text', delta: 'Hello' },
  { type: 'text', delta: ' there' },
  { type: 'usage', promptTokens: 7, completionTokens: 2 },
  { type: 'finish', reason: 'stop' },
];

describe('executeRun', () => {
  it('completes a plain run and announces the rows exactly as they were stored', async () => {
    const { runId, ownerId } = await insertQueuedRun(runtime.db);
    await executeRun(depsFor(answer), runId, firstDelivery);

    const { run, message, steps, usageLogs, thread } = await storedRows(runId);
    const events = await eventsOf(runId);
    expect(events.names).toEqual([
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
      'thread.run.completed',
    ]);
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

  it('ends a run cut at max_completion_tokens as incomplete, its message too', async () => {
    const { runId } = await insertQueuedRun(runtime.db);
    await executeRun(
      depsFor([...answer.slice(0, 3), { type: 'finish', reason: 'length' }]),
      runId,
      firstDelivery,
    );

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

  it('stores nothing of the turn when another actor moved the run first, and does not complete it', async () => {
    const { runId, threadId } = await insertQueuedRun(runtime.db);
    const [before] = await runtime.db.select().from(schema.threads).where(eq(schema.threads.id, threadId));
    const lastError = { code: 'server_error' as const, message: 'failed by another actor' };
    const movedMidAnswer: ModelStep[] = [
      { type: 'text', delta: 'Hello' },
      () => endRunEarly(runtime, runId, { status: 'failed', error: lastError }),
      ...answer.slice(2),
    ];
    await executeRun(depsFor(movedMidAnswer), runId, firstDelivery);

    const { run, message, steps, usageLogs, thread } = await storedRows(runId);
    expect(run).toMatchObject({ status: 'failed', lastError, usage: null, completedAt: null });
    expect(usageLogs).toEqual([]);
    // The other actor's ending stands; the loop only keeps what was streamed on the message.
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
    const { runId } = await insertQueuedRun(runtime.db, {
      tools: [{ type: 'function', function: { name: 'book_table', parameters: { type: 'object' } } }],
    });
    const callingTurn: ModelStep[] = [
      { type: 'text', delta: 'Booking it' },
      { type: 'tool_call', call: { id: 'model_call_1', name: 'book_table', arguments: '{"seats":2}' } },
      { type: 'usage', promptTokens: 11, completionTokens: 4 },
      { type: 'finish', reason: 'tool_calls' },
    ];
    await executeRun(depsFor(callingTurn), runId, firstDelivery);

    const { run, message, steps, usageLogs } = await storedRows(runId);
    const events = await eventsOf(runId);
    expect(events.names).toEqual([
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
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
});
