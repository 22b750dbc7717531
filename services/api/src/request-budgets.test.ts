import type { Redis } from '@threadwork/shared';
import { connectTestRedis, randomPrefix } from '@threadwork/testing';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetSpent, RequestBudgets } from './request-budgets.js';

let redis: Redis;

beforeAll(async () => {
  redis = await connectTestRedis('request-budgets-test');
});

afterAll(() => {
  redis.disconnect();
});

/** Admitted and refused takes; any other failure fails the test. */
async function tally(takes: Promise<number>[]): Promise<{ admitted: number; refused: number }> {
  const outcomes = await Promise.allSettled(takes);
  const refused = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof BudgetSpent).length;
  const admitted = outcomes.filter((o) => o.status === 'fulfilled').length;
  expect(admitted + refused).toBe(takes.length);
  return { admitted, refused };
}

async function counted(prefix: string, key: string): Promise<number> {
  return Number(await redis.get(`${prefix}:${key}`));
}

describe('RequestBudgets', () => {
  it('counts a lease in Redis once and admits its requests from memory', async () => {
    const prefix = randomPrefix();
    const budgets = new RequestBudgets(redis, prefix, 1000);
    expect(budgets.leaseSize).toBe(10);
    expect(await budgets.take('key_a')).toBe(999);
    expect(await counted(prefix, 'key_a')).toBe(10);
    for (let i = 0; i < 9; i += 1) await budgets.take('key_a');
    expect(await counted(prefix, 'key_a')).toBe(10);
    expect(await budgets.take('key_a')).toBe(989);
    expect(await counted(prefix, 'key_a')).toBe(20);
  });

  it('takes one lease for requests that arrive together', async () => {
    const prefix = randomPrefix();
    const budgets = new RequestBudgets(redis, prefix, 1000);
    const { admitted } = await tally(Array.from({ length: 10 }, () => budgets.take('key_a')));
    expect(admitted).toBe(10);
    expect(await counted(prefix, 'key_a')).toBe(10);
  });

  it('is exact for small limits', async () => {
    const budgets = new RequestBudgets(redis, randomPrefix(), 3);
    expect(budgets.leaseSize).toBe(1);
    expect(await tally(Array.from({ length: 5 }, () => budgets.take('key_a')))).toEqual({
      admitted: 3,
      refused: 2,
    });
  });

  it('never admits more than the limit across processes hammering one key at once', async () => {
    const prefix = randomPrefix();
    const processes = [1, 2, 3].map(() => new RequestBudgets(redis, prefix, 250));
    const takes = Array.from({ length: 600 }, (_, i) => processes[i % processes.length]?.take('key_a') ?? 0);
    const { admitted } = await tally(takes as Promise<number>[]);
    expect(admitted).toBeLessThanOrEqual(250);
    // What a process leased but could not use before every key was refused: at most one lease less one each.
    expect(admitted).toBeGreaterThanOrEqual(250 - processes.length * (processes[0]?.leaseSize ?? 0));
  });

  it('shrinks a lease to what Redis has left when another process used the rest', async () => {
    const prefix = randomPrefix();
    const budgets = new RequestBudgets(redis, prefix, 300);
    expect(budgets.leaseSize).toBe(3);
    await budgets.take('key_a');
    // Another process (or replica) spends all but one of the remaining requests.
    await new RateLimiterRedis({ storeClient: redis, keyPrefix: prefix, points: 300, duration: 60 }).consume(
      'key_a',
      296,
    );
    await budgets.take('key_a');
    await budgets.take('key_a');
    expect(await budgets.take('key_a')).toBe(0);
    await expect(budgets.take('key_a')).rejects.toBeInstanceOf(BudgetSpent);
    await expect(budgets.take('key_b')).resolves.toBe(299);
  });
});
