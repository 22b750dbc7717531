// Cancelling a run: cancelling at once; a run nobody holds ends cancelled here, a running one is told to stop.
import {
  ApiError,
  endRunEarly,
  findRun,
  isHeldAt,
  isTerminal,
  type RunRow,
  type RunStatus,
  transitionRun,
} from '@threadwork/shared';
import type { AppDeps } from '../deps.js';

function cannotCancel(status: string): ApiError {
  return new ApiError(400, `Cannot cancel run with status '${status}'.`);
}

/**
 * Whether a run that moved from `seen` to `now` while a cancel was under way only progressed in the worker
 * (claimed, or reached requires_action), so the cancel still applies. Any other move was another request's doing
 * (tool outputs accepted, another cancel): that request won the race and this cancel must not win too.
 */
export function isWorkerProgress(seen: RunStatus, now: RunStatus): boolean {
  return (
    (seen === 'queued' || seen === 'in_progress') && (now === 'in_progress' || now === 'requires_action')
  );
}

export async function cancelRun(deps: AppDeps, run: RunRow): Promise<RunRow> {
  if (isTerminal(run.status)) throw cannotCancel(run.status);
  if (run.status === 'cancelling') return run;
  const moved = await transitionRun(deps.db, run.id, 'cancelling', {}, [run.status]);
  if (!moved) {
    const current = await findRun(deps.db, run.id);
    if (!current) throw new ApiError(404, `No run found with id '${run.id}'.`);
    if (current.status === 'cancelling') return current;
    if (isTerminal(current.status)) throw cannotCancel(current.status);
    if (isWorkerProgress(run.status, current.status)) return cancelRun(deps, current);
    throw new ApiError(
      400,
      `Run ${run.id} moved from '${run.status}' to '${current.status}' while it was being cancelled; retrieve it and cancel again if needed.`,
    );
  }
  // The worker holding the run stops its model and ends it; a run nobody holds is ended here.
  if (isHeldAt(moved, new Date())) await deps.events.publishCancel(run.id);
  else await endRunEarly(deps, run.id, { status: 'cancelled' }, ['cancelling'], { onlyIfUnheld: true });
  return moved;
}

/**
 * Cancels the runs a new run supersedes (multitask_strategy interrupt or rollback), last first, so that each one's
 * ending moves the new run up behind the one before it. A run that ended meanwhile has nothing to cancel.
 */
export async function cancelSuperseded(deps: AppDeps, runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    const run = await findRun(deps.db, runId);
    if (!run || isTerminal(run.status)) continue;
    await cancelRun(deps, run).catch((error: unknown) => {
      if (!(error instanceof ApiError && error.status === 400)) throw error;
    });
  }
}
