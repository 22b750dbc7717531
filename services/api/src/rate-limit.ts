// Per-key request rate limits (counted in Redis, shared by every API replica): over the limit answers 429 with
// Retry-After.

import { ApiError, type Redis } from '@threadwork/shared';
import type { RequestHandler } from 'express';
import { principalOf } from './auth.js';
import { BudgetSpent, RequestBudgets } from './request-budgets.js';

export function limitRequests(redis: Redis, keyPrefix: string, perMinute: number): RequestHandler {
  const budgets = new RequestBudgets(redis, `${keyPrefix}:requests`, perMinute);
  return async (_req, res, next) => {
    const { keyId, projectId, endUserId } = principalOf(res);
    try {
      // An end user's own token counts in a budget of its own, as a key does.
      const left = await budgets.take(keyId ?? `token:${projectId}:${endUserId ?? ''}`);
      res.set('x-ratelimit-limit-requests', String(perMinute));
      res.set('x-ratelimit-remaining-requests', String(left));
    } catch (error) {
      if (!(error instanceof BudgetSpent)) throw error;
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
