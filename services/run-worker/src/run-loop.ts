// The run loop: claim the run, call the model, emit and persist what it says, and move the run to its next state.
import {
  type AppendOptions,
  assertNever,
  type Config,
  type Db,
  type EventBus,
  endRunEarly,
  enqueueRun,
  findRun,
  isBuiltinToolType,
  type LastError,
  type Logger,
  type MessageRow,
  type NewRunEvent,
  newId,
  type Queues,
  type RunRow,
  type RunStepRow,
  type StepToolCall,
  terminalPatch,
  toMessageObject,
  toRunObject,
  toRunStepObject,
  transitionRun,
  type Usage,
} from '@threadwork/shared';
import type { CancelSignals } from './cancel-watch.js';
import { type ClaimedRun, claimRun } from './claim-writes.js';
import { DeltaStream } from './delta-stream.js';
import {
  closedRows,
  discardAnswer,
  type MessageClosing,
  type OpenedMessage,
  openMessage,
  openMessageAfterToolStep,
} from './message-writes.js';
import { buildModelRequest, exceedsPromptLimit, toModelMessages } from './model-input.js';
import type { ProviderRegistry } from './providers/index.js';
import { type FinishReason, type ModelEvent, type ModelToolCall, ProviderError } from './providers/types.js';
import { addUsage, completeToolStep, saveMessageText } from './run-store.js';
import { dispatchBuiltinTools } from './tool-dispatch.js';
import { endRunAfterTurn, openToolTurn, type UsageRecord } from './turn-writes.js';

export interface RunLoopDeps {
  db: Db;
  events: EventBus;
  queues: Queues;
  cancels: CancelSignals;
  providers: ProviderRegistry;
  config: Config;
  log: Logger;
  estimateCostUsd: (model: string, promptTokens: number, completionTokens: number) => number;
  now?: () => Date;
}

export const clock = (deps: RunLoopDeps) => deps.now?.() ?? new Date();

export function emit(
  deps: RunLoopDeps,
  run: RunRow,
  events: NewRunEvent[],
  options?: AppendOptions,
): Promise<number> {
  return deps.events.append(run.id, run.threadId, events, options);
}

/** A tool step as first announced: the SDK builds its calls from the deltas, so the snapshot starts empty. */
function emptyToolStep(step: RunStepRow) {
  return { ...toRunStepObject(step), step_details: { type: 'tool_calls' as const, tool_calls: [] } };
}

/** How a job reached this worker: a redelivery means an earlier worker took it and stopped (crashed or stalled). */
export interface Delivery {
  isRedelivery: boolean;
}

/** `run.execute` (a queued run starts) and `run.resume` (tool outputs were submitted; the run was queued again). */
export async function executeRun(deps: RunLoopDeps, runId: string, delivery: Delivery): Promise<void> {
  const claimed = await claim(deps, runId, delivery);
  if (!claimed) return;
  const { run, history, toolSteps, opened, announcing } = claimed;
  await driveModel(deps, run, { history, toolSteps, opened, announcing });
}

const WORKER_LOST: LastError = {
  code: 'server_error',
  message: 'The worker running this run stopped before it finished.',
};

/**
 * A run left in_progress by a worker that died would wait forever: BullMQ hands its job to another worker, which
 * finds the run still in_progress and fails it (the model call cannot be resumed half-way).
 */
export async function failAbandonedRun(deps: RunLoopDeps, runId: string, delivery: Delivery): Promise<void> {
  if (!delivery.isRedelivery) return;
  const ended = await endRunEarly(deps, runId, { status: 'failed', error: WORKER_LOST }, ['in_progress']);
  if (ended) deps.log.warn({ runId }, 'run abandoned by a stopped worker: failed');
}

/**
 * The claimed run (with its answer opened, when it has no tools), and its in_progress event on its way: the model
 * is called meanwhile, and the run's later events follow it on the same connection. A failed append is handled
 * where `announcing` is awaited.
 */
async function claim(
  deps: RunLoopDeps,
  runId: string,
  delivery: Delivery,
): Promise<(ClaimedRun & { announcing: Promise<unknown> }) | null> {
  const claimed = await claimRun(deps.db, runId, clock(deps));
  if (!claimed) {
    if (!(await endIfCancelling(deps, runId))) await failAbandonedRun(deps, runId, delivery);
    return null;
  }
  const announcing = emit(deps, claimed.run, [
    { event: 'thread.run.in_progress', data: toRunObject(claimed.run) },
  ]);
  announcing.catch(() => undefined);
  return { ...claimed, announcing };
}

async function endIfCancelling(deps: RunLoopDeps, runId: string): Promise<boolean> {
  const run = await findRun(deps.db, runId);
  if (run?.status !== 'cancelling') return false;
  await endRunEarly(deps, runId, { status: 'cancelled' }, ['cancelling']);
  return true;
}

/** What a turn starts from. */
export interface TurnInput {
  /** The thread's messages, oldest first. */
  history: MessageRow[];
  /** The run's tool steps, oldest first. */
  toolSteps: RunStepRow[];
  /** A tool step whose outputs came back, as completed: stored with the turn's first write. */
  completing?: RunStepRow;
  /** The answer message, when the claim opened it: announced with its first text, dropped if none comes. */
  opened?: OpenedMessage | null;
  /** Events of the run appended before the turn and still on their way (awaited before the turn ends). */
  announcing?: Promise<unknown>;
}

/** The tool step a turn was to complete is no longer open: another delivery or another actor has the run. */
class ToolStepClosed extends Error {}

interface TurnResult {
  /** The tool step still to be stored as completed, until a write of the turn has stored it. */
  completing: RunStepRow | null;
  text: string;
  opened: OpenedMessage | null;
  calls: ModelToolCall[];
  usage: Usage;
  /** `prompt_limit`: the model was not called, the prompt is over max_prompt_tokens even when cut. */
  finish: FinishReason | 'prompt_limit';
  latencyMs: number;
  firstTokenMs: number | null;
  /**
   * The turn's appends still on their way. Later events go out on the same connection, so they follow these
   * without waiting for them; the turn awaits them once its last events are sent.
   */
  appending: Promise<unknown>;
}

function emptyTurn(completing: RunStepRow | null, opened: OpenedMessage | null): TurnResult {
  return {
    completing,
    text: '',
    opened,
    calls: [],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    finish: 'stop',
    latencyMs: 0,
    firstTokenMs: null,
    appending: Promise.resolve(),
  };
}

/** How a turn that made no tool calls ends the run. */
function turnOutcome(finish: TurnResult['finish']) {
  switch (finish) {
    case 'length':
      return { status: 'incomplete', reason: { reason: 'max_completion_tokens' } } as const;
    case 'prompt_limit':
      return { status: 'incomplete', reason: { reason: 'max_prompt_tokens' } } as const;
    default:
      return { status: 'completed', reason: null } as const;
  }
}

/** One model call and everything that follows from its answer. */
export async function driveModel(deps: RunLoopDeps, run: RunRow, input: TurnInput): Promise<void> {
  const log = deps.log.child({ runId: run.id, threadId: run.threadId });
  const watch = deps.cancels.watch(run.id);
  const turn = emptyTurn(input.completing ?? null, input.opened ?? null);
  try {
    await callModel(deps, run, input, watch.signal, turn);
    await finishTurn(deps, run, turn);
  } catch (error) {
    if (error instanceof ToolStepClosed) return;
    await dropUnannouncedAnswer(deps, turn);
    // What was streamed stays on the message, which the ending marks incomplete.
    if (turn.opened) await saveMessageText(deps.db, turn.opened.message.id, turn.text);
    // The tool outputs are kept whatever became of the turn.
    if (!(await completeToolStepAlone(deps, run, turn))) return;
    if (watch.signal.aborted) {
      await endRunEarly(deps, run.id, { status: 'cancelled' }, ['cancelling', 'in_progress']);
      return;
    }
    if (await endIfCancelling(deps, run.id)) return;
    const lastError: LastError =
      error instanceof ProviderError
        ? { code: error.code, message: error.message }
        : { code: 'server_error', message: 'The run failed because of an internal error.' };
    log.error({ err: error }, 'run failed');
    await endRunEarly(deps, run.id, { status: 'failed', error: lastError });
  } finally {
    watch.stop();
  }
  // A lost event fails the job (and is logged) once the run's state is settled.
  await turn.appending;
}

/** Calls the model and fills `result` as the answer streams in (so a failure leaves what had arrived). */
async function callModel(
  deps: RunLoopDeps,
  run: RunRow,
  input: TurnInput,
  signal: AbortSignal,
  result: TurnResult,
): Promise<void> {
  const { provider, model } = deps.providers.resolve(run.model);
  const { promptTokens, ...request } = buildModelRequest(
    run,
    toModelMessages(input.history, input.toolSteps),
    model,
    deps.config.MODEL_CONTEXT_TOKENS,
  );
  if (exceedsPromptLimit(run, { promptTokens })) {
    result.finish = 'prompt_limit';
    return;
  }
  const started = performance.now();
  const announced = input.announcing ?? Promise.resolve();
  await readAnswer(deps, run, provider.stream(request, signal), { result, started, announced });
  result.latencyMs = performance.now() - started;
}

/**
 * Reads the model's events into `result`, streaming the text to the run's clients as it comes; `announced` is the
 * turn's earlier append, still on its way.
 */
async function readAnswer(
  deps: RunLoopDeps,
  run: RunRow,
  events: AsyncIterable<ModelEvent>,
  { result, started, announced }: { result: TurnResult; started: number; announced: Promise<unknown> },
): Promise<void> {
  result.appending = announced;
  let deltas: DeltaStream | null = null;
  try {
    for await (const event of events) {
      if (event.type !== 'text') {
        takeTurnEvent(run, result, event, started);
        continue;
      }
      if (event.delta.length === 0) continue;
      if (!deltas) {
        result.firstTokenMs = performance.now() - started;
        deltas = await answerStream(deps, run, result);
      }
      result.text += event.delta;
      deltas.push(event.delta);
    }
  } finally {
    // What text waits goes now, before any later event of the run (the model may have failed half-way).
    if (deltas) {
      result.appending = Promise.all([announced, deltas.flush()]);
      result.appending.catch(() => undefined);
    }
  }
}

/** What a turn's events other than text say: its tool calls, its usage and why it stopped. */
function takeTurnEvent(
  run: RunRow,
  result: TurnResult,
  event: Exclude<ModelEvent, { type: 'text' }>,
  started: number,
): void {
  switch (event.type) {
    case 'tool_call':
      result.firstTokenMs ??= performance.now() - started;
      // parallel_tool_calls: false allows one call per turn, whatever the model sent.
      if (run.parallelToolCalls || result.calls.length === 0) result.calls.push(event.call);
      break;
    case 'usage':
      result.usage = {
        prompt_tokens: event.promptTokens,
        completion_tokens: event.completionTokens,
        total_tokens: event.promptTokens + event.completionTokens,
      };
      break;
    case 'finish':
      result.finish = event.reason;
      break;
    default:
      assertNever(event);
  }
}

/**
 * The stream of the answer's text, from its first: the answer is opened (unless the claim did) and announced with
 * that text, in one append.
 */
async function answerStream(deps: RunLoopDeps, run: RunRow, turn: TurnResult): Promise<DeltaStream> {
  const completing = turn.completing;
  turn.opened ??= await openAnswer(deps, run, turn);
  let opening = answerOpenedEvents(turn.opened, completing);
  const messageId = turn.opened.message.id;
  return new DeltaStream((text) => {
    // The first text goes at once: the client is waiting for it.
    const atOnce = opening.length > 0;
    const events = [...opening, { event: 'thread.message.delta', data: textDelta(messageId, text) }];
    opening = [];
    return emit(deps, run, events, { atOnce });
  }, deps.config.COALESCE_DELTAS);
}

/** Opens the answer message, completing the turn's tool step in the same statement when there is one. */
async function openAnswer(deps: RunLoopDeps, run: RunRow, turn: TurnResult): Promise<OpenedMessage> {
  const toolStep = turn.completing;
  if (!toolStep) return openMessage(deps.db, run, clock(deps));
  const opened = await openMessageAfterToolStep(deps.db, run, clock(deps), toolStep);
  if (!opened) throw new ToolStepClosed(`tool step ${toolStep.id} is no longer open`);
  turn.completing = null;
  return opened;
}

/**
 * Stores the turn's tool step as completed on its own, when no write of the turn took it along (the turn wrote no
 * message, or failed first), and announces it. False when the step was no longer open.
 */
async function completeToolStepAlone(deps: RunLoopDeps, run: RunRow, turn: TurnResult): Promise<boolean> {
  const toolStep = turn.completing;
  if (!toolStep) return true;
  if (!(await completeToolStep(deps.db, toolStep))) return false;
  turn.completing = null;
  await emit(deps, run, [stepCompleted(toolStep)]);
  return true;
}

function stepCompleted(step: RunStepRow): NewRunEvent {
  return { event: 'thread.run.step.completed', data: toRunStepObject(step) };
}

/** The events of an opened answer, after the tool step its statement completed (when it did). */
function answerOpenedEvents(opened: OpenedMessage, completedToolStep: RunStepRow | null): NewRunEvent[] {
  const step = toRunStepObject(opened.step);
  const message = toMessageObject(opened.message);
  return [
    ...(completedToolStep ? [stepCompleted(completedToolStep)] : []),
    { event: 'thread.run.step.created', data: step },
    { event: 'thread.run.step.in_progress', data: step },
    { event: 'thread.message.created', data: message },
    { event: 'thread.message.in_progress', data: message },
  ];
}

function textDelta(messageId: string, value: string) {
  return {
    id: messageId,
    object: 'thread.message.delta',
    delta: { content: [{ index: 0, type: 'text', text: { value, annotations: [] } }] },
  };
}

/**
 * An answer is announced with its first text: one the claim opened that no text reached was never seen, and goes
 * (the model answered nothing, or failed first), as if it had not been opened.
 */
async function dropUnannouncedAnswer(deps: RunLoopDeps, turn: TurnResult): Promise<void> {
  if (!turn.opened || turn.text.length > 0) return;
  await discardAnswer(deps.db, turn.opened);
  turn.opened = null;
}

async function finishTurn(deps: RunLoopDeps, run: RunRow, turn: TurnResult): Promise<void> {
  await dropUnannouncedAnswer(deps, turn);
  if (!(await completeToolStepAlone(deps, run, turn))) return;
  const now = clock(deps);
  const usage = addUsage(run.usage, turn.usage);
  const ending = turnOutcome(turn.finish);
  if (turn.calls.length > 0 && ending.status === 'completed') {
    await openToolCalls(deps, { ...run, usage }, turn, now);
    return;
  }
  const closing = closingOf(turn, ending.status, turn.usage, now);
  const ended = await endRunAfterTurn(deps.db, {
    run,
    status: ending.status,
    patch: { ...terminalPatch(ending.status, now), usage, incompleteDetails: ending.reason },
    usageLog: turn.finish === 'prompt_limit' ? null : turnUsageLog(deps, run, turn),
    closing,
    now,
  });
  if (!ended) throw new Error('run was moved by another actor');
  await emit(
    deps,
    run,
    [...closedEvents(closing), { event: `thread.run.${ending.status}`, data: toRunObject(ended) }],
    { atOnce: true },
  );
}

function closingOf(
  turn: TurnResult,
  outcome: MessageClosing['outcome'],
  stepUsage: Usage | null,
  now: Date,
): MessageClosing | null {
  return turn.opened && { opened: turn.opened, text: turn.text, outcome, stepUsage, now };
}

function closedEvents(closing: MessageClosing | null): NewRunEvent[] {
  if (!closing) return [];
  const closed = closedRows(closing);
  return [
    { event: `thread.message.${closing.outcome}`, data: toMessageObject(closed.message) },
    stepCompleted(closed.step),
  ];
}

function turnUsageLog(deps: RunLoopDeps, run: RunRow, turn: TurnResult): UsageRecord {
  return {
    run,
    model: run.model,
    usage: turn.usage,
    costUsd: deps.estimateCostUsd(run.model, turn.usage.prompt_tokens, turn.usage.completion_tokens),
    latencyMs: turn.latencyMs,
    firstTokenMs: turn.firstTokenMs,
  };
}

async function openToolCalls(deps: RunLoopDeps, run: RunRow, turn: TurnResult, now: Date): Promise<void> {
  const calls: StepToolCall[] = turn.calls.map((call) => ({
    id: newId('call'),
    type: 'function',
    function: { name: call.name, arguments: call.arguments, output: null },
  }));
  const closing = closingOf(turn, 'completed', null, now);
  const step = await openToolTurn(deps.db, { run, calls, usageLog: turnUsageLog(deps, run, turn), closing });
  const announced = emptyToolStep(step);
  await emit(deps, run, [
    ...closedEvents(closing),
    { event: 'thread.run.step.created', data: announced },
    { event: 'thread.run.step.in_progress', data: announced },
    ...calls.map((call, index) => ({
      event: 'thread.run.step.delta',
      data: {
        id: step.id,
        object: 'thread.run.step.delta',
        delta: { step_details: { type: 'tool_calls', tool_calls: [{ index, ...call }] } },
      },
    })),
  ]);
  const builtins = calls.filter((call) => isBuiltin(run, call.function.name));
  if (builtins.length > 0) {
    await dispatchBuiltinTools(
      deps.queues,
      run.id,
      step.id,
      builtins.map((call) => call.id),
    );
    return;
  }
  await requireAction(deps, run, step, calls, now);
}

export function isBuiltin(run: Pick<RunRow, 'tools'>, name: string): boolean {
  return isBuiltinToolType(name) && run.tools.some((tool) => tool.type === name);
}

/** Client function calls remain: the run waits for submit_tool_outputs until it expires. */
export async function requireAction(
  deps: RunLoopDeps,
  run: RunRow,
  step: RunStepRow,
  calls: StepToolCall[],
  now: Date,
): Promise<void> {
  const pending = calls.filter((call) => call.function.output === null);
  // The run's usage is already stored: by the tool turn's statement, or before the run was read (tool results).
  const moved = await transitionRun(deps.db, run.id, 'requires_action', {
    requiredAction: {
      type: 'submit_tool_outputs',
      submit_tool_outputs: {
        tool_calls: pending.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.function.name, arguments: call.function.arguments },
        })),
      },
    },
  });
  if (!moved) {
    if (!(await endIfCancelling(deps, run.id)))
      deps.log.warn({ runId: run.id }, 'run moved before requires_action');
    return;
  }
  await emit(deps, moved, [{ event: 'thread.run.requires_action', data: toRunObject(moved) }]);
  const delay = (moved.expiresAt?.getTime() ?? now.getTime()) - now.getTime();
  await enqueueRun(
    deps.queues,
    { name: 'run.expire', data: { runId: run.id, stepId: step.id } },
    { delay: Math.max(0, delay) },
  );
}

/** `run.expire`: a run still waiting for tool outputs past expires_at becomes expired. */
export async function expireRun(deps: RunLoopDeps, runId: string): Promise<void> {
  await endRunEarly(deps, runId, { status: 'expired' }, ['requires_action']);
}
