// submit_tool_outputs: every pending call answered exactly once, outputs stored on the step, the run queued again.
import { and, desc, eq } from 'drizzle-orm';
import {
  ApiError,
  enqueueRun,
  type RunRow,
  type RunStepRow,
  schema,
  toRunObject,
  toRunStepObject,
  transitionRun,
} from '@threadwork/shared';
import type { AppDeps } from '../deps.js';

export interface SubmittedOutputs {
  run: RunRow;
  firstSeq: number;
}

function pythonList(ids: string[]): string {
  return `[${ids.map((id) => `'${id}'`).join(', ')}]`;
}

export function notAcceptingOutputs(status: string): ApiError {
  return new ApiError(400, `Runs in status "${status}" do not accept tool outputs.`);
}

export function checkOutputsMatch(pending: string[], outputs: { tool_call_id?: string }[]): void {
  const given = outputs.map((output) => output.tool_call_id ?? '');
  const sortedPending = [...pending].sort();
  const sortedGiven = [...given].sort();
  const matches =
    sortedPending.length === sortedGiven.length && sortedPending.every((id, index) => id === sortedGiven[index]);
  if (!matches) {
    throw new ApiError(400, `Expected tool outputs for call_ids ${pythonList(pending)}, got ${pythonList(given)}`, {
      param: 'tool_outputs',
    });
  }
}

export async function submitToolOutputs(
  deps: AppDeps,
  run: RunRow,
  outputs: { tool_call_id?: string; output?: string }[],
): Promise<SubmittedOutputs> {
  if (run.status !== 'requires_action') throw notAcceptingOutputs(run.status);
  const pending = run.requiredAction?.submit_tool_outputs.tool_calls.map((call) => call.id) ?? [];
  checkOutputsMatch(pending, outputs);
  const byId = new Map(outputs.map((output) => [output.tool_call_id ?? '', output.output ?? '']));
  const now = new Date();
  const result = await deps.db.transaction(async (tx) => {
    const moved = await transitionRun(tx, run.id, 'queued', { requiredAction: null }, ['requires_action']);
    if (!moved) return null;
    const [step] = await tx
      .select()
      .from(schema.runSteps)
      .where(
        and(
          eq(schema.runSteps.runId, run.id),
          eq(schema.runSteps.type, 'tool_calls'),
          eq(schema.runSteps.status, 'in_progress'),
        ),
      )
      .orderBy(desc(schema.runSteps.id))
      .limit(1);
    if (!step || step.stepDetails.type !== 'tool_calls') throw new Error(`run ${run.id} has no open tool step`);
    const toolCalls = step.stepDetails.tool_calls.map((call) =>
      byId.has(call.id) ? { ...call, function: { ...call.function, output: byId.get(call.id) ?? '' } } : call,
    );
    const [completed] = await tx
      .update(schema.runSteps)
      .set({ status: 'completed', completedAt: now, stepDetails: { type: 'tool_calls', tool_calls: toolCalls } })
      .where(eq(schema.runSteps.id, step.id))
      .returning();
    return { run: moved, step: completed as RunStepRow };
  });
  if (!result) {
    const [current] = await deps.db.select({ status: schema.runs.status }).from(schema.runs).where(eq(schema.runs.id, run.id));
    throw notAcceptingOutputs(current?.status ?? run.status);
  }
  const firstSeq = await deps.events.append(run.id, run.threadId, [
    { event: 'thread.run.step.completed', data: toRunStepObject(result.step) },
    { event: 'thread.run.queued', data: toRunObject(result.run) },
  ]);
  await enqueueRun(deps.queues, { name: 'run.resume', data: { runId: run.id, stepId: result.step.id } });
  return { run: result.run, firstSeq };
}
