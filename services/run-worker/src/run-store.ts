// Data access for the run loop: the run, its history and tool steps, the claim, and small step updates.

import {
  type Db,
  type MessageRow,
  prepared,
  type RunRow,
  type RunStepRow,
  type StepToolCall,
  schema,
  type Usage,
} from '@threadwork/shared';
import { and, asc, eq, sql } from 'drizzle-orm';

const { messages, runSteps, runs } = schema;

function threadMessagesOfRun(db: Db) {
  return prepared(db, 'thread_messages', (name) => {
    const threadOfRun = db
      .select({ threadId: runs.threadId })
      .from(runs)
      .where(eq(runs.id, sql.placeholder('runId')));
    return db
      .select()
      .from(messages)
      .where(eq(messages.threadId, threadOfRun))
      .orderBy(asc(messages.id))
      .prepare(name);
  });
}

/** The messages of a run's thread, oldest first; by run id, so it can load while the run is being claimed. */
export function loadThreadMessages(db: Db, runId: string): Promise<MessageRow[]> {
  return threadMessagesOfRun(db).execute({ runId });
}

function runById(db: Db) {
  return prepared(db, 'run', (name) =>
    db
      .select()
      .from(runs)
      .where(eq(runs.id, sql.placeholder('runId')))
      .prepare(name),
  );
}

export async function loadRun(db: Db, runId: string): Promise<RunRow | null> {
  const [row] = await runById(db).execute({ runId });
  return row ?? null;
}

function claimOfQueuedRun(db: Db) {
  return prepared(db, 'claim_run', (name) =>
    db
      .update(runs)
      .set({
        status: 'in_progress',
        // A run claimed again after tool outputs keeps the time it first started.
        startedAt: sql`coalesce(${runs.startedAt}, ${sql.param(sql.placeholder('now'), runs.startedAt)})`,
      })
      .where(and(eq(runs.id, sql.placeholder('runId')), eq(runs.status, 'queued')))
      .returning()
      .prepare(name),
  );
}

/** Moves a queued run to in_progress; null when it was not queued (another actor had it). */
export async function claimRun(db: Db, runId: string, now: Date): Promise<RunRow | null> {
  const [row] = await claimOfQueuedRun(db).execute({ runId, now });
  return row ?? null;
}

function toolStepsOfRun(db: Db) {
  return prepared(db, 'tool_steps', (name) =>
    db
      .select()
      .from(runSteps)
      .where(and(eq(runSteps.runId, sql.placeholder('runId')), eq(runSteps.type, 'tool_calls')))
      .orderBy(asc(runSteps.id))
      .prepare(name),
  );
}

export function loadToolSteps(db: Db, runId: string): Promise<RunStepRow[]> {
  return toolStepsOfRun(db).execute({ runId });
}

export async function setStepCalls(
  db: Pick<Db, 'update'>,
  stepId: string,
  calls: StepToolCall[],
): Promise<RunStepRow | null> {
  const [row] = await db
    .update(runSteps)
    .set({ stepDetails: { type: 'tool_calls', tool_calls: calls } })
    .where(and(eq(runSteps.id, stepId), eq(runSteps.status, 'in_progress')))
    .returning();
  return row ?? null;
}

/** A tool step whose calls all have their outputs, as completing it stores it. */
export function completedToolStep(step: RunStepRow, calls: StepToolCall[], now: Date): RunStepRow {
  return {
    ...step,
    status: 'completed',
    completedAt: now,
    stepDetails: { type: 'tool_calls', tool_calls: calls },
  };
}

/** Stores a completed tool step (as `completedToolStep` made it); false when the step was no longer open. */
export async function completeToolStep(db: Pick<Db, 'update'>, completed: RunStepRow): Promise<boolean> {
  const rows = await db
    .update(runSteps)
    .set({ status: 'completed', completedAt: completed.completedAt, stepDetails: completed.stepDetails })
    .where(and(eq(runSteps.id, completed.id), eq(runSteps.status, 'in_progress')))
    .returning({ id: runSteps.id });
  return rows.length === 1;
}

export function addUsage(a: Usage | null, b: Usage): Usage {
  return {
    prompt_tokens: (a?.prompt_tokens ?? 0) + b.prompt_tokens,
    completion_tokens: (a?.completion_tokens ?? 0) + b.completion_tokens,
    total_tokens: (a?.total_tokens ?? 0) + b.total_tokens,
  };
}

/** Keeps the text streamed so far on a message the run is about to end early. */
export async function saveMessageText(
  db: Pick<Db, 'update'>,
  messageId: string,
  text: string,
): Promise<void> {
  const content = [{ type: 'text' as const, text: { value: text, annotations: [] } }];
  await db.update(messages).set({ content }).where(eq(messages.id, messageId));
}
