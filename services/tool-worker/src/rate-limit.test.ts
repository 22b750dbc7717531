import { describe, expect, it } from 'vitest';
import { decideRateLimit, rateLimitMessage } from './rate-limit.js';

describe('decideRateLimit', () => {
  it('delays while the total wait stays within the bound', () => {
    expect(decideRateLimit({ limitedSince: 1_000, now: 2_000, waitMs: 500, maxWaitMs: 2_000 })).toEqual({
      action: 'delay',
      until: 2_500,
    });
  });

  it('gives up when the wait would take the total past the bound', () => {
    expect(decideRateLimit({ limitedSince: 1_000, now: 2_000, waitMs: 2_500, maxWaitMs: 2_000 })).toEqual({
      action: 'give_up',
      waitedMs: 1_000,
    });
  });
});

describe('rateLimitMessage', () => {
  it('names the tool, the limit, the wait and the bound', () => {
    const wait = { waitMs: 12_345, scope: 'user' as const, rate: { points: 30, durationSeconds: 60 } };
    expect(rateLimitMessage('run_sql', wait, 2_000, 10_000)).toBe(
      'Rate limit reached for run_sql: at most 30 calls per 60 s per user. The call waited 2 s and would need ' +
        '12.3 s more, beyond the 10 s a call may wait, so it was not executed. Try again later, with fewer calls.',
    );
  });
});
