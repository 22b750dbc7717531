// The retry policy for model calls: exponential backoff with jitter, retry-after honoured, never once output began.
import type { Logger } from '@threadwork/shared';
import { classifyFailure, type UpstreamFailure } from './failures.js';
import type { Sleep } from './sleep.js';
import { isModelOutput, type ModelEvent, ProviderError } from './types.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  /** Cap on a backoff delay; a server asking to wait longer than this is not retried. */
  maxDelayMs: number;
}

export interface RetryClock {
  sleep: Sleep;
  /** In [0, 1): the jitter source. */
  random: () => number;
  now: () => number;
}

/** Equal jitter: half the exponential step, plus a random share of the other half. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(step / 2 + (random() * step) / 2);
}

/** The wait before retry number `retry + 1`, or null when the failure is final. */
export function retryDelayMs(
  failure: UpstreamFailure,
  retry: number,
  policy: RetryPolicy,
  random: () => number,
): number | null {
  if (!failure.isRetryable || retry >= policy.maxRetries) return null;
  if (failure.retryAfterMs === null) return backoffDelayMs(retry, policy, random);
  return failure.retryAfterMs <= policy.maxDelayMs ? failure.retryAfterMs : null;
}

/**
 * Runs attempts until one completes. A failure after the caller has seen output is final: the caller's message
 * is already partly written, and a second attempt would not continue it. Cancellation rethrows the signal's reason.
 */
export async function* streamWithRetries(
  attempt: (signal: AbortSignal) => AsyncIterable<ModelEvent>,
  signal: AbortSignal,
  policy: RetryPolicy,
  clock: RetryClock,
  log: Logger,
): AsyncGenerator<ModelEvent> {
  for (let retry = 0; ; retry += 1) {
    let hasOutput = false;
    try {
      for await (const event of attempt(signal)) {
        hasOutput ||= isModelOutput(event);
        yield event;
      }
      return;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const failure = classifyFailure(error, clock.now);
      const delayMs = hasOutput ? null : retryDelayMs(failure, retry, policy, clock.random);
      if (delayMs === null) {
        log.warn(
          { code: failure.code, attempts: retry + 1, hasOutput, reason: failure.message },
          'model call failed',
        );
        throw new ProviderError(failure.code, failure.message, failure.isRetryable);
      }
      log.warn(
        { code: failure.code, retry: retry + 1, delayMs, reason: failure.message },
        'model call failed, retrying',
      );
      await clock.sleep(delayMs, signal);
    }
  }
}
