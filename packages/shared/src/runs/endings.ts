// Ending a run early (cancelled, expired, failed): the open message and step end with it, then events go out.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { messages, runSteps } from '../db/schema.js';
import type { EventBus, NewRunEvent } from '../events.js';
import { toMessageObject, toRunObject, toRunStepObject } from '../objects.js';
import type { RunStatus } from '../run-status.js';
import type { LastError } from '../wire.js';
import { terminalPatch, transitionRun } from './transitions.js';

export type EarlyEnding =
  | { status: 'cancelled' }
  | { status: 'expired' }
  | { status: 'failed'; error: LastError };

const messageReasons = { cancelled: 'run_cancelled', expired: 'run_expired', failed: 'run_failed' } as const;

export interface EndingDeps {
  db: Db;
  events: EventBus;
  now?: () => Date;
}

/**
 * Ends a run that has not finished normally. Answers false when the run could not move (another actor won).
 * `from` narrows the statuses it may end from (e.g. only `cancelling` for a cancellation).
 */
export async function endRunEarly(
  deps: EndingDeps,
  runId: string,
  ending: EarlyEnding,
  from?: readonly RunStatus[],
): Promise<boolean> {
  const now = deps.now?.() ?? new Date();
  const outcome = await deps.db.transaction(async (tx) => {
    const lastError = ending.status === 'failed' ? ending.error : null;
    const run = await transitionRun(
      tx,
      runId,
      ending.status,
      { ...terminalPatch(ending.status, now), lastError },
      from,
    );
    if (!run) return null;
    const openMessages = await tx
      .update(messages)
      .set({
        status: 'incomplete',
        incompleteAt: now,
        incompleteDetails: { reason: messageReasons[ending.status] },
      })
      .where(and(eq(messages.runId, runId), eq(messages.status, 'in_progress')))
      .returning();
    const stepPatch =
      ending.status === 'cancelled'
        ? { status: 'cancelled' as const, cancelledAt: now }
        : ending.status === 'expired'
          ? { status: 'expired' as const, expiredAt: now }
          : { status: 'failed' as const, failedAt: now, lastError };
    const openSteps = await tx
      .update(runSteps)
      .set(stepPatch)
      .where(and(eq(runSteps.runId, runId), inArray(runSteps.status, ['in_progress'])))
      .returning();
    return { run, openMessages, openSteps };
  });
  if (!outcome) return false;
  const events: NewRunEvent[] = [
    ...outcome.openMessages.map((row) => ({
      event: 'thread.message.incomplete',
      data: toMessageObject(row),
    })),
    ...outcome.openSteps.map((row) => ({
      event: `thread.run.step.${row.status}`,
      data: toRunStepObject(row),
    })),
    { event: `thread.run.${ending.status}`, data: toRunObject(outcome.run) },
  ];
  await deps.events.append(outcome.run.id, outcome.run.threadId, events);
  return true;
}
