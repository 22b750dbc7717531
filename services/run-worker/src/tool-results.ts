// `run.continue`: the built-in tool calls of a step have finished; store their outputs and carry on.
import {
  endRunEarly,
  findRun,
  PRODUCTS_EVENT,
  productCardsOf,
  type ToolJobResult,
  toRunStepObject,
} from '@threadwork/shared';
import {
  clock,
  type Delivery,
  driveModel,
  emit,
  failAbandonedRun,
  isBuiltin,
  type RunLoopDeps,
  requireAction,
} from './run-loop.js';
import { completeToolStep, findStep, setStepCalls } from './run-store.js';

const MISSING_OUTPUT = 'Error: the tool did not return a result.';

export async function continueAfterTools(
  deps: RunLoopDeps,
  runId: string,
  stepId: string,
  results: ToolJobResult[],
  delivery: Delivery,
): Promise<void> {
  const [run, step] = await Promise.all([findRun(deps.db, runId), findStep(deps.db, stepId)]);
  if (run?.status === 'cancelling') {
    await endRunEarly(deps, runId, { status: 'cancelled' }, ['cancelling']);
    return;
  }
  if (run?.status !== 'in_progress') return;
  if (step?.status !== 'in_progress' || step.stepDetails.type !== 'tool_calls') {
    await failAbandonedRun(deps, runId, delivery);
    return;
  }
  const byId = new Map(results.map((result) => [result.callId, result]));
  const calls = step.stepDetails.tool_calls.map((call) =>
    isBuiltin(run, call.function.name) && call.function.output === null
      ? { ...call, function: { ...call.function, output: byId.get(call.id)?.output ?? MISSING_OUTPUT } }
      : call,
  );
  const cards = productCardsOf(calls.filter((call) => byId.has(call.id)));
  if (cards.length > 0) {
    await emit(deps, run, [{ event: PRODUCTS_EVENT, data: { step_id: step.id, products: cards } }]);
  }
  if (calls.some((call) => call.function.output === null)) {
    const updated = await setStepCalls(deps.db, step.id, calls);
    if (updated) await requireAction(deps, run, updated, calls, clock(deps));
    return;
  }
  const completed = await completeToolStep(deps.db, step.id, calls, clock(deps));
  if (!completed) return;
  await emit(deps, run, [{ event: 'thread.run.step.completed', data: toRunStepObject(completed) }]);
  await driveModel(deps, run);
}
