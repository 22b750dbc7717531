// The `anthropic` provider: Anthropic's Messages API through the official SDK, streamed, with prompt caching.
import Anthropic, { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import type { Logger } from '@threadwork/shared';
import { fromMessageEvents, toMessagesParams } from './anthropic-messages.js';
import { startIdleDeadline } from './deadline.js';
import { statusFailure, UpstreamFailure } from './failures.js';
import { type RetryClock, type RetryPolicy, streamWithRetries } from './retry.js';
import { abortableSleep } from './sleep.js';
import type { ModelEvent, ModelProvider } from './types.js';

interface AnthropicProviderOptions {
  baseURL: string;
  apiKey: string;
  /** Longest wait for the next piece of a response, the first one included. */
  timeoutMs: number;
  retry: RetryPolicy;
  log: Logger;
  /** `cache_control` on the instructions and tools; on unless turned off. */
  isPromptCaching?: boolean;
  /** Tests inject these to observe backoff without waiting. */
  clock?: Partial<RetryClock>;
}

/** An error Anthropic reports inside a stream (`event: error`): its type says whether another attempt can help. */
function streamErrorFailure(type: string | null, message: string): UpstreamFailure {
  switch (type) {
    case 'rate_limit_error':
      return new UpstreamFailure(
        'rate_limit_exceeded',
        `The model provider rate-limited the request: ${message}`,
        true,
      );
    case 'overloaded_error':
    case 'api_error':
    case 'timeout_error':
    case null:
      return new UpstreamFailure('server_error', `The model provider failed: ${message}`, true);
    default:
      return new UpstreamFailure(
        'invalid_prompt',
        `The model provider rejected the request: ${message}`,
        false,
      );
  }
}

/** One attempt's failure in the retry policy's terms: the Anthropic SDK's errors are not the OpenAI SDK's. */
export function anthropicFailure(error: unknown, now: () => number): unknown {
  if (error instanceof APIConnectionError) {
    return new UpstreamFailure('server_error', `Could not reach the model provider: ${error.message}`, true);
  }
  if (!(error instanceof APIError)) return error;
  const message = error.apiMessage ?? error.message;
  if (error.status === undefined) return streamErrorFailure(error.type, message);
  return statusFailure({ status: error.status, headers: error.headers, message }, now);
}

export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const log = options.log.child({ provider: 'anthropic' });
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    // Retries are ours (retry.ts), so the policy is explicit and never repeats a call whose output was shown.
    maxRetries: 0,
    timeout: options.timeoutMs,
    logger: log,
  });
  const clock: RetryClock = { sleep: abortableSleep, random: Math.random, now: Date.now, ...options.clock };
  const isCaching = options.isPromptCaching ?? true;

  async function* attempt(request: Parameters<ModelProvider['stream']>[0], signal: AbortSignal) {
    const deadline = startIdleDeadline(options.timeoutMs, signal);
    try {
      const events = await client.messages.create(toMessagesParams(request, isCaching), {
        signal: deadline.signal,
      });
      yield* fromMessageEvents(deadline.watch(events));
    } catch (error) {
      throw anthropicFailure(deadline.explain(error), clock.now);
    } finally {
      deadline.dispose();
    }
  }

  return {
    name: 'anthropic',
    stream(request, signal): AsyncIterable<ModelEvent> {
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
