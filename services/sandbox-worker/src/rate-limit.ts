// code_interpreter's rate limits on Redis, as the other built-in tools have theirs: per user and for everyone.
import type { RedisConnection, SandboxConfig } from '@threadwork/shared';
import { budgetLimiter, type Rate, takeFromBoth } from '@threadwork/shared/rate-budgets';

export interface SandboxRateLimiter {
  /** Takes one point from the owner's and the global budget: null when the call may run now, else the wait. */
  reserve(ownerId: string): Promise<number | null>;
}

/** A rate as the configuration writes it, `points/seconds` (its pattern makes both present). */
function rateOf(rate: string): Rate {
  const [points = 1, durationSeconds = 1] = rate.split('/').map(Number);
  return { points, durationSeconds };
}

export function createSandboxRateLimiter(redis: RedisConnection, config: SandboxConfig): SandboxRateLimiter {
  const keyPrefix = `${config.QUEUE_PREFIX}:tool-rate`;
  const budgets = {
    user: budgetLimiter(
      redis,
      `${keyPrefix}:user:code_interpreter`,
      rateOf(config.SANDBOX_RATE_LIMIT_PER_USER),
    ),
    global: budgetLimiter(
      redis,
      `${keyPrefix}:tool:code_interpreter`,
      rateOf(config.SANDBOX_RATE_LIMIT_GLOBAL),
    ),
  };
  return {
    async reserve(ownerId) {
      const wait = await takeFromBoth(budgets, ownerId);
      return wait?.waitMs ?? null;
    },
  };
}

export function rateLimitedLogs(waitedMs: number, config: SandboxConfig): string {
  const limits = `${config.SANDBOX_RATE_LIMIT_PER_USER} per user, ${config.SANDBOX_RATE_LIMIT_GLOBAL} for everyone`;
  const waited = Math.round(waitedMs / 100) / 10;
  return (
    `[Rate limit reached for code_interpreter (calls/seconds: ${limits}): the call waited ${waited} s, the most ` +
    'it may, and was not run. Try again later, with fewer calls.]'
  );
}
