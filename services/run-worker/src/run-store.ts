// Data access for the run loop: load what the model needs, open and close messages and steps, record usage.

import {
  type Db,
  type MessageRow,
  newId,
  type RunRow,
  type RunStepRow,
  type StepToolCall,
  schema,
  type Usage,
} from '@threadwork/shared';
import { and, asc, eq } from 'drizzle-orm';

const { messages, runSteps, runs, usageLogs, threads } = schema;

export async function loadThreadMessages(db: Db, threadId: string): Promise<MessageRow[]> {
  return db.select().from(messages).where(eq(messages.threadId, threadId)).orderBy(asc(messages.id));
}

export async function loadToolSteps(db: Db, runId: string): Promise<RunStepRow[]> {
  return db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.runId, runId), eq(runSteps.type, 'tool_calls')))
    .orderBy(asc(runSteps.id));
}

export async function findStep(db: Db, stepId: string): Promise<RunStepRow | null> {
  const [row] = await db.select().from(runSteps).where(eq(runSteps.id, stepId));
  return row ?? null;
}

export async function openMessage(db: Db, run: RunRow): Promise<{ message: MessageRow; step: RunStepRow }> {
  const messageId = newId('message');
  const stepId = newId('step');
  return db.transaction(async (tx) => {
    const [step] = await tx
      .insert(runSteps)
      .values({
        id: stepId,
        runId: run.id,
        threadId: run.threadId,
        assistantId: run.assistantId,
        type: 'message_creation',
        status: 'in_progress',
        stepDetails: { type: 'message_creation', message_creation: { message_id: messageId } },
      })
      .returning();
    const [message] = await tx
      .insert(messages)
      .values({
        id: messageId,
        threadId: run.threadId,
        role: 'assistant',
        content: [],
        status: 'in_progress',
        assistantId: run.assistantId,
        runId: run.id,
      })
      .returning();
    if (!step || !message) throw new Error('insert returned no row');
    return { message, step };
  });
}

export interface ClosedMessage {
  message: MessageRow;
  step: RunStepRow;
}

export async function closeMessage(
  db: Pick<Db, 'update'>,
  opened: { message: MessageRow; step: RunStepRow },
  text: string,
  outcome: 'completed' | 'incomplete',
  stepUsage: Usage | null,
  now: Date,
): Promise<ClosedMessage> {
  const content = [{ type: 'text' as const, text: { value: text, annotations: [] } }];
  const [message] = await db
    .update(messages)
    .set(
      outcome === 'completed'
        ? { status: 'completed', content, completedAt: now }
        : { status: 'incomplete', content, incompleteAt: now, incompleteDetails: { reason: 'max_tokens' } },
    )
    .where(eq(messages.id, opened.message.id))
    .returning();
  const [step] = await db
    .update(runSteps)
    .set({ status: 'completed', completedAt: now, usage: stepUsage })
    .where(eq(runSteps.id, opened.step.id))
    .returning();
  if (!message || !step) throw new Error('update returned no row');
  return { message, step };
}

export async function openToolStep(
  db: Db,
  run: RunRow,
  calls: StepToolCall[],
  usage: Usage | null,
): Promise<RunStepRow> {
  const [step] = await db
    .insert(runSteps)
    .values({
      id: newId('step'),
      runId: run.id,
      threadId: run.threadId,
      assistantId: run.assistantId,
      type: 'tool_calls',
      status: 'in_progress',
      stepDetails: { type: 'tool_calls', tool_calls: calls },
      usage,
    })
    .returning();
  if (!step) throw new Error('insert returned no row');
  return step;
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

/** Completes an open tool step; null when it was not open (a duplicate continuation). */
export async function completeToolStep(
  db: Pick<Db, 'update'>,
  stepId: string,
  calls: StepToolCall[],
  now: Date,
): Promise<RunStepRow | null> {
  const [row] = await db
    .update(runSteps)
    .set({ status: 'completed', completedAt: now, stepDetails: { type: 'tool_calls', tool_calls: calls } })
    .where(and(eq(runSteps.id, stepId), eq(runSteps.status, 'in_progress')))
    .returning();
  return row ?? null;
}

export interface UsageRecord {
  run: RunRow;
  model: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  firstTokenMs: number | null;
}

export async function recordUsage(db: Pick<Db, 'insert'>, record: UsageRecord): Promise<void> {
  await db.insert(usageLogs).values({
    runId: record.run.id,
    ownerId: record.run.ownerId,
    model: record.model,
    promptTokens: record.usage.prompt_tokens,
    completionTokens: record.usage.completion_tokens,
    totalTokens: record.usage.total_tokens,
    costUsd: record.costUsd.toFixed(8),
    latencyMs: Math.round(record.latencyMs),
    firstTokenMs: record.firstTokenMs === null ? null : Math.round(record.firstTokenMs),
  });
}

export async function touchThread(db: Pick<Db, 'update'>, threadId: string, now: Date): Promise<void> {
  await db.update(threads).set({ lastActivityAt: now }).where(eq(threads.id, threadId));
}

export function addUsage(a: Usage | null, b: Usage): Usage {
  return {
    prompt_tokens: (a?.prompt_tokens ?? 0) + b.prompt_tokens,
    completion_tokens: (a?.completion_tokens ?? 0) + b.completion_tokens,
    total_tokens: (a?.total_tokens ?? 0) + b.total_tokens,
  };
}

export async function saveRunUsage(
  db: Pick<Db, 'update'>,
  runId: string,
  usage: Usage | null,
): Promise<void> {
  await db.update(runs).set({ usage }).where(eq(runs.id, runId));
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
