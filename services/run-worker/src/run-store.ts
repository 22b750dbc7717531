// Data access for the run loop: its history and tool steps, and small step and message updates.

import {
  type Db,
  type MessageRow,
  prepared,
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

/**
 * Starts loading the messages of a run's thread, oldest first; by run id, so they load while the run and its tool
 * steps are read (a claim loads them itself). New messages wait for a thread's active run to end, so loading early reads the same history. A failed
 * load is handled where the history is awaited, not as an unhandled rejection.
 */
export function startLoadingThreadMessages(db: Db, runId: string): Promise<MessageRow[]> {
  const history = threadMessagesOfRun(db).execute({ runId });
  history.catch(() => undefined);
  return history;
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

/**
 * Completes an open tool step, taking its completion time and details from placeholders (`toolStepId`,
 * `toolStepCompletedAt`, `toolStepDetails`); returns the step's id, so no row means it was no longer open.
 */
export function toolStepCompletion(db: Db) {
  const { placeholder } = sql;
  return db
    .update(runSteps)
    .set({
      status: 'completed',
      completedAt: sql`${sql.param(placeholder('toolStepCompletedAt'), runSteps.completedAt)}`,
      stepDetails: sql`${sql.param(placeholder('toolStepDetails'), runSteps.stepDetails)}`,
    })
    .where(and(eq(runSteps.id, placeholder('toolStepId')), eq(runSteps.status, 'in_progress')))
    .returning({ id: runSteps.id });
}

/** The placeholder values of `toolStepCompletion` for a completed tool step (as `completedToolStep` made it). */
export function toolStepCompletionParams(completed: RunStepRow) {
  return {
    toolStepId: completed.id,
    toolStepDetails: completed.stepDetails,
    toolStepCompletedAt: completed.completedAt,
  };
}

/** Stores a completed tool step (as `completedToolStep` made it); false when the step was no longer open. */
export async function completeToolStep(db: Db, completed: RunStepRow): Promise<boolean> {
  const statement = prepared(db, 'complete_tool_step', (name) => toolStepCompletion(db).prepare(name));
  const rows = await statement.execute(toolStepCompletionParams(completed));
  return rows.length === 1;
}

export function addUsage(a: Usage | null, b: Usage): Usage {
  return {
    prompt_tokens: (a?.prompt_tokens ?? 0) + b.prompt_tokens,
    completion_tokens: (a?.completion_tokens ?? 0) + b.completion_tokens,
    total_tokens: (a?.total_tokens ?? 0) + b.total_tokens,
  };
}

/** A message's content when it is the text of an answer. */
export function textContent(text: string) {
  return [{ type: 'text' as const, text: { value: text, annotations: [] } }];
}

/** Keeps the text streamed so far on a message the run is about to end early. */
export async function saveMessageText(
  db: Pick<Db, 'update'>,
  messageId: string,
  text: string,
): Promise<void> {
  await db
    .update(messages)
    .set({ content: textContent(text) })
    .where(eq(messages.id, messageId));
}
