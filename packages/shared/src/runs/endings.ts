// Ending a run early (cancelled, expired, failed): persisted by the run repository, then announced; and after any
// ending, the thread's next waiting run is released.
import type { Db } from '../db/client.js';
import type { EventBus } from '../events.js';
import type { Metrics } from '../metrics.js';
import { type RunRow, STEP_EVENT_VIEW, toMessageObject, toRunObject, toRunStepObject } from '../objects.js';
import { enqueueRun, type Queues } from '../queues.js';
import { type NewRunEvent, runStatusEvent, runStepStatusEvent } from '../run-events.js';
import type { RunStatus } from '../run-status.js';
import { type EarlyEnded, type EarlyEnding, releaseWaitingRuns, writeEarlyEnding } from './run-repository.js';

export type { EarlyEnding } from './run-repository.js';

export interface EndingDeps {
  db: Db;
  events: EventBus;
  queues: Queues;
  /** Counts the runs each process ended, by status. */
  metrics?: Pick<Metrics, 'runsFinished'>;
  now?: () => Date;
}

/**
 * After a run of the thread ended (or a run was written to wait): the run waiting its turn, if it has one now, is
 * released and enqueued. A job lost between the two is enqueued again by the sweeper (a queued run without a job).
 */
export async function releaseNextRun(
  deps: Pick<EndingDeps, 'db' | 'queues'>,
  threadId: string,
): Promise<RunRow | null> {
  const released = await releaseWaitingRuns(deps.db, threadId);
  if (!released) return null;
  await enqueueRun(
    deps.queues,
    { name: 'run.execute', data: { runId: released.id } },
    { jobId: released.id },
  );
  return released;
}

/** A cancellation is announced as cancelling first (once the run is cancelling, whoever ends it). */
function announcesCancelling(ending: EarlyEnding, before: { status: RunStatus }): boolean {
  return ending.status === 'cancelled' && before.status === 'cancelling';
}

function endingEvents(ending: EarlyEnding, ended: EarlyEnded): NewRunEvent[] {
  return [
    ...(announcesCancelling(ending, ended.before)
      ? [{ event: 'thread.run.cancelling' as const, data: toRunObject(ended.before) }]
      : []),
    ...ended.closedMessages.map((row) => ({
      event: 'thread.message.incomplete' as const,
      data: toMessageObject(row),
    })),
    ...ended.closedSteps.map((row) => runStepStatusEvent(toRunStepObject(row, STEP_EVENT_VIEW))),
    runStatusEvent(toRunObject(ended.run)),
  ];
}

/**
 * Ends a run that has not finished normally, then publishes what it closed. Answers the ended run, or null when
 * the run could not move (another actor won). `from` narrows the statuses it may end from.
 */
export async function endRunEarly(
  deps: EndingDeps,
  runId: string,
  ending: EarlyEnding,
  from?: readonly RunStatus[],
  options: { onlyIfUnheld?: boolean } = {},
) {
  // A holder that died may have published past the stored seq: the log's last seq is the floor.
  const seqFloor = await deps.events.lastSeq(runId).catch(() => 0);
  const ended = await writeEarlyEnding(deps.db, runId, ending, {
    from,
    onlyIfUnheld: options.onlyIfUnheld,
    now: deps.now?.() ?? new Date(),
    seqFloor,
    streamedText: (messageId) => deps.events.answerText(runId, messageId).catch(() => ''),
    eventCount: (closed) =>
      closed.messages + closed.steps + 1 + (announcesCancelling(ending, closed.before) ? 1 : 0),
  });
  if (!ended) return null;
  deps.metrics?.runsFinished.inc({ status: ended.run.status });
  const events = endingEvents(ending, ended);
  await deps.events.append(ended.run, ended.firstSeq, events);
  await releaseNextRun(deps, ended.run.threadId);
  return ended.run;
}
