// Compare-and-set moves of a run's status: when two actors race, exactly one wins and the other learns it.
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { runs } from '../db/schema.js';
import type { RunRow } from '../objects.js';
import { allowedFrom, type RunStatus } from '../run-status.js';

type PatchableRun = Omit<RunRow, 'id' | 'status' | 'threadId' | 'ownerId' | 'createdAt'>;

/** New values for a run's columns; a column may also take an SQL expression over its current values. */
export type RunPatch = { [K in keyof PatchableRun]?: PatchableRun[K] | SQL };

/** Moves a run to `to` if its current status allows it; answers the updated row or null when another actor won. */
export async function transitionRun(
  db: Pick<Db, 'update'>,
  runId: string,
  to: RunStatus,
  patch: RunPatch = {},
  from: readonly RunStatus[] = allowedFrom(to),
): Promise<RunRow | null> {
  const [row] = await db
    .update(runs)
    .set({ ...patch, status: to })
    .where(and(eq(runs.id, runId), inArray(runs.status, [...from])))
    .returning();
  return row ?? null;
}
