// One model turn of a held run: call the model, stream its text to the run's clients as it comes, and answer what
// happened as a value. The caller persists the outcome, then publishes it.
import {
  type Answer,
  type Config,
  citationSources,
  closedAnswer,
  codeInterpreterInput,
  type Db,
  FILE_SEARCH_TOOL,
  type FileCitationAnnotation,
  fileCitations,
  type IncompleteDetails,
  isBuiltinCall,
  isCodeInterpreterCall,
  type LastError,
  type Logger,
  messageTextDelta,
  type NewRunEvent,
  newAnswer,
  newId,
  newToolStep,
  openAnswer,
  openToolStep,
  type RunStepDeltaObject,
  type RunStepRow,
  runStepStatusEvent,
  type StepToolCall,
  type TurnContext,
  toMessageObject,
  toRunStepObject,
  type Usage,
  type UsageRecord,
} from '@threadwork/shared';
import { DeltaStream } from './delta-stream.js';
import type { AbortReason, HeldRun } from './held-run.js';
import { buildModelRequest, exceedsPromptLimit, toModelMessages } from './model-input.js';
import type { ProviderRegistry } from './providers/index.js';
import type { CacheTokens } from './providers/pricing.js';
import { isModelOutput, type ModelEvent, type ModelToolCall, ProviderError } from './providers/types.js';

export interface TurnDeps {
  db: Db;
  providers: ProviderRegistry;
  config: Pick<Config, 'MODEL_CONTEXT_TOKENS' | 'COALESCE_DELTAS'>;
  log: Logger;
  estimateCostUsd: (
    model: string,
    promptTokens: number,
    completionTokens: number,
    cache?: CacheTokens,
  ) => number;
  now?: () => Date;
}

/** The answer a turn streamed: its rows as opened, and the text its clients were sent. */
export interface StreamedAnswer {
  answer: Answer;
  text: string;
  /** The run's file_search citation markers and the files they stand for, read before the turn. */
  citationSources: ReadonlyMap<string, string>;
}

/** The file_citation annotations of an answer's text. */
export function answerCitations(streamed: StreamedAnswer): FileCitationAnnotation[] {
  return fileCitations(streamed.text, streamed.citationSources);
}

/** What one turn came to. */
export type TurnOutcome =
  | {
      kind: 'answered';
      status: 'completed' | 'incomplete';
      incompleteDetails: IncompleteDetails | null;
      answer: StreamedAnswer | null;
      /**
       * The answer's last deltas on their way to its clients: the ending is stored meanwhile and published once they
       * are appended (a lost append rejects it).
       */
      delivered: Promise<void>;
      /** A tool step whose calls began but were not finished (the model stopped at its limit). */
      toolStep: RunStepRow | null;
      usage: UsageRecord;
    }
  /**
   * `step` is the tool_calls step the calls streamed into, stored without them (the answer before it was closed
   * when it opened); the calls keep the ids their deltas gave them.
   */
  | { kind: 'tool_calls'; step: RunStepRow; calls: StepToolCall[]; usage: UsageRecord }
  /** The prompt is over max_prompt_tokens even when cut: the model was not called. */
  | { kind: 'prompt_too_long' }
  | { kind: 'stopped'; reason: AbortReason; answer: StreamedAnswer | null }
  | { kind: 'failed'; error: LastError; answer: StreamedAnswer | null; cause: unknown };

const INTERNAL_ERROR: LastError = {
  code: 'server_error',
  message: 'The run failed because of an internal error.',
};

/**
 * The answer's text on its way to the clients: the answer is stored at its first text and announced with it, and
 * the rest follows as deltas (joined while an append is in flight).
 */
class AnswerStream {
  private opened: StreamedAnswer | null = null;
  private deltas: DeltaStream | null = null;

  constructor(
    private readonly deps: TurnDeps,
    private readonly held: HeldRun,
    private readonly citationSources: ReadonlyMap<string, string>,
  ) {}

  get streamed(): StreamedAnswer | null {
    return this.opened;
  }

  async push(text: string): Promise<void> {
    if (!this.opened) await this.open();
    const opened = this.opened as StreamedAnswer;
    opened.text += text;
    this.deltas?.push(text);
  }

  /** Sends what waits; resolves when every delta is appended. */
  async flush(): Promise<void> {
    await this.deltas?.flush();
  }

  /** Ends the answer streamed so far: tool calls follow it. */
  async close(now: Date): Promise<Answer | null> {
    if (!this.opened) return null;
    await this.flush();
    const opened = this.opened;
    this.opened = null;
    this.deltas = null;
    const { answer, text } = opened;
    return closedAnswer(
      { answer, text, status: 'completed', usage: null, citations: answerCitations(opened) },
      now,
    );
  }

  private async open(): Promise<void> {
    const answer = newAnswer(this.held.run, this.deps.now?.() ?? new Date());
    await openAnswer(this.deps.db, answer);
    this.opened = { answer, text: '', citationSources: this.citationSources };
    let announcement = openingEvents(answer);
    const messageId = answer.message.id;
    this.deltas = new DeltaStream((text) => {
      const events = [...announcement, messageTextDelta(messageId, text)];
      announcement = [];
      return this.held.writer.append(events);
    }, this.deps.config.COALESCE_DELTAS);
  }
}

function openingEvents({ message, step }: Answer): NewRunEvent[] {
  const stepObject = toRunStepObject(step);
  const messageObject = toMessageObject(message);
  return [
    { event: 'thread.run.step.created', data: stepObject },
    { event: 'thread.run.step.in_progress', data: stepObject },
    { event: 'thread.message.created', data: messageObject },
    { event: 'thread.message.in_progress', data: messageObject },
  ];
}

/** The events that announce a closed answer: its message and its step in their final status. */
export function closedAnswerEvents(answer: Answer | null): NewRunEvent[] {
  if (!answer) return [];
  const message = toMessageObject(answer.message);
  return [
    answer.message.status === 'completed'
      ? { event: 'thread.message.completed', data: message }
      : { event: 'thread.message.incomplete', data: message },
    runStepStatusEvent(toRunStepObject(answer.step)),
  ];
}

/** A call as its clients were sent it: the id they know it by, and the arguments streamed so far. */
interface StreamedCall {
  index: number;
  callId: string;
  arguments: string;
  /** A code_interpreter call: clients get its code whole once the call is finished, not its JSON arguments. */
  isCode: boolean;
}

type CallKind = 'function' | 'file_search' | 'code_interpreter';

/**
 * As OpenAI's first delta of a call: its id, type and name, the arguments so far and no output yet; a file_search
 * call shows only its id and type, never its arguments; a code_interpreter call its input once it is whole.
 */
function firstCallDelta(
  kind: CallKind,
  call: Pick<StreamedCall, 'index' | 'callId'>,
  name: string,
  args: string,
): ToolCallDelta {
  const { index, callId: id } = call;
  switch (kind) {
    case 'file_search':
      return { index, id, type: 'file_search', file_search: {} };
    case 'code_interpreter':
      return { index, id, type: 'code_interpreter', code_interpreter: { input: '', outputs: [] } };
    case 'function':
      return { index, id, type: 'function', function: { name, arguments: args, output: null } };
  }
}

/**
 * The turn's tool calls on their way to the clients: the tool_calls step is stored at the first call's start and
 * announced with it; each call then goes as step deltas (its id, type and name first, then its arguments in the
 * pieces the model sends), as OpenAI's Assistants API streams them.
 */
class ToolCallStream {
  private step: RunStepRow | null = null;
  /** By the model's index of each call. */
  private readonly streamed = new Map<number, StreamedCall>();
  /** The model's call ids, to the model's index of their call. */
  private readonly modelIndexes = new Map<string, number>();
  /** The model's indexes of the file_search calls, whose arguments are not streamed. */
  private readonly fileSearchIndexes = new Set<number>();
  private readonly unsettled = new Set<Promise<void>>();
  private failure: unknown = null;
  /** By the index the clients know each call by; a call the model did not finish leaves a hole. */
  private readonly calls: StepToolCall[] = [];

  constructor(
    private readonly deps: TurnDeps,
    private readonly held: HeldRun,
    private readonly text: AnswerStream,
    private readonly isParallel: boolean,
  ) {}

  get opened(): RunStepRow | null {
    return this.step;
  }

  /** The calls the model finished, in order. */
  get finished(): StepToolCall[] {
    return this.calls.filter((call) => call !== undefined);
  }

  /** A call begins; `args` are its arguments when it comes whole. */
  async start(index: number, modelId: string, name: string, args = ''): Promise<void> {
    // parallel_tool_calls: false allows one call per turn, whatever the model sent.
    if (this.streamed.has(index) || (!this.isParallel && this.streamed.size > 0)) return;
    const opening = this.step ? [] : await this.open();
    const step = this.step as RunStepRow;
    const isCode = isCodeInterpreterCall(this.held.run, name);
    const call: StreamedCall = { index: this.streamed.size, callId: newId('call'), arguments: args, isCode };
    this.streamed.set(index, call);
    this.modelIndexes.set(modelId, index);
    const isFileSearch = isBuiltinCall(this.held.run, name) && name === FILE_SEARCH_TOOL;
    if (isFileSearch) this.fileSearchIndexes.add(index);
    let kind: CallKind = 'function';
    if (isFileSearch) kind = 'file_search';
    else if (isCode) kind = 'code_interpreter';
    const first = firstCallDelta(kind, call, name, args);
    this.send([...opening, toolCallDelta(step, first)]);
  }

  pushArguments(index: number, delta: string): void {
    const call = this.streamed.get(index);
    if (!this.step || !call || delta.length === 0) return;
    if (this.fileSearchIndexes.has(index)) {
      call.arguments += delta;
      return;
    }
    call.arguments += delta;
    if (call.isCode) return;
    this.send([
      toolCallDelta(this.step, { index: call.index, type: 'function', function: { arguments: delta } }),
    ]);
  }

  /** The whole call: one the model did not stream starts here, and what its deltas lacked follows. */
  async finish(modelCall: ModelToolCall): Promise<void> {
    let index = this.modelIndexes.get(modelCall.id);
    if (index === undefined) {
      index = -1 - this.modelIndexes.size;
      await this.start(index, modelCall.id, modelCall.name, modelCall.arguments);
    }
    const call = this.streamed.get(index);
    if (!call) return;
    if (call.isCode && this.step) {
      const input = codeInterpreterInput(modelCall.arguments);
      this.send([
        toolCallDelta(this.step, {
          index: call.index,
          type: 'code_interpreter',
          code_interpreter: { input },
        }),
      ]);
    } else if (modelCall.arguments.startsWith(call.arguments))
      this.pushArguments(index, modelCall.arguments.slice(call.arguments.length));
    this.calls[call.index] = {
      id: call.callId,
      type: 'function',
      function: { name: modelCall.name, arguments: modelCall.arguments, output: null },
    };
  }

  /** Resolves when every delta is appended; rejects with the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.unsettled);
    if (this.failure) throw this.failure;
  }

  /** Stores the step, closing the answer before it; answers the events that announce both. */
  private async open(): Promise<NewRunEvent[]> {
    const now = this.deps.now?.() ?? new Date();
    const answer = await this.text.close(now);
    const step = newToolStep(this.held.run, now);
    await openToolStep(this.deps.db, step, answer);
    this.step = step;
    return [...closedAnswerEvents(answer), ...openingToolEvents(step)];
  }

  /** Appends without waiting for the append before: appends reach Redis in the order they are made. */
  private send(events: NewRunEvent[]): void {
    const append: Promise<void> = this.held.writer.append(events).then(
      () => void this.unsettled.delete(append),
      (error: unknown) => {
        this.failure ??= error;
        this.unsettled.delete(append);
      },
    );
    this.unsettled.add(append);
  }
}

/** A tool step as first announced: the SDK builds its calls from the deltas, so the snapshot starts empty. */
function openingToolEvents(step: RunStepRow): NewRunEvent[] {
  const announced = toRunStepObject(step);
  return [
    { event: 'thread.run.step.created', data: announced },
    { event: 'thread.run.step.in_progress', data: announced },
  ];
}

type ToolCallDelta = RunStepDeltaObject['delta']['step_details']['tool_calls'][number];

function toolCallDelta(step: RunStepRow, call: ToolCallDelta): NewRunEvent {
  return {
    event: 'thread.run.step.delta',
    data: {
      id: step.id,
      object: 'thread.run.step.delta',
      delta: { step_details: { type: 'tool_calls', tool_calls: [call] } },
    },
  };
}

/** What the model said besides text and tool calls, gathered as it streams. */
interface Gathered {
  usage: Usage;
  cache: CacheTokens;
  /** The model that answered: the run's, or the fallback MODEL_FALLBACKS handed the call to. */
  model: string;
  finish: string;
  firstTokenMs: number | null;
}

/** Takes a model event that is not output its clients see. */
function gather(
  gathered: Gathered,
  event: Extract<ModelEvent, { type: 'usage' | 'finish' | 'failover' }>,
): void {
  switch (event.type) {
    case 'usage':
      gathered.usage = {
        prompt_tokens: event.promptTokens,
        completion_tokens: event.completionTokens,
        total_tokens: event.promptTokens + event.completionTokens,
      };
      gathered.cache = { readTokens: event.cacheReadTokens ?? 0, writeTokens: event.cacheWriteTokens ?? 0 };
      return;
    case 'finish':
      gathered.finish = event.reason;
      return;
    case 'failover':
      gathered.model = event.to;
      return;
  }
}

/** Sends one model event on: text to the answer, tool calls to their step, the rest to what the turn gathers. */
async function streamEvent(
  event: ModelEvent,
  text: AnswerStream,
  tools: ToolCallStream,
  gathered: Gathered,
): Promise<void> {
  switch (event.type) {
    case 'text':
      // Text after the calls began is not streamed: Assistants clients take no message while a tool step is open.
      if (event.delta.length > 0 && !tools.opened) await text.push(event.delta);
      return;
    case 'tool_call_started':
      return tools.start(event.index, event.id, event.name);
    case 'tool_call_arguments':
      return tools.pushArguments(event.index, event.delta);
    case 'tool_call':
      return tools.finish(event.call);
    case 'usage':
    case 'finish':
    case 'failover':
      return gather(gathered, event);
  }
}

/** Calls the model for the held run and streams its answer; never throws for what the model or a cancel does. */
export async function takeTurn(deps: TurnDeps, held: HeldRun, context: TurnContext): Promise<TurnOutcome> {
  const run = held.run;
  const text = new AnswerStream(deps, held, citationSources(context.toolSteps));
  const tools = new ToolCallStream(deps, held, text, run.parallelToolCalls);
  const gathered: Gathered = {
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    cache: { readTokens: 0, writeTokens: 0 },
    model: run.model,
    finish: 'stop',
    firstTokenMs: null,
  };
  const started = performance.now();
  const sinceStart = () => performance.now() - started;
  let delivered: Promise<void>;
  try {
    const { provider, model } = deps.providers.resolve(run.model);
    const { promptTokens, ...request } = buildModelRequest(
      run,
      toModelMessages(context.history, context.toolSteps, context.turnOf),
      model,
      deps.config.MODEL_CONTEXT_TOKENS,
    );
    if (exceedsPromptLimit(run, { promptTokens })) return { kind: 'prompt_too_long' };
    for await (const event of provider.stream(request, held.signal)) {
      if (event.type === 'failover') {
        const { from, to, reason } = event;
        deps.log.warn({ runId: run.id, from, to, reason }, 'run failed over');
        // Before any output, so nothing else of the turn is on its way.
        await held.writer.append([{ event: 'threadwork.model_failover', data: { from, to, reason } }]);
      }
      if (isModelOutput(event)) gathered.firstTokenMs ??= sinceStart();
      await streamEvent(event, text, tools, gathered);
    }
    // A tool step's deltas are appended before its calls are stored; an answer's last ones travel while it is.
    await tools.flush();
    delivered = text.flush();
    delivered.catch(() => undefined);
  } catch (error) {
    // What was streamed before the failure is what the ending keeps.
    await Promise.all([text.flush().catch(() => undefined), tools.flush().catch(() => undefined)]);
    if (held.abortReason) return { kind: 'stopped', reason: held.abortReason, answer: text.streamed };
    const lastError =
      error instanceof ProviderError ? { code: error.code, message: error.message } : INTERNAL_ERROR;
    return { kind: 'failed', error: lastError, answer: text.streamed, cause: error };
  }
  const usage: UsageRecord = {
    model: gathered.model,
    usage: gathered.usage,
    costUsd: deps.estimateCostUsd(
      gathered.model,
      gathered.usage.prompt_tokens,
      gathered.usage.completion_tokens,
      gathered.cache,
    ),
    latencyMs: sinceStart(),
    firstTokenMs: gathered.firstTokenMs,
  };
  if (gathered.finish === 'length') {
    const incompleteDetails = { reason: 'max_completion_tokens' as const };
    const toolStep = tools.opened;
    return {
      kind: 'answered',
      status: 'incomplete',
      incompleteDetails,
      answer: text.streamed,
      delivered,
      toolStep,
      usage,
    };
  }
  const calls = tools.finished;
  if (tools.opened && calls.length > 0) return { kind: 'tool_calls', step: tools.opened, calls, usage };
  const toolStep = tools.opened;
  return {
    kind: 'answered',
    status: 'completed',
    incompleteDetails: null,
    answer: text.streamed,
    delivered,
    toolStep,
    usage,
  };
}
