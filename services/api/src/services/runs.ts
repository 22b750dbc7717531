// Runs as the API reads and modifies them: the caller's run on the caller's thread, its steps. Creating, cancelling
// and submitting tool outputs are the run core's (runs/).
import {
  notFound,
  type RunRow,
  type RunStepRow,
  type RunStepViewOptions,
  schema,
  toRunObject,
  toRunStepObject,
} from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { listRows } from '../repositories/pagination.js';
import { findOwnedRun, findRunStep, updateRunMetadata } from '../repositories/runs.js';
import { ownedThread } from '../repositories/threads.js';
import type { ListQuery } from '../schemas/common.js';
import type { ModifyRunInput } from '../schemas/runs.js';

/** The caller's run by its id alone (the chat API's run URLs have no thread). */
export async function ownedRunById(deps: AppDeps, principal: Principal, runId: string): Promise<RunRow> {
  const run = await findOwnedRun(deps.db, principal, runId);
  if (!run) throw notFound('run', runId);
  return run;
}

/** The caller's run on the caller's thread in one read; the thread is looked up only to answer its own 404. */
export async function ownedRun(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  runId: string,
): Promise<RunRow> {
  const run = await findOwnedRun(deps.db, principal, runId);
  if (run?.threadId === threadId) return run;
  await ownedThread(deps.db, principal, threadId);
  throw notFound('run', runId);
}

export async function listRuns(deps: AppDeps, principal: Principal, threadId: string, query: ListQuery) {
  const thread = await ownedThread(deps.db, principal, threadId);
  return listRows(deps.db, schema.runs, query, eq(schema.runs.threadId, thread.id), toRunObject);
}

/** Only metadata can change; a body without it answers the run as it is. */
export async function modifyRun(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  runId: string,
  input: ModifyRunInput,
): Promise<RunRow> {
  const run = await ownedRun(deps, principal, threadId, runId);
  if (input.metadata === undefined) return run;
  return (await updateRunMetadata(deps.db, run.id, input.metadata ?? {})) ?? run;
}

export async function listRunSteps(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  runId: string,
  query: ListQuery,
  view: RunStepViewOptions,
) {
  const run = await ownedRun(deps, principal, threadId, runId);
  return listRows(deps.db, schema.runSteps, query, eq(schema.runSteps.runId, run.id), (row) =>
    toRunStepObject(row, view),
  );
}

export async function retrieveRunStep(
  deps: AppDeps,
  principal: Principal,
  threadId: string,
  runId: string,
  stepId: string,
): Promise<RunStepRow> {
  const run = await ownedRun(deps, principal, threadId, runId);
  const step = await findRunStep(deps.db, run.id, stepId);
  if (!step) throw notFound('step', stepId);
  return step;
}
