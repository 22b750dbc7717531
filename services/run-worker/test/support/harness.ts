// The run loop's dependencies on a fresh database and BullMQ prefix, with a scripted model; and what a run left.
import {
  createLogger,
  createMetrics,
  createRuntime,
  loadConfig,
  type Runtime,
  schema,
} from '@threadwork/shared';
import { createTestDatabase, randomPrefix, type TestDatabase } from '@threadwork/testing';
import { asc, eq } from 'drizzle-orm';
import { inject } from 'vitest';
import { CancelSignals } from '../../src/cancel-watch.js';
import type { RunWorkerDeps } from '../../src/execute-run.js';
import type { ModelRequest } from '../../src/providers/types.js';
import { type ModelStep, scriptedModel } from './scripted-model.js';

export interface Harness {
  runtime: Runtime;
  /** Deps whose model answers `steps`; `requests` receives what it was sent. */
  depsFor(steps: ModelStep[], requests?: ModelRequest[]): RunWorkerDeps;
  close(): Promise<void>;
}

export async function startHarness(name: string): Promise<Harness> {
  const log = createLogger({ name, level: 'silent', pretty: false });
  const database: TestDatabase = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: randomPrefix(),
    DATABASE_POOL_SIZE: '5',
  });
  const runtime = createRuntime(config, log, name, 'worker');
  const cancels = await CancelSignals.start(runtime.subscriber, runtime.events);
  return {
    runtime,
    depsFor: (steps, requests) => ({
      db: runtime.db,
      events: runtime.events,
      queues: runtime.queues,
      cancels,
      providers: scriptedModel(steps, requests),
      config: loadConfig({}),
      log,
      metrics: createMetrics('run-worker-test'),
      estimateCostUsd: (_model, promptTokens, completionTokens) => (promptTokens + completionTokens) / 1000,
    }),
    async close() {
      await runtime.close();
      await database.drop();
    },
  };
}

/** An answer message's events, from its step's creation to its completion (without deltas, as `eventsOf` lists them). */
export const answerEvents = [
  'thread.run.step.created',
  'thread.run.step.in_progress',
  'thread.message.created',
  'thread.message.in_progress',
  'thread.message.completed',
  'thread.run.step.completed',
];

/** A run's events without the text deltas: their names in order, and the data of the first of a name. */
export async function eventsOf(runtime: Runtime, runId: string) {
  const events = await runtime.events.read(runId);
  const names = events.map((item) => item.event).filter((name) => name !== 'thread.message.delta');
  const data = (name: string) => events.find((item) => item.event === name)?.data;
  return { names, data };
}

export async function storedRows(runtime: Runtime, runId: string) {
  const { db } = runtime;
  const [run] = await db.select().from(schema.runs).where(eq(schema.runs.id, runId));
  const messages = await db.select().from(schema.messages).where(eq(schema.messages.runId, runId));
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
  return { run, message: messages[0], messages, steps, usageLogs, thread };
}
