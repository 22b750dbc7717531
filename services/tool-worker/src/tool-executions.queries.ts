// Data access for tool calls: the call as its run step holds it, and the call's tool_executions audit row.
import { type Db, type RunStatus, schema, type ToolJobData } from '@threadwork/shared';
import { asJson, preparedStatement, slot } from '@threadwork/shared/db/prepared';
import { and, eq, type SQL, sql } from 'drizzle-orm';

const { projects, runSteps, runs, toolExecutions } = schema;

export interface ToolCall {
  runId: string;
  stepId: string;
  callId: string;
  ownerId: string;
  /** The built-in tools the run's project turned off. */
  projectDisabledTools: string[];
  runStatus: RunStatus;
  name: string;
  /** The JSON text the model wrote. */
  arguments: string;
  /** The call's tool_executions row, when an earlier attempt recorded one. */
  previous: Execution | null;
}

export type Execution = typeof toolExecutions.$inferSelect;

export interface Outcome {
  output: string;
  isError: boolean;
  /** `ok`, or the ToolError code. */
  code: string;
  /** `code: message` for a failed call, for the audit. */
  error: string | null;
}

const toolCallStatement = preparedStatement('tool_call', (db, name) =>
  db
    .select({
      stepDetails: runSteps.stepDetails,
      ownerId: runs.ownerId,
      projectDisabledTools: projects.disabledTools,
      runStatus: runs.status,
      previous: toolExecutions,
    })
    .from(runSteps)
    .innerJoin(runs, eq(runs.id, runSteps.runId))
    .leftJoin(projects, eq(projects.id, runs.ownerId))
    .leftJoin(toolExecutions, eq(toolExecutions.callId, slot('callId')))
    .where(and(eq(runSteps.id, slot('stepId')), eq(runSteps.runId, slot('runId'))))
    .prepare(name),
);

/** The call named by a tool job with its execution row (one read), or null when the run, step or call does not exist. */
export async function loadToolCall(db: Db, data: ToolJobData): Promise<ToolCall | null> {
  const [row] = await toolCallStatement(db).execute({
    callId: data.callId,
    stepId: data.stepId,
    runId: data.runId,
  });
  if (row?.stepDetails.type !== 'tool_calls') return null;
  const call = row.stepDetails.tool_calls.find((item) => item.id === data.callId);
  if (!call) return null;
  return {
    ...data,
    ownerId: row.ownerId,
    projectDisabledTools: row.projectDisabledTools ?? [],
    runStatus: row.runStatus,
    name: call.function.name,
    arguments: call.function.arguments,
    previous: row.previous,
  };
}

export async function findExecution(db: Db, callId: string): Promise<Execution | undefined> {
  const [row] = await db.select().from(toolExecutions).where(eq(toolExecutions.callId, callId));
  return row;
}

/** The columns that settle a call with `outcome`. */
function settlement(outcome: Outcome, durationMs: number | SQL) {
  return {
    status: outcome.isError ? ('failed' as const) : ('succeeded' as const),
    output: outcome.output,
    error: outcome.error,
    finishedAt: new Date(),
    durationMs,
  };
}

/** A call's row as it starts running: nothing of its outcome yet. */
const running = { status: 'running', output: null, error: null, finishedAt: null, durationMs: null } as const;

const insertOnceStatement = preparedStatement('insert_tool_execution', (db, name) =>
  db
    .insert(toolExecutions)
    .values({
      callId: slot('callId'),
      runId: slot('runId'),
      ownerId: slot('ownerId'),
      tool: slot('tool'),
      arguments: slot('arguments'),
      status: slot('status'),
      output: slot('output'),
      error: slot('error'),
      finishedAt: slot('finishedAt'),
      durationMs: slot('durationMs'),
    })
    .onConflictDoNothing({ target: toolExecutions.callId })
    .returning({ callId: toolExecutions.callId })
    .prepare(name),
);

/** Inserts the call's row unless it has one; false when a row existed. */
async function insertOnce(
  db: Db,
  call: ToolCall,
  args: unknown,
  state: typeof running | ReturnType<typeof settlement>,
): Promise<boolean> {
  const inserted = await insertOnceStatement(db).execute({
    callId: call.callId,
    runId: call.runId,
    ownerId: call.ownerId,
    tool: call.name,
    arguments: asJson(args),
    ...state,
  });
  return inserted.length === 1;
}

/** Inserts the `running` row; false when the call already has one (it ran, runs, or was settled). */
export function claimExecution(db: Db, call: ToolCall, args: unknown): Promise<boolean> {
  return insertOnce(db, call, args, running);
}

/** Records a call that was refused before it ran (disabled, rate limited, run over); false when a row existed. */
export function recordUnexecuted(db: Db, call: ToolCall, args: unknown, outcome: Outcome): Promise<boolean> {
  return insertOnce(db, call, args, settlement(outcome, 0));
}

const finishStatement = preparedStatement('finish_tool_execution', (db, name) =>
  db
    .update(toolExecutions)
    .set({
      status: slot('status'),
      output: slot('output'),
      error: slot('error'),
      finishedAt: slot('finishedAt'),
      durationMs: slot('durationMs'),
    })
    .where(and(eq(toolExecutions.callId, slot('callId')), eq(toolExecutions.status, 'running')))
    .prepare(name),
);

/** Settles a running row; a row already settled (by a redelivery that declared it interrupted) is left alone. */
export async function finishExecution(
  db: Db,
  callId: string,
  outcome: Outcome,
  durationMs: number,
): Promise<void> {
  await finishStatement(db).execute({ callId, ...settlement(outcome, durationMs) });
}

/** Settles a row left `running` by an attempt that never finished; false when it was settled meanwhile. */
export async function markInterrupted(db: Db, callId: string, outcome: Outcome): Promise<boolean> {
  const rows = await db
    .update(toolExecutions)
    .set(settlement(outcome, sql`(extract(epoch from now() - ${toolExecutions.startedAt}) * 1000)::int`))
    .where(and(eq(toolExecutions.callId, callId), eq(toolExecutions.status, 'running')))
    .returning({ callId: toolExecutions.callId });
  return rows.length === 1;
}
