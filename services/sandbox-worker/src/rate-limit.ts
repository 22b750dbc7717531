// code_interpreter's rate limits on Redis, as the other built-in tools have theirs: per user and for everyone.
import type { RedisConnection, SandboxConfig } from '@threadwork/shared';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface SandboxRateLimiter {
  /** Takes one point from the owner's and the global budget: null when the call may run now, else the wait. */
  reserve(ownerId: string): Promise<number | null>;
}

function limiterFor(redis: RedisConnection, keyPrefix: string, rate: string): RateLimiterRedis {
  // The configuration's pattern (points/seconds) makes both present.
  const [points = 1, duration = 1] = rate.split('/').map(Number);
  return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration });
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

export function createSandboxRateLimiter(redis: RedisConnection, config: SandboxConfig): SandboxRateLimiter {
  const keyPrefix = `${config.QUEUE_PREFIX}:tool-rate`;
  const user = limiterFor(redis, `${keyPrefix}:user:code_interpreter`, config.SANDBOX_RATE_LIMIT_PER_USER);
  const global = limiterFor(redis, `${keyPrefix}:tool:code_interpreter`, config.SANDBOX_RATE_LIMIT_GLOBAL);
  return {
    async reserve(ownerId) {
      const [userWait, globalWait] = await Promise.all([consume(user, ownerId), consume(global, 'all')]);
      // A point taken from one budget for a call the other refuses is given back.
      if (userWait !== null && globalWait === null) await global.reward('all');
      if (userWait === null && globalWait !== null) await user.reward(ownerId);
      return userWait ?? globalWait;
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
