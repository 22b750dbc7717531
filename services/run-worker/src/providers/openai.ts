// The `openai` provider: OpenAI's Responses or Chat Completions API, or any compatible server, via the official SDK.
import { type Logger, type OpenAIApiMode, requestEmbeddings } from '@threadwork/shared';
import OpenAI from 'openai';
import { type IdleDeadline, startIdleDeadline } from './deadline.js';
import { classifyFailure } from './failures.js';
import { fromChatChunks, type MaxTokensField, toChatParams } from './openai-chat.js';
import { fromResponsesEvents, toResponsesParams } from './openai-responses.js';
import { type RetryClock, type RetryPolicy, streamWithRetries } from './retry.js';
import { abortableSleep } from './sleep.js';
import { type ModelEvent, type ModelProvider, type ModelRequest, ProviderError } from './types.js';

interface OpenAIProviderOptions {
  /** The provider's name in logs: `openai`, or the MODEL_PROVIDERS name of the server. */
  name: string;
  baseURL: string;
  /** Keyless servers (Ollama, vLLM without --api-key) still need a placeholder here. */
  apiKey: string;
  apiMode: OpenAIApiMode;
  /** Longest wait for the next piece of a response, the first one included. */
  timeoutMs: number;
  retry: RetryPolicy;
  log: Logger;
  /** Chat Completions only; defaults to `max_completion_tokens`. */
  maxTokensField?: MaxTokensField;
  /** Tests inject these to observe backoff without waiting. */
  clock?: Partial<RetryClock>;
}

/** One upstream call in one API mode: open the stream under the deadline, then translate what arrives. */
type ModeStream = (
  client: OpenAI,
  request: ModelRequest,
  deadline: IdleDeadline,
) => AsyncGenerator<ModelEvent>;

function modeFor(apiMode: OpenAIApiMode, maxTokensField: MaxTokensField | undefined): ModeStream {
  if (apiMode === 'chat') {
    return async function* chatMode(client, request, deadline) {
      const params = toChatParams(request, maxTokensField);
      const chunks = await client.chat.completions.create(params, { signal: deadline.signal });
      yield* fromChatChunks(deadline.watch(chunks), request);
    };
  }
  return async function* responsesMode(client, request, deadline) {
    const params = toResponsesParams(request);
    const events = await client.responses.create(params, { signal: deadline.signal });
    yield* fromResponsesEvents(deadline.watch(events), request);
  };
}

export function createOpenAIProvider(options: OpenAIProviderOptions): ModelProvider {
  const log = options.log.child({ provider: options.name, apiMode: options.apiMode });
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    // Retries are ours (retry.ts), so the policy is explicit and never repeats a call whose output was shown.
    maxRetries: 0,
    timeout: options.timeoutMs,
    logger: log,
  });
  const clock: RetryClock = { sleep: abortableSleep, random: Math.random, now: Date.now, ...options.clock };
  const streamMode = modeFor(options.apiMode, options.maxTokensField);

  async function* attempt(request: ModelRequest, signal: AbortSignal): AsyncGenerator<ModelEvent> {
    const deadline = startIdleDeadline(options.timeoutMs, signal);
    try {
      yield* streamMode(client, request, deadline);
    } catch (error) {
      throw deadline.explain(error);
    } finally {
      deadline.dispose();
    }
  }

  return {
    name: options.name,
    async embed(model, texts, signal) {
      return requestEmbeddings(client, { model, texts }, signal).catch((error: unknown) => {
        if (signal.aborted) throw signal.reason;
        const failure = classifyFailure(error, Date.now);
        throw new ProviderError(failure.code, failure.message, failure.isRetryable);
      });
    },
    stream(request, signal) {
      return streamWithRetries(
        (attemptSignal) => attempt(request, attemptSignal),
        signal,
        options.retry,
        clock,
        log,
      );
    },
  };
}
