import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { retryDelayMs, retryDelaysFromEnv, webhookEventOf } from './webhooks.js';

describe('WEBHOOK_RETRY_DELAYS', () => {
  it('defaults to a schedule that lasts more than a day', () => {
    const delays = loadConfig({}).WEBHOOK_RETRY_DELAYS;
    expect(delays).toEqual(retryDelaysFromEnv.parse('5s,5m,30m,2h,5h,10h,10h'));
    expect(delays.reduce((sum, delay) => sum + delay, 0)).toBeGreaterThan(24 * 3_600_000);
  });

  it('reads durations in ms, s, m, h and d', () => {
    expect(retryDelaysFromEnv.parse('250ms, 2s,1m,1h,1d')).toEqual([
      250, 2000, 60_000, 3_600_000, 86_400_000,
    ]);
    expect(() => loadConfig({ WEBHOOK_RETRY_DELAYS: '5s,soon' })).toThrow(/WEBHOOK_RETRY_DELAYS.*'soon'/);
    expect(() => loadConfig({ WEBHOOK_RETRY_DELAYS: '0s' })).toThrow(/WEBHOOK_RETRY_DELAYS/);
  });

  it('gives the wait before each retry, and null after the last', () => {
    expect(retryDelayMs([100, 200], 1)).toBe(100);
    expect(retryDelayMs([100, 200], 2)).toBe(200);
    expect(retryDelayMs([100, 200], 3)).toBeNull();
  });
});

describe('webhookEventOf', () => {
  const run = {} as never;

  it('sends the events that end a run or hand it to the client', () => {
    expect(webhookEventOf({ event: 'thread.run.completed', data: run })).toBe('run.completed');
    expect(webhookEventOf({ event: 'thread.run.requires_action', data: run })).toBe('run.requires_action');
    expect(webhookEventOf({ event: 'thread.run.expired', data: run })).toBe('run.expired');
    expect(webhookEventOf({ event: 'thread.run.cancelling', data: run })).toBeNull();
    expect(webhookEventOf({ event: 'thread.run.in_progress', data: run })).toBeNull();
  });
});
