// Per-key request rate limits (Redis-backed, shared by every API replica): over the limit answers 429 with Retry-After.

import { ApiError, type Redis } from '@threadwork/shared';
import type { RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from './auth.js';

export function limitRequests(redis: Redis, keyPrefix: string, perMinute: number): RequestHandler {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:requests`,
    points: perMinute,
    duration: 60,
  });
  return async (_req, res, next) => {
    const { keyId } = principalOf(res);
    try {
      const state = await limiter.consume(keyId);
      res.set('x-ratelimit-limit-requests', String(perMinute));
      res.set('x-ratelimit-remaining-requests', String(state.remainingPoints));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new ApiError(
        429,
        `Rate limit reached for requests: ${perMinute} per minute. Please try again in ${seconds}s.`,
        {
          type: 'rate_limit_error',
          code: 'rate_limit_exceeded',
          headers: { 'retry-after': String(seconds), 'x-ratelimit-remaining-requests': '0' },
        },
      );
    }
    next();
  };
}
