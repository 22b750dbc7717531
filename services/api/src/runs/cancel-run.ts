// Cancelling a run: cancelling at once; a run nobody holds ends cancelled here, a running one is told to stop.
import { ApiError, endRunEarly, findRun, isTerminal, type RunRow, toRunObject, transitionRun } from '@threadwork/shared';
import type { AppDeps } from '../deps.js';

function cannotCancel(status: string): ApiError {
  return new ApiError(400, `Cannot cancel run with status '${status}'.`);
}

export async function cancelRun(deps: AppDeps, run: RunRow): Promise<RunRow> {
  if (isTerminal(run.status)) throw cannotCancel(run.status);
  if (run.status === 'cancelling') return run;
  const moved = await transitionRun(deps.db, run.id, 'cancelling', {}, [run.status]);
  if (!moved) {
    const current = await findRun(deps.db, run.id);
    if (!current) throw new ApiError(404, `No run found with id '${run.id}'.`);
    return cancelRun(deps, current);
  }
  await deps.events.append(moved.id, moved.threadId, [{ event: 'thread.run.cancelling', data: toRunObject(moved) }]);
  if (run.status === 'in_progress') await deps.events.publishCancel(run.id);
  else await endRunEarly(deps, run.id, { status: 'cancelled' }, ['cancelling']);
  return moved;
}
