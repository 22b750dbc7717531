// After a run change is committed: publish its events and enqueue the work; a failure here fails the run.
import {
  ApiError,
  enqueueRun,
  type NewRunEvent,
  type RunJob,
  type RunRow,
  transitionRun,
} from '@threadwork/shared';
import type { AppDeps } from '../deps.js';

/** The SDK retries 5xx without an idempotency key; once a run is committed a retry would duplicate work. */
export const NO_RETRY = { 'x-should-retry': 'false' } as const;

/**
 * Appends the events (the last ones up to the run's stored seq) and enqueues the job in one round trip; answers the
 * seq of the first event (where a stream of the change starts). Both go on the API's one Redis connection, the
 * events first, so Redis has them before any worker can take the job. They wait for `listening` (a stream's
 * subscription) when given. A run that cannot be announced or enqueued is failed, so it never sits queued with
 * nobody to run it.
 */
export async function announceAndEnqueue(
  deps: AppDeps,
  run: RunRow,
  events: NewRunEvent[],
  job: RunJob,
  listening?: Promise<void>,
): Promise<number> {
  try {
    await listening;
    const firstSeq = run.eventSeq - events.length + 1;
    await Promise.all([
      deps.events.append(run, firstSeq, events),
      enqueueRun(deps.queues, job, run.jobId ? { jobId: run.jobId } : {}),
    ]);
    return firstSeq;
  } catch (error) {
    deps.log.error({ err: error, runId: run.id }, 'could not enqueue run');
    await transitionRun(deps.db, run.id, 'failed', {
      failedAt: new Date(),
      expiresAt: null,
      lastError: { code: 'server_error', message: 'The run could not be queued.' },
    }).catch((failError: unknown) => deps.log.error({ err: failError, runId: run.id }, 'could not fail run'));
    throw new ApiError(503, 'The run could not be queued; it was marked failed.', {
      type: 'server_error',
      code: 'server_error',
      headers: NO_RETRY,
    });
  }
}
