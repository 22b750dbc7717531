// Data access for runs as the API reads them (the run core writes them: packages/shared/src/runs): the owner in
// every where.

import {
  activeStatuses,
  type Db,
  hasStopped,
  type MessageRow,
  type RunRow,
  type RunStepRow,
  schema,
} from '@threadwork/shared';
import { and, asc, count, desc, eq, inArray, sum } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import { threadsOwnedBy } from './threads.js';

const { messages, runs, runSteps, threads, usageLogs } = schema;

export interface RunRecords {
  run: RunRow;
  messages: MessageRow[];
  toolSteps: RunStepRow[];
  costUsd: number | null;
  /** The model of the run's last model call (a MODEL_FALLBACKS fallback when the run's own model failed). */
  modelUsed: string | null;
}

/** How far each run has got as Postgres has it: the seq of its last stored event, and whether it has stopped. */
export async function findStoredProgress(
  db: Db,
  runIds: string[],
): Promise<Map<string, { eventSeq: number; hasStopped: boolean }>> {
  const rows = await db
    .select({ id: runs.id, eventSeq: runs.eventSeq, status: runs.status })
    .from(runs)
    .where(inArray(runs.id, runIds));
  return new Map(rows.map((row) => [row.id, { eventSeq: row.eventSeq, hasStopped: hasStopped(row.status) }]));
}

export async function findOwnedRun(db: Db, principal: Principal, runId: string): Promise<RunRow | null> {
  const [found] = await db
    .select({ run: runs })
    .from(runs)
    .innerJoin(threads, eq(threads.id, runs.threadId))
    .where(and(eq(runs.id, runId), eq(runs.ownerId, principal.projectId), threadsOwnedBy(principal)));
  return found?.run ?? null;
}

/** The runs in flight on the end user's threads. */
export async function countActiveRunsOfEndUser(
  db: Db,
  projectId: string,
  endUserId: string,
): Promise<number> {
  const [row] = await db
    .select({ active: count() })
    .from(runs)
    .innerJoin(threads, eq(threads.id, runs.threadId))
    .where(
      and(
        eq(threads.ownerId, projectId),
        eq(threads.endUserId, endUserId),
        inArray(runs.status, activeStatuses),
      ),
    );
  return row?.active ?? 0;
}

export async function updateRunMetadata(
  db: Db,
  id: string,
  metadata: Record<string, string>,
): Promise<RunRow | null> {
  const [row] = await db.update(runs).set({ metadata }).where(eq(runs.id, id)).returning();
  return row ?? null;
}

export async function findRunStep(db: Db, runId: string, id: string): Promise<RunStepRow | null> {
  const [row] = await db
    .select()
    .from(runSteps)
    .where(and(eq(runSteps.id, id), eq(runSteps.runId, runId)));
  return row ?? null;
}

/** What the chat view of a run is built from: its assistant messages, tool steps and cost. */
export async function loadRunRecords(db: Db, run: RunRow): Promise<RunRecords> {
  const [messageRows, toolSteps, [cost], [lastCall]] = await Promise.all([
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
    db
      .select({ model: usageLogs.model })
      .from(usageLogs)
      .where(eq(usageLogs.runId, run.id))
      .orderBy(desc(usageLogs.id))
      .limit(1),
  ]);
  return {
    run,
    messages: messageRows,
    toolSteps,
    costUsd: cost?.total === null || cost?.total === undefined ? null : Number(cost.total),
    modelUsed: lastCall?.model ?? null,
  };
}
