// Tool rate limits on Redis (per user per tool, and per tool across users) and the wait-or-give-up decision.
import type { BuiltinToolType, RedisConnection } from '@threadwork/shared';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Rate, ToolPolicies } from './tool-policy.js';

export interface RateLimitWait {
  /** How long until the limit that refused the call lets one more through. */
  waitMs: number;
  scope: 'user' | 'tool';
  rate: Rate;
}

export interface ToolRateLimiter {
  /** Takes one point from the user's and the tool's budget; null when the call may run now. */
  reserve(ownerId: string, tool: BuiltinToolType): Promise<RateLimitWait | null>;
}

function limiterFor(redis: RedisConnection, keyPrefix: string, rate: Rate): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points: rate.points,
    duration: rate.durationSeconds,
  });
}

async function consume(limiter: RateLimiterRedis, key: string): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(rejection.msBeforeNext, 10);
    throw rejection;
  }
}

export function createToolRateLimiter(
  redis: RedisConnection,
  policies: ToolPolicies,
  keyPrefix: string,
): ToolRateLimiter {
  const limiters = new Map(
    Object.entries(policies).map(([tool, policy]) => [
      tool,
      {
        policy,
        user: limiterFor(redis, `${keyPrefix}:user:${tool}`, policy.perUser),
        global: limiterFor(redis, `${keyPrefix}:tool:${tool}`, policy.global),
      },
    ]),
  );
  return {
    async reserve(ownerId, tool) {
      const limits = limiters.get(tool);
      if (!limits) throw new Error(`No rate limits for tool '${tool}'`);
      // Both budgets at once; a point taken from one for a call the other refuses is given back.
      const [userWait, toolWait] = await Promise.all([
        consume(limits.user, ownerId),
        consume(limits.global, 'all'),
      ]);
      if (userWait !== null) {
        if (toolWait === null) await limits.global.reward('all');
        return { waitMs: userWait, scope: 'user', rate: limits.policy.perUser };
      }
      if (toolWait === null) return null;
      await limits.user.reward(ownerId);
      return { waitMs: toolWait, scope: 'tool', rate: limits.policy.global };
    },
  };
}

export type RateLimitDecision = { action: 'delay'; until: number } | { action: 'give_up'; waitedMs: number };

/** Delay the call until the limit allows it, unless that would make its total wait exceed maxWaitMs. */
export function decideRateLimit(input: {
  limitedSince: number;
  now: number;
  waitMs: number;
  maxWaitMs: number;
}): RateLimitDecision {
  const until = input.now + input.waitMs;
  if (until - input.limitedSince > input.maxWaitMs)
    return { action: 'give_up', waitedMs: input.now - input.limitedSince };
  return { action: 'delay', until };
}

export function rateLimitMessage(
  tool: BuiltinToolType,
  wait: RateLimitWait,
  waitedMs: number,
  maxWaitMs: number,
): string {
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  const who = wait.scope === 'user' ? 'per user' : 'for all users together';
  return (
    `Rate limit reached for ${tool}: at most ${wait.rate.points} calls per ${wait.rate.durationSeconds} s ${who}. ` +
    `The call waited ${seconds(waitedMs)} and would need ${seconds(wait.waitMs)} more, beyond the ${seconds(maxWaitMs)} ` +
    'a call may wait, so it was not executed. Try again later, with fewer calls.'
  );
}
