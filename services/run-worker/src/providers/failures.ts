// What an upstream failure means for a run: its last_error code, whether a retry can help, and how long to wait.
import { APIConnectionError, APIError } from 'openai';
import { ProviderError, type ProviderErrorCode } from './types.js';

/** A failure of one attempt, before the retry policy decides whether it becomes the run's ProviderError. */
export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure';
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly isRetryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** The wait a server asked for: `retry-after-ms` (OpenAI's), else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now: () => number): number | null {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now());
}

/** A stream that ended without saying how the response finished: it was cut, so another attempt may complete. */
export function streamEndedEarly(): UpstreamFailure {
  return new UpstreamFailure(
    'server_error',
    'The model stream ended before the response was complete.',
    true,
  );
}

/** An error reported inside a stream (no HTTP status): its code says what kind it is. */
export function streamFailure(code: string | null | undefined, message: string): UpstreamFailure {
  if (code === 'rate_limit_exceeded') return new UpstreamFailure('rate_limit_exceeded', message, true);
  if (!code || code === 'server_error') return new UpstreamFailure('server_error', message, true);
  return new UpstreamFailure('invalid_prompt', message, false);
}

/** An HTTP error answer, whichever SDK read it. */
export interface HttpErrorAnswer {
  status: number;
  headers: Headers | undefined;
  message: string;
  /** The error's code, where the provider sends one (OpenAI's `insufficient_quota`). */
  code?: string | null | undefined;
}

/** What an HTTP error status means: 429, 408, 409 and 5xx (Anthropic's 529 included) are worth another attempt. */
export function statusFailure(error: HttpErrorAnswer, now: () => number): UpstreamFailure {
  const wait = retryAfterMs(error.headers, now);
  const { status, message } = error;
  if (status === 429) {
    // An exhausted quota is not a passing rate limit: waiting will not help.
    const isRetryable = error.code !== 'insufficient_quota';
    return new UpstreamFailure(
      'rate_limit_exceeded',
      `The model provider rate-limited the request: ${message}`,
      isRetryable,
      wait,
    );
  }
  if (status === 408 || status === 409 || status >= 500) {
    return new UpstreamFailure('server_error', `The model provider failed: ${message}`, true, wait);
  }
  if (status === 401 || status === 403) {
    return new UpstreamFailure(
      'server_error',
      `The model provider refused Threadwork's credentials: ${message}`,
      false,
    );
  }
  return new UpstreamFailure('invalid_prompt', `The model provider rejected the request: ${message}`, false);
}

export function classifyFailure(error: unknown, now: () => number): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (error instanceof ProviderError) return new UpstreamFailure(error.code, error.message, false);
  if (error instanceof APIConnectionError) {
    return new UpstreamFailure('server_error', `Could not reach the model provider: ${error.message}`, true);
  }
  if (error instanceof APIError) {
    if (error.status === undefined) return streamFailure(error.code, error.message);
    const { status, headers, message, code } = error;
    return statusFailure({ status, headers, message, code }, now);
  }
  // Anything else comes from reading the stream: the connection was cut, or the body was not valid SSE.
  const detail = error instanceof Error ? error.message : String(error);
  return new UpstreamFailure('server_error', `The model provider's stream broke: ${detail}`, true);
}
