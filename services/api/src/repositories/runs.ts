// Data access for the chat view of a run: the owner in every where.

import { type Db, findRun, type MessageRow, type RunRow, type RunStepRow, schema } from '@threadwork/shared';
import { and, asc, eq, sum } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import { type ChatRunView, toChatView } from '../services/chat/run-view.js';

const { messages, runs, runSteps, usageLogs } = schema;

export interface RunRecords {
  run: RunRow;
  messages: MessageRow[];
  toolSteps: RunStepRow[];
  costUsd: number | null;
}

export async function findOwnedRun(db: Db, principal: Principal, runId: string): Promise<RunRow | null> {
  const owner = principal.role === 'admin' ? undefined : eq(runs.ownerId, principal.keyId);
  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.id, runId), owner));
  return row ?? null;
}

async function loadRunRecords(db: Db, run: RunRow): Promise<RunRecords> {
  const [messageRows, toolSteps, [cost]] = await Promise.all([
    db
      .select()
      .from(messages)
      .where(and(eq(messages.runId, run.id), eq(messages.role, 'assistant')))
      .orderBy(asc(messages.id)),
    db
      .select()
      .from(runSteps)
      .where(and(eq(runSteps.runId, run.id), eq(runSteps.type, 'tool_calls')))
      .orderBy(asc(runSteps.id)),
    db
      .select({ total: sum(usageLogs.costUsd) })
      .from(usageLogs)
      .where(eq(usageLogs.runId, run.id)),
  ]);
  return {
    run,
    messages: messageRows,
    toolSteps,
    costUsd: cost?.total === null || cost?.total === undefined ? null : Number(cost.total),
  };
}

/**
 * The chat view of a run; null when the run is gone (its thread was deleted). Workers publish a run's events after
 * committing them, so a reader woken by an event finds at least what the event says.
 */
export async function loadChatView(db: Db, runId: string): Promise<ChatRunView | null> {
  const run = await findRun(db, runId);
  return run ? chatViewOf(db, run) : null;
}

/** The chat view of a run the caller has just read (its row is not read again). */
export async function chatViewOf(db: Db, run: RunRow): Promise<ChatRunView> {
  return toChatView(await loadRunRecords(db, run));
}
