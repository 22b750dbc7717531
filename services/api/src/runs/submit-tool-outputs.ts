// submit_tool_outputs: every pending call answered exactly once, outputs stored on the step, the run queued again.

import {
  ApiError,
  type Db,
  findRun,
  type RunRow,
  type RunStepRow,
  runJobId,
  type StepToolCall,
  schema,
  toRunObject,
  toRunStepObject,
  transitionRun,
} from '@threadwork/shared';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { announceAndEnqueue } from './create-run.js';

export interface SubmittedOutputs {
  run: RunRow;
  firstSeq: number;
}

export interface ToolOutputInput {
  tool_call_id?: string;
  output?: string;
}

function pythonList(ids: string[]): string {
  return `[${ids.map((id) => `'${id}'`).join(', ')}]`;
}

export function notAcceptingOutputs(status: string): ApiError {
  return new ApiError(400, `Runs in status "${status}" do not accept tool outputs.`);
}

/** Every pending call id exactly once, and nothing else; otherwise 400 in OpenAI's wording. */
export function checkOutputsMatch(pending: string[], outputs: ToolOutputInput[]): void {
  const given = outputs.map((output) => output.tool_call_id ?? '');
  const sortedPending = [...pending].sort();
  const sortedGiven = [...given].sort();
  const matches =
    sortedPending.length === sortedGiven.length &&
    sortedPending.every((id, index) => id === sortedGiven[index]);
  if (!matches) {
    throw new ApiError(
      400,
      `Expected tool outputs for call_ids ${pythonList(pending)}, got ${pythonList(given)}`,
      {
        param: 'tool_outputs',
      },
    );
  }
}

/** The step's calls with the submitted outputs filled in. */
export function withOutputs(calls: StepToolCall[], outputs: ToolOutputInput[]): StepToolCall[] {
  const byId = new Map(outputs.map((output) => [output.tool_call_id ?? '', output.output ?? '']));
  return calls.map((call) => {
    const output = byId.get(call.id);
    return output === undefined ? call : { ...call, function: { ...call.function, output } };
  });
}

async function openToolStep(db: Pick<Db, 'select'>, runId: string): Promise<RunStepRow | null> {
  const [step] = await db
    .select()
    .from(schema.runSteps)
    .where(
      and(
        eq(schema.runSteps.runId, runId),
        eq(schema.runSteps.type, 'tool_calls'),
        eq(schema.runSteps.status, 'in_progress'),
      ),
    )
    .orderBy(desc(schema.runSteps.id))
    .limit(1);
  return step ?? null;
}

/** The job that resumes a run after the outputs of its tool step `stepId`. */
function resumeJobId(runId: string, stepId: string): string {
  return runJobId({ name: 'run.resume', data: { runId, stepId } });
}

/**
 * Moves the run requires_action → queued (compare-and-set, so a concurrent cancel or expiry wins or loses as a
 * whole) and completes the tool step with the outputs, in one transaction.
 */
async function acceptOutputs(deps: AppDeps, run: RunRow, outputs: ToolOutputInput[]) {
  return deps.db.transaction(async (tx) => {
    const step = await openToolStep(tx, run.id);
    if (step?.stepDetails.type !== 'tool_calls') return null;
    const moved = await transitionRun(
      tx,
      run.id,
      'queued',
      {
        requiredAction: null,
        jobId: resumeJobId(run.id, step.id),
        eventSeq: sql`${schema.runs.eventSeq} + 2`,
      },
      ['requires_action'],
    );
    if (!moved) return null;
    const [completed] = await tx
      .update(schema.runSteps)
      .set({
        status: 'completed',
        completedAt: new Date(),
        stepDetails: { type: 'tool_calls', tool_calls: withOutputs(step.stepDetails.tool_calls, outputs) },
      })
      .where(eq(schema.runSteps.id, step.id))
      .returning();
    if (!completed) throw new Error('update returned no row');
    return { run: moved, step: completed };
  });
}

export async function submitToolOutputs(
  deps: AppDeps,
  run: RunRow,
  outputs: ToolOutputInput[],
): Promise<SubmittedOutputs> {
  if (run.status !== 'requires_action') throw notAcceptingOutputs(run.status);
  const pending = run.requiredAction?.submit_tool_outputs.tool_calls.map((call) => call.id) ?? [];
  checkOutputsMatch(pending, outputs);
  const accepted = await acceptOutputs(deps, run, outputs);
  if (!accepted) throw notAcceptingOutputs((await findRun(deps.db, run.id))?.status ?? run.status);
  const firstSeq = await announceAndEnqueue(
    deps,
    accepted.run,
    [
      { event: 'thread.run.step.completed', data: toRunStepObject(accepted.step) },
      { event: 'thread.run.queued', data: toRunObject(accepted.run) },
    ],
    { name: 'run.resume', data: { runId: run.id, stepId: accepted.step.id } },
  );
  return { run: accepted.run, firstSeq };
}
