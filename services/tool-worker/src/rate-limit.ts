// Tool rate limits on Redis (per user per tool, and per tool across users) and the wait-or-give-up decision.
import type { BuiltinToolType, RedisConnection } from '@threadwork/shared';
import { budgetLimiter, takeFromBoth } from '@threadwork/shared/rate-budgets';
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
        user: budgetLimiter(redis, `${keyPrefix}:user:${tool}`, policy.perUser),
        global: budgetLimiter(redis, `${keyPrefix}:tool:${tool}`, policy.global),
      },
    ]),
  );
  return {
    async reserve(ownerId, tool) {
      const limits = limiters.get(tool);
      if (!limits) throw new Error(`No rate limits for tool '${tool}'`);
      const wait = await takeFromBoth(limits, ownerId);
      if (!wait) return null;
      return { ...wait, rate: wait.scope === 'user' ? limits.policy.perUser : limits.policy.global };
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
