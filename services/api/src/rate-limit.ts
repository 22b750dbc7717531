// Request rate limits (counted in Redis, shared by every API replica): per key, per end user (X-Threadwork-User or a
// token's sub), and per client address for requests with invalid credentials. Over a limit answers 429 with
// Retry-After.

import { ApiError, type RedisConnection } from '@threadwork/shared';
import type { RequestHandler } from 'express';
import { principalOf } from './auth.js';
import { BudgetSpent, RequestBudgets } from './request-budgets.js';

export function rateLimited(
  message: string,
  seconds: number,
  headers: Record<string, string> = {},
): ApiError {
  return new ApiError(429, `${message} Please try again in ${seconds}s.`, {
    type: 'rate_limit_error',
    code: 'rate_limit_exceeded',
    headers: { 'retry-after': String(seconds), ...headers },
  });
}

function secondsOf(error: BudgetSpent): number {
  return Math.max(1, Math.ceil(error.msBeforeNext / 1000));
}

export interface RequestLimits {
  perKeyPerMinute: number;
  perUserPerMinute: number;
}

export function limitRequests(
  redis: RedisConnection,
  keyPrefix: string,
  limits: RequestLimits,
): RequestHandler {
  const perKey = new RequestBudgets(redis, `${keyPrefix}:requests`, limits.perKeyPerMinute);
  const perUser = new RequestBudgets(redis, `${keyPrefix}:user-requests`, limits.perUserPerMinute);
  return async (_req, res, next) => {
    const { keyId, projectId, endUserId } = principalOf(res);
    if (keyId !== null) {
      const left = await take(perKey, keyId, `${limits.perKeyPerMinute} per minute`);
      res.set('x-ratelimit-limit-requests', String(limits.perKeyPerMinute));
      res.set('x-ratelimit-remaining-requests', String(left));
    }
    if (endUserId !== null) {
      await take(perUser, `${projectId}:${endUserId}`, `${limits.perUserPerMinute} per minute per end user`);
    }
    next();
  };
}

async function take(budgets: RequestBudgets, key: string, limit: string): Promise<number> {
  try {
    return await budgets.take(key);
  } catch (error) {
    if (!(error instanceof BudgetSpent)) throw error;
    throw rateLimited(`Rate limit reached for requests: ${limit}.`, secondsOf(error), {
      'x-ratelimit-remaining-requests': '0',
    });
  }
}

/**
 * Counts requests with invalid credentials per client address. Once an address is over the limit, this process
 * refuses its requests before looking their credentials up, until the window ends.
 */
export class InvalidCredentials {
  private readonly budgets: RequestBudgets;
  private readonly blocked = new Map<string, number>();

  constructor(redis: RedisConnection, keyPrefix: string, perMinute: number) {
    this.budgets = new RequestBudgets(redis, `${keyPrefix}:invalid-auth`, perMinute);
  }

  /** Throws 429 when the address is blocked (costs no Redis round trip). */
  refuseBlocked(address: string): void {
    const until = this.blocked.get(address);
    if (until === undefined) return;
    if (until <= Date.now()) {
      this.blocked.delete(address);
      return;
    }
    throw rateLimited(
      'Too many requests with invalid credentials.',
      Math.max(1, Math.ceil((until - Date.now()) / 1000)),
    );
  }

  /** Counts a refused credential; throws 429 instead of the refusal once the address is over the limit. */
  async count(address: string): Promise<void> {
    try {
      await this.budgets.take(address);
    } catch (error) {
      if (!(error instanceof BudgetSpent)) throw error;
      if (this.blocked.size >= 10_000) this.blocked.clear();
      this.blocked.set(address, Date.now() + error.msBeforeNext);
      throw rateLimited('Too many requests with invalid credentials.', secondsOf(error));
    }
  }
}
