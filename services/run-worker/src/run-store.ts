// Data access for the run loop: a run with what a turn starts from, and small step and message updates.

import {
  type Db,
  type JsonRow,
  type MessageRow,
  prepared,
  type RunRow,
  type RunStepRow,
  rowsFromJson,
  type StepToolCall,
  schema,
  type Usage,
} from '@threadwork/shared';
import { and, eq, type SQL, sql } from 'drizzle-orm';

const { messages, runSteps, runs } = schema;

/**
 * The messages of a thread, oldest first, as one JSON value of a larger statement (`rowsFromJson` maps them). New
 * messages wait for a thread's active run to end, so the history read with the run is the one the model answers.
 */
export function threadHistoryJson(threadId: SQL) {
  return sql<JsonRow[]>`(
    select coalesce(json_agg(m order by m.id), '[]'::json) from ${messages} m where m.thread_id = ${threadId}
  )`;
}

/**
 * The tool_calls steps of a run, oldest first, as one JSON value of a larger statement. A run without usage has had
 * no model turn, so no tool step: the test on it alone is decided once, before any row is read, which keeps a plan
 * cached while the table was small from scanning it for every new run.
 */
export function toolStepsJson(run: { id: SQL; usage: SQL }) {
  return sql<JsonRow[]>`(
    select coalesce(json_agg(s order by s.id), '[]'::json) from ${runSteps} s
    where ${run.usage} is not null and s.run_id = ${run.id} and s.type = 'tool_calls'
  )`;
}

/** What a turn starts from: the run, its tool steps and its thread's history. */
export interface RunContext {
  run: RunRow;
  toolSteps: RunStepRow[];
  history: MessageRow[];
}

export function runContextFromJson(run: RunRow, toolSteps: JsonRow[], history: JsonRow[]): RunContext {
  return { run, toolSteps: rowsFromJson(runSteps, toolSteps), history: rowsFromJson(messages, history) };
}

function runWithContext(db: Db) {
  return prepared(db, 'run_context', (name) =>
    db
      .select({
        run: runs,
        toolSteps: toolStepsJson({ id: sql`${runs.id}`, usage: sql`${runs.usage}` }),
        history: threadHistoryJson(sql`${runs.threadId}`),
      })
      .from(runs)
      .where(eq(runs.id, sql.placeholder('runId')))
      .prepare(name),
  );
}

/** The run with its tool steps and history, in one statement; null when there is no such run. */
export async function loadRunContext(db: Db, runId: string): Promise<RunContext | null> {
  const [row] = await runWithContext(db).execute({ runId });
  return row ? runContextFromJson(row.run, row.toolSteps, row.history) : null;
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
