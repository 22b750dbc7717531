// `run.continue`: the built-in tool calls of a step have finished; store their outputs and carry on.
import { endRunEarly, PRODUCTS_EVENT, productCardsOf, type ToolJobResult } from '@threadwork/shared';
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
import { completedToolStep, loadRunContext, setStepCalls } from './run-store.js';

const MISSING_OUTPUT = 'Error: the tool did not return a result.';

/**
 * Reads the run, its tool steps and the thread's messages (one statement) while the outputs arrive. A step whose
 * calls all have outputs is completed with the next turn's first write (see `driveModel`).
 */
export async function continueAfterTools(
  deps: RunLoopDeps,
  runId: string,
  stepId: string,
  outputs: Promise<ToolJobResult[]>,
  delivery: Delivery,
): Promise<void> {
  const [context, results] = await Promise.all([loadRunContext(deps.db, runId), outputs]);
  if (context?.run.status === 'cancelling') {
    await endRunEarly(deps, runId, { status: 'cancelled' }, ['cancelling']);
    return;
  }
  if (context?.run.status !== 'in_progress') return;
  const { run, toolSteps, history } = context;
  const step = toolSteps.find((row) => row.id === stepId);
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
  const completed = completedToolStep(step, calls, clock(deps));
  await driveModel(deps, run, {
    history,
    toolSteps: toolSteps.map((row) => (row.id === step.id ? completed : row)),
    completing: completed,
  });
}
