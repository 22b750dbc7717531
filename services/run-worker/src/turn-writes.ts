// The last write of a model turn, one statement each: a tool turn opens its tool step, a final turn ends the run.

import {
  allowedFrom,
  type Db,
  newId,
  prepared,
  type RunPatch,
  type RunRow,
  type RunStepRow,
  type StepToolCall,
  schema,
  slotted,
  type Usage,
} from '@threadwork/shared';
import { and, eq, exists, inArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import {
  type ClosingWrite,
  closeMessageWrites,
  type MessageClosing,
  slot,
  slottedClosing,
} from './message-writes.js';

const { runSteps, runs, usageLogs, threads } = schema;

export interface UsageRecord {
  run: RunRow;
  model: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  firstTokenMs: number | null;
}

function usageLogValues(record: UsageRecord) {
  return {
    runId: record.run.id,
    ownerId: record.run.ownerId,
    model: record.model,
    promptTokens: record.usage.prompt_tokens,
    completionTokens: record.usage.completion_tokens,
    totalTokens: record.usage.total_tokens,
    costUsd: record.costUsd.toFixed(8),
    latencyMs: Math.round(record.latencyMs),
    firstTokenMs: record.firstTokenMs === null ? null : Math.round(record.firstTokenMs),
  };
}

export interface ToolTurn {
  run: RunRow;
  calls: StepToolCall[];
  usageLog: UsageRecord;
  closing: MessageClosing | null;
}

/**
 * A turn that made tool calls, in one statement: its usage row, the closed answer message (when it wrote one),
 * the run's usage so far and the new tool_calls step (which also carries the turn's usage); answers that step.
 */
export async function openToolTurn(db: Db, turn: ToolTurn): Promise<RunStepRow> {
  const usageLog = slotted(usageLogs, 'usage_log', usageLogValues(turn.usageLog));
  const closing = turn.closing && slottedClosing(turn.closing);
  const runUsage = slotted(runs, 'run', { usage: turn.run.usage });
  const step = slotted(runSteps, 'tool_step', {
    id: newId('step'),
    runId: turn.run.id,
    threadId: turn.run.threadId,
    assistantId: turn.run.assistantId,
    type: 'tool_calls',
    status: 'in_progress',
    stepDetails: { type: 'tool_calls', tool_calls: turn.calls },
    usage: turn.usageLog.usage,
  });
  const shape = [usageLog.shape, closing?.shape, runUsage.shape, step.shape];
  const statement = prepared(db, `open_tool_turn ${shape.join(' ')}`, (name) => {
    const writes = [
      db.$with('usage_log').as(db.insert(usageLogs).values(usageLog.columns)),
      ...(closing ? closeMessageWrites(db, closing.write) : []),
      db.$with('run_usage').as(
        db
          .update(runs)
          .set(runUsage.columns as PgUpdateSetSource<typeof runs>)
          .where(eq(runs.id, slot('runId'))),
      ),
    ];
    return db
      .with(...writes)
      .insert(runSteps)
      .values(step.columns)
      .returning()
      .prepare(name);
  });
  const [row] = await statement.execute({
    ...usageLog.values,
    ...closing?.values,
    ...runUsage.values,
    ...step.values,
    runId: turn.run.id,
  });
  if (!row) throw new Error('insert returned no row');
  return row;
}

export interface TurnEnding {
  run: RunRow;
  status: 'completed' | 'incomplete';
  patch: RunPatch;
  /** Null when the model was not called. */
  usageLog: UsageRecord | null;
  /** Null when the turn wrote no message. */
  closing: MessageClosing | null;
  now: Date;
}

/**
 * Ends a run after its last turn in one statement. The run's compare-and-set move (as `transitionRun` makes it)
 * is the gate: the usage row, the closed message and step and the thread's activity are written only if it moved
 * the run. Answers the ended run, or null when another actor had moved it (and nothing was written).
 */
export async function endRunAfterTurn(db: Db, ending: TurnEnding): Promise<RunRow | null> {
  const run = slotted(runs, 'run', { ...ending.patch, status: ending.status });
  const closing = ending.closing && slottedClosing(ending.closing);
  const usageLog = ending.usageLog && usageLogValues(ending.usageLog);
  const shape = [ending.status, run.shape, closing?.shape, usageLog && 'usage_log'];
  const statement = prepared(db, `end_turn ${shape.join(' ')}`, (name) =>
    endTurnStatement(db, {
      status: ending.status,
      run: run.columns,
      closing: closing?.write ?? null,
      hasUsageLog: usageLog !== null,
    }).prepare(name),
  );
  const [ended] = await statement.execute({
    ...usageLog,
    ...run.values,
    ...closing?.values,
    runId: ending.run.id,
    threadId: ending.run.threadId,
    now: ending.now,
  });
  return ended ?? null;
}

interface EndTurnShape {
  status: TurnEnding['status'];
  run: Record<string, unknown>;
  closing: ClosingWrite | null;
  hasUsageLog: boolean;
}

function endTurnStatement(db: Db, shape: EndTurnShape) {
  const ended = endedRun(db, shape);
  const hasEnded = exists(db.select({ id: ended.id }).from(ended));
  const writes = [
    ...(shape.hasUsageLog
      ? [db.$with('usage_log').as(db.insert(usageLogs).select(usageLogOf(db, ended)))]
      : []),
    ...(shape.closing ? closeMessageWrites(db, shape.closing, hasEnded) : []),
    db.$with('touched_thread').as(
      db
        .update(threads)
        .set({ lastActivityAt: sql`${sql.param(sql.placeholder('now'), threads.lastActivityAt)}` })
        .where(and(eq(threads.id, slot('threadId')), hasEnded)),
    ),
  ];
  return db
    .with(ended, ...writes)
    .select()
    .from(ended);
}

function endedRun(db: Db, shape: EndTurnShape) {
  return db.$with('ended').as(
    db
      .update(runs)
      .set(shape.run)
      .where(and(eq(runs.id, slot('runId')), inArray(runs.status, allowedFrom(shape.status))))
      .returning(),
  );
}

/** The usage row as a SELECT over the ended run, so no run moved means no row (its defaults spelled out). */
function usageLogOf(db: Db, ended: ReturnType<typeof endedRun>) {
  const value = <T>(name: keyof ReturnType<typeof usageLogValues>, column: string) =>
    sql<T>`${sql.placeholder(name)}`.as(column);
  return db
    .select({
      id: sql<number>`nextval('usage_logs_id_seq')`.as('id'),
      runId: ended.id,
      ownerId: ended.ownerId,
      model: value<string>('model', 'model'),
      promptTokens: value<number>('promptTokens', 'prompt_tokens'),
      completionTokens: value<number>('completionTokens', 'completion_tokens'),
      totalTokens: value<number>('totalTokens', 'total_tokens'),
      costUsd: value<string>('costUsd', 'cost_usd'),
      latencyMs: value<number>('latencyMs', 'latency_ms'),
      firstTokenMs: value<number | null>('firstTokenMs', 'first_token_ms'),
      createdAt: sql<Date>`now()`.as('created_at'),
    })
    .from(ended);
}
