// Data access for the chat view of a run: the owner in every where, and reads that wait for a run's last write.

import { type Db, type MessageRow, type RunRow, type RunStepRow, schema } from '@threadwork/shared';
import { and, asc, eq, sum } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import { type ChatRunView, toChatView } from './run-view.js';

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

/**
 * The run as committed. `FOR SHARE` waits for a worker's transaction that holds the row (the run worker
 * publishes a run's final event inside the transaction that ends it), so a reader woken by that event sees
 * the committed end instead of the status before it.
 */
export async function readSettledRun(db: Db, runId: string): Promise<RunRow | null> {
  const [row] = await db.select().from(runs).where(eq(runs.id, runId)).for('share');
  return row ?? null;
}

export async function loadRunRecords(db: Db, run: RunRow): Promise<RunRecords> {
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

/** The chat view of a run as committed; null when the run is gone (its thread was deleted). */
export async function loadChatView(db: Db, runId: string): Promise<ChatRunView | null> {
  const run = await readSettledRun(db, runId);
  return run ? toChatView(await loadRunRecords(db, run)) : null;
}
