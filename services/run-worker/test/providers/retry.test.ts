import { createLogger } from '@threadwork/shared';
import { APIConnectionError, APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { classifyFailure, retryAfterMs, UpstreamFailure } from '../../src/providers/failures.js';
import { backoffDelayMs, retryDelayMs, streamWithRetries } from '../../src/providers/retry.js';
import { abortableSleep } from '../../src/providers/sleep.js';
import { type ModelEvent, ProviderError } from '../../src/providers/types.js';

const log = createLogger({ name: 'retry-test', level: 'silent', pretty: false });
const policy = { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 1_000 };
const now = () => Date.parse('2030-01-01T00:00:00Z');

describe('retryAfterMs', () => {
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Tue, 01 Jan 2030 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(retryAfterMs(new Headers(), now)).toBeNull();
  });
});

describe('classifyFailure', () => {
  const headers = new Headers({ 'retry-after': '1' });

  it.each([
    [429, 'rate_limit_exceeded', true],
    [500, 'server_error', true],
    [503, 'server_error', true],
    [408, 'server_error', true],
    [400, 'invalid_prompt', false],
    [404, 'invalid_prompt', false],
    [401, 'server_error', false],
  ] as const)('HTTP %i is %s, retryable: %s', (status, code, isRetryable) => {
    const failure = classifyFailure(
      APIError.generate(status, { error: { message: 'x' } }, undefined, headers),
      now,
    );
    expect(failure).toMatchObject({ code, isRetryable });
  });

  it('carries the retry-after of a 429', () => {
    const error = APIError.generate(429, { error: { message: 'slow down' } }, undefined, headers);
    expect(classifyFailure(error, now).retryAfterMs).toBe(1000);
  });

  it('treats connection errors and broken streams as retryable server errors', () => {
    expect(classifyFailure(new APIConnectionError({ message: 'ECONNREFUSED' }), now)).toMatchObject({
      code: 'server_error',
      isRetryable: true,
    });
    expect(classifyFailure(new TypeError('terminated'), now)).toMatchObject({
      code: 'server_error',
      isRetryable: true,
    });
  });
});

describe('retry delays', () => {
  it('doubles the step up to the cap, with equal jitter', () => {
    expect([0, 1, 2, 3].map((retry) => backoffDelayMs(retry, policy, () => 0))).toEqual([100, 200, 400, 500]);
    expect([0, 1, 2, 3].map((retry) => backoffDelayMs(retry, policy, () => 0.999))).toEqual([
      200, 400, 800, 1000,
    ]);
  });

  it('stops after maxRetries and for failures a retry cannot fix', () => {
    const retryable = new UpstreamFailure('server_error', 'x', true);
    expect(retryDelayMs(retryable, 2, policy, () => 0)).toBe(400);
    expect(retryDelayMs(retryable, 3, policy, () => 0)).toBeNull();
    expect(retryDelayMs(new UpstreamFailure('invalid_prompt', 'x', false), 0, policy, () => 0)).toBeNull();
  });

  it('waits what the server asked, unless that is longer than the cap', () => {
    expect(retryDelayMs(new UpstreamFailure('rate_limit_exceeded', 'x', true, 700), 0, policy, () => 0)).toBe(
      700,
    );
    expect(
      retryDelayMs(new UpstreamFailure('rate_limit_exceeded', 'x', true, 5000), 0, policy, () => 0),
    ).toBeNull();
  });
});

/** An attempt that fails on its first read, after running a side effect. */
function failingAttempt(failure: Error, onRead: () => void): () => AsyncIterable<ModelEvent> {
  return () => ({
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        onRead();
        throw failure;
      },
    }),
  });
}

describe('streamWithRetries', () => {
  const clock = { sleep: async () => {}, random: () => 0, now };

  it('never retries once output has been yielded', async () => {
    let attempts = 0;
    async function* attempt(): AsyncGenerator<ModelEvent> {
      attempts += 1;
      yield { type: 'text', delta: 'partial' };
      throw new UpstreamFailure('server_error', 'cut', true);
    }
    const events = streamWithRetries(attempt, new AbortController().signal, policy, clock, log);
    await expect(async () => {
      for await (const _ of events) {
        // drain
      }
    }).rejects.toBeInstanceOf(ProviderError);
    expect(attempts).toBe(1);
  });

  it('rethrows the cancel reason instead of a provider error', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by user');
    const attempt = failingAttempt(new UpstreamFailure('server_error', 'aborted', true), () =>
      controller.abort(reason),
    );
    const events = streamWithRetries(attempt, controller.signal, policy, clock, log);
    await expect(events.next()).rejects.toBe(reason);
  });

  it('is cancelled during a backoff wait', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled while waiting');
    const attempt = failingAttempt(new UpstreamFailure('server_error', 'down', true), () => {});
    let waited = 0;
    const sleep = (ms: number, signal: AbortSignal) => {
      waited = ms;
      const wait = abortableSleep(ms, signal);
      controller.abort(reason);
      return wait;
    };
    const longPolicy = { ...policy, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const events = streamWithRetries(attempt, controller.signal, longPolicy, { ...clock, sleep }, log);
    await expect(events.next()).rejects.toBe(reason);
    expect(waited).toBe(30_000);
  });
});
