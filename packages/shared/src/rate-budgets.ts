// The two budgets a built-in tool call takes a point from at once, on Redis: its user's and everyone's.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisConnection } from './redis.js';

/** A budget: `points` calls per `durationSeconds`. */
export interface Rate {
  points: number;
  durationSeconds: number;
}

export function budgetLimiter(redis: RedisConnection, keyPrefix: string, rate: Rate): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points: rate.points,
    duration: rate.durationSeconds,
  });
}

/** Takes one point of `key`: null when there was one, else the wait until there is. */
async function takePoint(limiter: RateLimiterRedis, key: string): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(rejection.msBeforeNext, 10);
    throw rejection;
  }
}

/** Which budget refused a call, and how long until it lets one more through. */
export interface BudgetWait {
  scope: 'user' | 'tool';
  waitMs: number;
}

/**
 * Takes a point from the owner's budget and from everyone's at once; a point taken from one for a call the other
 * refuses is given back. Null when the call may run now.
 */
export async function takeFromBoth(
  budgets: { user: RateLimiterRedis; global: RateLimiterRedis },
  ownerId: string,
): Promise<BudgetWait | null> {
  const [userWait, toolWait] = await Promise.all([
    takePoint(budgets.user, ownerId),
    takePoint(budgets.global, 'all'),
  ]);
  if (userWait !== null) {
    if (toolWait === null) await budgets.global.reward('all');
    return { scope: 'user', waitMs: userWait };
  }
  if (toolWait === null) return null;
  await budgets.user.reward(ownerId);
  return { scope: 'tool', waitMs: toolWait };
}
