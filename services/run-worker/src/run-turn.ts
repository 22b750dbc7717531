// One model turn of a held run: call the model, stream its text to the run's clients as it comes, and answer what
// happened as a value. The caller persists the outcome, then publishes it.
import {
  type Answer,
  type Config,
  type Db,
  type IncompleteDetails,
  type LastError,
  type Logger,
  messageTextDelta,
  type NewRunEvent,
  newAnswer,
  openAnswer,
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
import { type ModelEvent, type ModelToolCall, ProviderError } from './providers/types.js';

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
}

/** What one turn came to. */
export type TurnOutcome =
  | {
      kind: 'answered';
      status: 'completed' | 'incomplete';
      incompleteDetails: IncompleteDetails | null;
      answer: StreamedAnswer | null;
      usage: UsageRecord;
    }
  | { kind: 'tool_calls'; calls: ModelToolCall[]; answer: StreamedAnswer | null; usage: UsageRecord }
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

  private async open(): Promise<void> {
    const answer = newAnswer(this.held.run, this.deps.now?.() ?? new Date());
    await openAnswer(this.deps.db, answer);
    this.opened = { answer, text: '' };
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

/** What the model said besides text, gathered as it streams. */
interface Gathered {
  calls: ModelToolCall[];
  usage: Usage;
  cache: CacheTokens;
  /** The model that answered: the run's, or the fallback MODEL_FALLBACKS handed the call to. */
  model: string;
  finish: string;
  firstTokenMs: number | null;
}

function gather(
  gathered: Gathered,
  event: Exclude<ModelEvent, { type: 'text' }>,
  parallel: boolean,
  sinceStart: () => number,
): void {
  switch (event.type) {
    case 'tool_call':
      gathered.firstTokenMs ??= sinceStart();
      // parallel_tool_calls: false allows one call per turn, whatever the model sent.
      if (parallel || gathered.calls.length === 0) gathered.calls.push(event.call);
      return;
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

/** Calls the model for the held run and streams its answer; never throws for what the model or a cancel does. */
export async function takeTurn(deps: TurnDeps, held: HeldRun, context: TurnContext): Promise<TurnOutcome> {
  const run = held.run;
  const text = new AnswerStream(deps, held);
  const gathered: Gathered = {
    calls: [],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    cache: { readTokens: 0, writeTokens: 0 },
    model: run.model,
    finish: 'stop',
    firstTokenMs: null,
  };
  const started = performance.now();
  const sinceStart = () => performance.now() - started;
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
        deps.log.warn(
          { runId: run.id, from: event.from, to: event.to, reason: event.reason },
          'run failed over',
        );
      }
      if (event.type !== 'text') {
        gather(gathered, event, run.parallelToolCalls, sinceStart);
        continue;
      }
      if (event.delta.length === 0) continue;
      gathered.firstTokenMs ??= sinceStart();
      await text.push(event.delta);
    }
    await text.flush();
  } catch (error) {
    // What was streamed before the failure is what the ending keeps.
    await text.flush().catch(() => undefined);
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
    return { kind: 'answered', status: 'incomplete', incompleteDetails, answer: text.streamed, usage };
  }
  if (gathered.calls.length > 0)
    return { kind: 'tool_calls', calls: gathered.calls, answer: text.streamed, usage };
  return { kind: 'answered', status: 'completed', incompleteDetails: null, answer: text.streamed, usage };
}
