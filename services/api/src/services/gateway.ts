// The model gateway: an app's own chat-completion and embedding calls, routed like runs' model calls (routing,
// fallbacks, retries), under the caller's key, with a usage_logs row and a cost for each.

import type { ProviderRegistry } from '@threadwork/run-worker/providers';
import { estimateCostUsd } from '@threadwork/run-worker/providers/pricing';
import {
  type FinishReason,
  type ModelEvent,
  type ModelMessage,
  type ModelRequest,
  type ModelToolCall,
  ProviderError,
} from '@threadwork/run-worker/providers/types';
import { ApiError, type Db, type FunctionDefinition, type Logger, newId } from '@threadwork/shared';
import type { Principal } from '../auth.js';
import { insertGatewayUsage } from '../repositories/usage-logs.js';
import type {
  ChatCompletion,
  ChatCompletionRequest,
  EmbeddingsList,
  EmbeddingsRequest,
  GatewayMessage,
  ModelList,
} from '../schemas/gateway.js';

export interface GatewayDeps {
  db: Db;
  log: Logger;
  models: ProviderRegistry;
}

/** What a finished completion came to. */
export interface CompletionResult {
  text: string;
  calls: ModelToolCall[];
  finish: FinishReason;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function toModelMessages(messages: GatewayMessage[]): ModelMessage[] {
  const names = new Map<string, string>();
  const out: ModelMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        break;
      case 'user':
        out.push({ role: 'user', content: message.content });
        break;
      case 'assistant': {
        if (message.content) out.push({ role: 'assistant', content: message.content });
        const calls = (message.tool_calls ?? []).map((call) => {
          names.set(call.id, call.function.name);
          return { id: call.id, name: call.function.name, arguments: call.function.arguments };
        });
        if (calls.length > 0) out.push({ role: 'assistant', toolCalls: calls });
        break;
      }
      case 'tool':
        out.push({
          role: 'tool',
          toolCallId: message.tool_call_id,
          name: names.get(message.tool_call_id) ?? '',
          output: message.content,
        });
        break;
    }
  }
  return out;
}

/** A Chat Completions request as the providers' request; system and developer messages become the instructions. */
export function toModelRequest(body: ChatCompletionRequest, model: string): ModelRequest {
  const instructions = body.messages
    .flatMap((message) =>
      message.role === 'system' || message.role === 'developer' ? [message.content] : [],
    )
    .join('\n\n');
  const tools: FunctionDefinition[] = (body.tools ?? []).map((tool) => tool.function);
  const choice = body.tool_choice;
  return {
    model,
    instructions,
    messages: toModelMessages(body.messages),
    tools,
    toolChoice:
      choice === undefined || (typeof choice === 'object' && choice.type !== 'function') ? 'auto' : choice,
    parallelToolCalls: body.parallel_tool_calls ?? true,
    temperature: body.temperature ?? null,
    topP: body.top_p ?? null,
    maxOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
    responseFormat: body.response_format ?? 'auto',
  };
}

/** A provider failure before any output, as the HTTP error the caller gets. */
function toApiError(error: unknown): unknown {
  if (!(error instanceof ProviderError)) return error;
  switch (error.code) {
    case 'rate_limit_exceeded':
      return new ApiError(429, error.message, { type: 'rate_limit_error', code: error.code });
    case 'invalid_prompt':
      return new ApiError(400, error.message, { code: error.code });
    case 'server_error':
      return new ApiError(502, error.message, { type: 'server_error', code: error.code });
  }
}

/**
 * One chat completion in flight. `start` waits for the model's first event, so a call that fails before any
 * output is answered as an HTTP error; `events` then yields everything, and the usage row is written at the end.
 */
export class Completion {
  readonly id = newId('gatewayCall');
  readonly created = Math.floor(Date.now() / 1000);
  private readonly result: CompletionResult = {
    text: '',
    calls: [],
    finish: 'stop',
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
  private answeredBy: string;
  private cache = { readTokens: 0, writeTokens: 0 };
  private firstTokenMs: number | null = null;
  private readonly started = performance.now();

  private constructor(
    private readonly deps: GatewayDeps,
    private readonly principal: Principal,
    readonly model: string,
    private readonly iterator: AsyncIterator<ModelEvent>,
    private first: IteratorResult<ModelEvent>,
  ) {
    this.answeredBy = model;
  }

  static async start(
    deps: GatewayDeps,
    principal: Principal,
    body: ChatCompletionRequest,
    signal: AbortSignal,
  ): Promise<Completion> {
    const { provider, model } = deps.models.resolve(body.model);
    const iterator = provider.stream(toModelRequest(body, model), signal)[Symbol.asyncIterator]();
    try {
      return new Completion(deps, principal, body.model, iterator, await iterator.next());
    } catch (error) {
      throw toApiError(error);
    }
  }

  /** Every event of the call, the first included; the usage row is written once the last has been read. */
  async *events(): AsyncGenerator<ModelEvent> {
    for (let step = this.first; !step.done; step = await this.iterator.next()) {
      this.note(step.value);
      yield step.value;
    }
    await this.record();
  }

  /** Reads the call to its end. */
  async collect(): Promise<CompletionResult> {
    try {
      for await (const _ of this.events());
    } catch (error) {
      throw toApiError(error);
    }
    return this.result;
  }

  private note(event: ModelEvent): void {
    const sinceStart = performance.now() - this.started;
    switch (event.type) {
      case 'text':
        this.firstTokenMs ??= sinceStart;
        this.result.text += event.delta;
        return;
      case 'tool_call':
        this.firstTokenMs ??= sinceStart;
        this.result.calls.push(event.call);
        return;
      case 'usage':
        this.result.usage = {
          prompt_tokens: event.promptTokens,
          completion_tokens: event.completionTokens,
          total_tokens: event.promptTokens + event.completionTokens,
        };
        this.cache = { readTokens: event.cacheReadTokens ?? 0, writeTokens: event.cacheWriteTokens ?? 0 };
        return;
      case 'finish':
        this.result.finish = event.reason;
        return;
      case 'failover':
        this.answeredBy = event.to;
        this.deps.log.warn({ callId: this.id, from: event.from, to: event.to }, 'gateway call failed over');
        return;
    }
  }

  private async record(): Promise<void> {
    const { usage } = this.result;
    await insertGatewayUsage(this.deps.db, {
      callId: this.id,
      ownerId: this.principal.projectId,
      model: this.answeredBy,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      costUsd: estimateCostUsd(
        this.answeredBy,
        usage.prompt_tokens,
        usage.completion_tokens,
        this.deps.models.prices,
        this.cache,
      ),
      latencyMs: performance.now() - this.started,
      firstTokenMs: this.firstTokenMs,
    });
  }
}

function toWireCalls(calls: ModelToolCall[]) {
  return calls.map((call) => ({
    id: call.id,
    type: 'function' as const,
    function: { name: call.name, arguments: call.arguments },
  }));
}

export function toChatCompletion(completion: Completion, result: CompletionResult): ChatCompletion {
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: result.text.length > 0 || result.calls.length === 0 ? result.text : null,
          refusal: null,
          ...(result.calls.length > 0 ? { tool_calls: toWireCalls(result.calls) } : {}),
        },
        finish_reason: result.finish,
        logprobs: null,
      },
    ],
    usage: result.usage,
  };
}

/**
 * The chunks of a streamed completion, in Chat Completions' shape: the role first, text and tool-call deltas, the
 * finish reason, then (with `stream_options.include_usage`) a usage chunk with no choices.
 */
export async function* toCompletionChunks(
  completion: Completion,
  includeUsage: boolean,
): AsyncGenerator<Record<string, unknown>> {
  const head = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  };
  const chunk = (delta: Record<string, unknown>, finish: FinishReason | null = null) => ({
    ...head,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  yield chunk({ role: 'assistant', content: '' });
  let callIndex = 0;
  let usage: Record<string, number> | null = null;
  for await (const event of completion.events()) {
    if (event.type === 'text') yield chunk({ content: event.delta });
    if (event.type === 'tool_call') {
      const [call] = toWireCalls([event.call]);
      yield chunk({ tool_calls: [{ index: callIndex++, ...call }] });
    }
    if (event.type === 'usage') {
      usage = {
        prompt_tokens: event.promptTokens,
        completion_tokens: event.completionTokens,
        total_tokens: event.promptTokens + event.completionTokens,
      };
    }
    if (event.type === 'finish') yield chunk({}, event.reason);
  }
  if (includeUsage && usage) yield { ...head, choices: [], usage };
}

export async function createEmbeddings(
  deps: GatewayDeps,
  principal: Principal,
  body: EmbeddingsRequest,
  signal: AbortSignal,
): Promise<EmbeddingsList> {
  const { provider, model } = deps.models.resolve(body.model);
  if (!provider.embed) {
    throw new ApiError(400, `The model '${body.model}' does not make embeddings.`, {
      param: 'model',
      code: 'model_not_supported',
    });
  }
  const texts = typeof body.input === 'string' ? [body.input] : body.input;
  const started = performance.now();
  const { vectors, promptTokens } = await provider.embed(model, texts, signal).catch((error: unknown) => {
    throw toApiError(error);
  });
  await insertGatewayUsage(deps.db, {
    callId: newId('gatewayCall'),
    ownerId: principal.projectId,
    model: body.model,
    promptTokens,
    completionTokens: 0,
    costUsd: estimateCostUsd(body.model, promptTokens, 0, deps.models.prices),
    latencyMs: performance.now() - started,
    firstTokenMs: null,
  });
  return {
    object: 'list',
    model: body.model,
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding:
        body.encoding_format === 'base64'
          ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
          : vector,
    })),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function listModels(deps: GatewayDeps): ModelList {
  return {
    object: 'list',
    data: deps.models.models().map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: id === 'offline' ? 'threadwork' : (id.split('/')[0] ?? 'openai'),
    })),
  };
}
