// The run worker's jobs: take a run, drive one model turn, persist what it came to, then publish it.
import {
  addUsage,
  type CodeOutputs,
  type Config,
  claimRun,
  closedAnswer,
  codeOutputsOfRun,
  completeToolCalls,
  type Db,
  type EndedRun,
  type EventBus,
  endRun,
  endRunEarly,
  endRunUncalled,
  enqueueRun,
  findRun,
  findToolResults,
  type IncompleteDetails,
  isBuiltinCall,
  isHeldAt,
  loadTurnContext,
  type Metrics,
  type NewRunEvent,
  productCardsOf,
  type Queues,
  type RunRow,
  type RunStepRow,
  recordSandboxExecutions,
  recordToolCalls,
  releaseLease,
  releaseNextRun,
  requireAction,
  runStatusEvent,
  runStepStatusEvent,
  type SandboxJobResult,
  STEP_EVENT_VIEW,
  type StepToolCall,
  saveAnswerText,
  saveToolOutputs,
  type TurnContext,
  takeRun,
  toRunObject,
  toRunStepObject,
  type UsageRecord,
  unfinishedToolStep,
  withToolSteps,
} from '@threadwork/shared';
import { filesForCode } from './code-files.js';
import { saveCodeOutputs, withCodeOutputs } from './code-output-files.js';
import { codeOutputEvents, sandboxExecutions } from './code-outputs.js';
import { HeldRun, type HoldDeps, newLease } from './held-run.js';
import { type RecoveryDeps, recoverAbandonedRun } from './recovery.js';
import {
  answerCitations,
  closedAnswerEvents,
  type StreamedAnswer,
  type TurnDeps,
  type TurnOutcome,
  takeTurn,
} from './run-turn.js';
import { dispatchBuiltinTools } from './tool-dispatch.js';
import { withoutUnservedCodeCalls } from './unserved-code-calls.js';

export interface RunWorkerDeps extends Omit<TurnDeps, 'config'>, Omit<HoldDeps, 'config'>, RecoveryDeps {
  db: Db;
  events: EventBus;
  queues: Queues;
  metrics: Metrics;
  config: Config;
}

const clock = (deps: Pick<RunWorkerDeps, 'now'>) => deps.now?.() ?? new Date();

/**
 * `run.execute` (a queued run starts) and `run.resume` (tool outputs were submitted; the run was queued again), by
 * the job `jobId`.
 */
export async function executeRun(deps: RunWorkerDeps, runId: string, jobId: string): Promise<void> {
  const claimed = await claimRun(deps.db, runId, jobId, newLease(deps), clock(deps));
  if (!claimed) return settleUnclaimed(deps, runId, await findRun(deps.db, runId));
  const { run, history } = claimed;
  await holding(deps, run, async (held) => {
    const announcing = announce(held, [runStatusEvent(toRunObject(run))]);
    await driveTurn(deps, held, announcing, await withToolSteps(deps.db, run, history));
  });
}

const MISSING_OUTPUT = 'Error: the tool did not return a result.';

/**
 * A continuation that found its run still held: the worker that dispatched the calls lets go of the run just after
 * dispatching them, and quick calls can finish first. The continuation tries again; should that worker stop, its
 * lease runs out at `heldUntil`.
 */
export interface StillHeld {
  heldUntil: Date;
}

/** `run.continue`: the built-in tool calls of a step have finished; their recorded outcomes go to the model. */
export async function continueRun(
  deps: RunWorkerDeps,
  runId: string,
  stepId: string,
  sandboxResults: SandboxJobResult[] = [],
): Promise<StillHeld | null> {
  const run = await takeRun(deps.db, runId, newLease(deps), clock(deps));
  if (run) {
    await holding(deps, run, (held) => continueHeldRun(deps, held, stepId, sandboxResults));
    return null;
  }
  const current = await findRun(deps.db, runId);
  if (current?.leaseExpiresAt && isHeldAt(current, clock(deps)) && isUnderWay(current)) {
    return { heldUntil: current.leaseExpiresAt };
  }
  await settleUnclaimed(deps, runId, current);
  return null;
}

const isUnderWay = (run: RunRow) => run.status === 'in_progress' || run.status === 'cancelling';

/** Holds a run this worker has just claimed or taken while `work` drives it, and lets go after. */
async function holding(
  deps: RunWorkerDeps,
  run: RunRow,
  work: (held: HeldRun) => Promise<void>,
): Promise<void> {
  const held = new HeldRun(deps, run);
  try {
    await work(held);
  } finally {
    held.release();
  }
}

/** Appends events while the turn goes on; a lost append fails the job once the run's state is settled. */
function announce(held: HeldRun, events: NewRunEvent[]): Promise<void> {
  const announcing = held.writer.append(events);
  announcing.catch(() => undefined);
  return announcing;
}

async function continueHeldRun(
  deps: RunWorkerDeps,
  held: HeldRun,
  stepId: string,
  sandboxResults: SandboxJobResult[],
): Promise<void> {
  const { run } = held;
  const context = await loadTurnContext(deps.db, run);
  const step = context.toolSteps.find((row) => row.id === stepId);
  if (step?.status !== 'in_progress' || step.stepDetails.type !== 'tool_calls') {
    deps.log.info({ runId: run.id, stepId }, 'continuation for a step that is no longer open: nothing to do');
    // The run's job stays what it was: the job of the step that is open now, if there is one.
    await releaseLease(deps.db, run.id, newLease(deps).owner, run.jobId);
    return;
  }
  const executions = sandboxExecutions(step.stepDetails.tool_calls, sandboxResults);
  const recorded = await recordSandboxExecutions(deps.db, run, executions, clock(deps));
  // What the code made is kept once, by the continuation that recorded its call.
  const made = await saveCodeOutputs(
    { db: deps.db, log: deps.log, maxBytes: deps.config.FILE_MAX_BYTES },
    run,
    sandboxResults.filter((result) => recorded.includes(result.callId)),
  );
  const calls = withCodeOutputs(await withToolResults(deps, run, step.stepDetails.tool_calls), made);
  const products = productCardsOf(calls);
  const announced: NewRunEvent[] =
    products.length > 0 ? [{ event: 'threadwork.products', data: { step_id: step.id, products } }] : [];
  if (calls.some((call) => call.function.output === null)) {
    await saveToolOutputs(deps.db, step.id, calls);
    await held.writer.append(announced);
    await waitForClientOutputs(deps, held, step, calls);
    return;
  }
  const completed = await completeToolCalls(deps.db, step.id, calls, clock(deps));
  if (!completed) return;
  const announcing = announce(held, [
    ...announced,
    ...codeOutputEvents(step.id, calls),
    runStepStatusEvent(toRunStepObject(completed, STEP_EVENT_VIEW)),
  ]);
  await driveTurn(deps, held, announcing, {
    ...context,
    toolSteps: context.toolSteps.map((row) => (row.id === completed.id ? completed : row)),
  });
}

/** The step's built-in calls with the outputs their executions recorded; a missing one is an error the model reads. */
async function withToolResults(
  deps: RunWorkerDeps,
  run: RunRow,
  calls: StepToolCall[],
): Promise<StepToolCall[]> {
  const pending = calls.filter(
    (call) => isBuiltinCall(run, call.function.name) && call.function.output === null,
  );
  const results = await findToolResults(
    deps.db,
    pending.map((call) => call.id),
  );
  return calls.map((call) => {
    if (!pending.includes(call)) return call;
    const result = results.get(call.id);
    if (!result?.output)
      deps.log.error({ runId: run.id, callId: call.id }, 'tool call has no recorded result');
    return { ...call, function: { ...call.function, output: result?.output ?? MISSING_OUTPUT } };
  });
}

/** `run.expire`: a run still waiting for tool outputs past expires_at becomes expired. */
export async function expireRun(deps: RunWorkerDeps, runId: string): Promise<void> {
  await endRunEarly(deps, runId, { status: 'expired' }, ['requires_action']);
}

/**
 * A job whose run it could not take: a run missing or settled is logged once and left; a cancelling run nobody
 * holds is cancelled; an in_progress run whose worker stopped is recovered.
 */
async function settleUnclaimed(deps: RunWorkerDeps, runId: string, run: RunRow | null): Promise<void> {
  if (!run) {
    deps.log.info({ runId }, 'job for a run that does not exist: nothing to do');
    return;
  }
  const isHeld = isHeldAt(run, clock(deps));
  if (run.status === 'cancelling' && !isHeld) {
    await endRunEarly(deps, runId, { status: 'cancelled' }, ['cancelling']);
    return;
  }
  if (run.status === 'in_progress' && !isHeld && run.leaseOwner !== null) {
    await recoverAbandonedRun(deps, run);
    return;
  }
  deps.log.info({ runId, status: run.status }, 'job for a run another actor has: nothing to do');
}

/** Drives one turn of a held run from `context`: call the model, persist the outcome, publish it. */
async function driveTurn(
  deps: RunWorkerDeps,
  held: HeldRun,
  announcing: Promise<void>,
  context: TurnContext,
): Promise<void> {
  const outcome = await takeTurn(deps, held, context);
  await settleTurn(deps, held, outcome, codeOutputsOfRun(context.toolSteps));
  await announcing;
}

/** Persists a turn's outcome, then publishes it; `made` is what the run's code made, shown in its answer. */
async function settleTurn(
  deps: RunWorkerDeps,
  held: HeldRun,
  outcome: TurnOutcome,
  made: CodeOutputs,
): Promise<void> {
  recordModelMetrics(deps, held.run, outcome);
  switch (outcome.kind) {
    case 'answered':
      return endAfterAnswer(deps, held, { ...outcome, made });
    case 'prompt_too_long':
      return endUncalled(deps, held);
    case 'tool_calls':
      return openToolCalls(deps, held, outcome);
    case 'stopped':
      if (outcome.reason === 'lease_lost') return;
      return endEarly(deps, held, outcome.answer, { status: 'cancelled' });
    case 'failed':
      deps.log.error({ err: outcome.cause, runId: held.run.id }, 'run failed');
      return endEarly(deps, held, outcome.answer, { status: 'failed', error: outcome.error });
  }
}

function recordModelMetrics(deps: RunWorkerDeps, run: RunRow, outcome: TurnOutcome): void {
  if (outcome.kind !== 'answered' && outcome.kind !== 'tool_calls') return;
  const { usage, costUsd, firstTokenMs } = outcome.usage;
  const model = run.model;
  deps.metrics.tokens.inc({ model, kind: 'prompt' }, usage.prompt_tokens);
  deps.metrics.tokens.inc({ model, kind: 'completion' }, usage.completion_tokens);
  deps.metrics.costUsd.inc({ model }, costUsd);
  if (firstTokenMs !== null) deps.metrics.firstToken.observe({ model }, firstTokenMs / 1000);
}

function closeStreamed(
  streamed: StreamedAnswer | null,
  status: 'completed' | 'incomplete',
  usage: RunRow['usage'],
  now: Date,
  made?: CodeOutputs,
) {
  return (
    streamed &&
    closedAnswer(
      {
        answer: streamed.answer,
        text: streamed.text,
        status,
        usage,
        made,
        citations: answerCitations(streamed),
      },
      now,
    )
  );
}

/** How a turn without tool calls ends its run; `usage` is null when the model was not called. */
interface FinalTurn {
  status: 'completed' | 'incomplete';
  incompleteDetails: IncompleteDetails | null;
  answer: StreamedAnswer | null;
  /** The answer's last deltas on their way: the ending is published after them. */
  delivered: Promise<void>;
  toolStep: RunStepRow | null;
  usage: UsageRecord;
  /** What the run's code made, shown in its answer. */
  made?: CodeOutputs;
}

async function endAfterAnswer(deps: RunWorkerDeps, held: HeldRun, outcome: FinalTurn): Promise<void> {
  const now = clock(deps);
  const turnUsage = outcome.usage.usage;
  const answer = closeStreamed(outcome.answer, outcome.status, turnUsage, now, outcome.made);
  const toolStep = outcome.toolStep && unfinishedToolStep(outcome.toolStep, now);
  const closing = [
    ...closedAnswerEvents(answer),
    ...(toolStep ? [runStepStatusEvent(toRunStepObject(toolStep))] : []),
  ];
  const ended = await endRun(deps.db, held.run, {
    status: outcome.status,
    incompleteDetails: outcome.incompleteDetails,
    usage: addUsage(held.run.usage, turnUsage),
    usageLog: outcome.usage,
    answer,
    toolStep,
    eventSeq: held.writer.seqAfter([...closing, 'run']),
    now,
  });
  await outcome.delivered;
  await announceEnding(deps, held, ended, closing);
}

/** A run whose prompt is too long for its model ends incomplete without calling it. */
async function endUncalled(deps: RunWorkerDeps, held: HeldRun): Promise<void> {
  const ended = await endRunUncalled(deps.db, held.run, {
    incompleteDetails: { reason: 'max_prompt_tokens' },
    usage: addUsage(held.run.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }),
    eventSeq: held.writer.seqAfter(['run']),
    now: clock(deps),
  });
  await announceEnding(deps, held, ended, []);
}

/** Publishes a stored ending (what it closed, then the run), and moves on the run waiting behind it, if one does. */
async function announceEnding(
  deps: RunWorkerDeps,
  held: HeldRun,
  ended: EndedRun | null,
  closing: NewRunEvent[],
): Promise<void> {
  if (!ended) {
    deps.log.info({ runId: held.run.id }, 'run was settled by another actor before its turn ended');
    return;
  }
  const { run } = ended;
  deps.metrics.runsFinished.inc({ status: run.status });
  await held.writer.append([...closing, runStatusEvent(toRunObject(run))]);
  if (ended.threadHasWaitingRuns) await releaseNextRun(deps, run.threadId);
}

async function openToolCalls(
  deps: RunWorkerDeps,
  held: HeldRun,
  outcome: Extract<TurnOutcome, { kind: 'tool_calls' }>,
): Promise<void> {
  const { calls } = outcome;
  // The step and its calls were announced as they streamed.
  const step = await recordToolCalls(deps.db, held.run, {
    step: outcome.step,
    calls,
    usage: outcome.usage,
    eventSeq: held.writer.lastSeq,
  });
  if (!step) {
    deps.log.info({ runId: held.run.id }, 'run was settled by another actor before its tool calls');
    return;
  }
  const builtins = calls.filter((call) => isBuiltinCall(held.run, call.function.name));
  if (builtins.length === 0) {
    await waitForClientOutputs(deps, held, step, calls);
    return;
  }
  const served = await withoutUnservedCodeCalls(deps, held.run, builtins, clock(deps));
  const continuation = await dispatchBuiltinTools(deps.queues, {
    run: held.run,
    stepId: step.id,
    calls: served,
    queuePrefix: deps.config.QUEUE_PREFIX,
    files: await filesForCode(deps.db, held.run, served),
  });
  await releaseLease(deps.db, held.run.id, newLease(deps).owner, continuation);
}

/** Client function calls remain: the run waits for submit_tool_outputs until it expires. */
async function waitForClientOutputs(
  deps: RunWorkerDeps,
  held: HeldRun,
  step: RunStepRow,
  calls: StepToolCall[],
): Promise<void> {
  const pending = calls.filter((call) => call.function.output === null);
  const moved = await requireAction(deps.db, held.run.id, pending, held.writer.seqAfter(['requires_action']));
  if (!moved) {
    deps.log.info({ runId: held.run.id }, 'run was settled by another actor before requires_action');
    return;
  }
  deps.metrics.runsFinished.inc({ status: 'requires_action' });
  await held.writer.append([runStatusEvent(toRunObject(moved))]);
  const delay = (moved.expiresAt?.getTime() ?? 0) - clock(deps).getTime();
  await enqueueRun(
    deps.queues,
    { name: 'run.expire', data: { runId: moved.id, stepId: step.id } },
    { delay: Math.max(0, delay) },
  );
}

/** A cancelled or failed turn: the text its clients received stays on the answer, which the ending closes. */
async function endEarly(
  deps: RunWorkerDeps,
  held: HeldRun,
  streamed: StreamedAnswer | null,
  ending: Parameters<typeof endRunEarly>[2],
): Promise<void> {
  if (streamed) await saveAnswerText(deps.db, streamed.answer.message.id, streamed.text);
  const from = ending.status === 'cancelled' ? (['cancelling', 'in_progress'] as const) : undefined;
  await endRunEarly(deps, held.run.id, ending, from);
}
