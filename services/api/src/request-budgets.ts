// Per-key request budgets counted in Redis (shared by every API replica), taken a few requests at a time: a request
// that finds requests left in its process's lease is admitted without a Redis round trip.
import type { RedisConnection } from '@threadwork/shared';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** A lease is this share of the per-minute limit (so a limit of 600 leases 6 at a time, one of 99 or less just 1). */
const LEASE_SHARE = 0.01;
const MAX_LEASE = 100;
/** Bounds the memory a flood of distinct keys can take; the oldest leases go first. */
const MAX_LEASES = 10_000;

interface Lease {
  /** Requests of the lease not yet admitted. */
  left: number;
  /** The end of the Redis window the lease was counted in: it is not used after that. */
  until: number;
  /** What Redis had left for the key when the lease was taken. */
  leftInRedis: number;
}

/** An over-the-limit answer: how long until the window resets. */
export class BudgetSpent extends Error {
  override name = 'BudgetSpent';
  constructor(readonly msBeforeNext: number) {
    super(`request budget spent for ${msBeforeNext} ms`);
  }
}

/**
 * Never admits more than the limit per window across all processes: every admitted request was counted in Redis
 * in its window. A lease a process has not used up when its window ends is lost, so a key near its limit may be
 * refused up to (lease size - 1) requests early per API process.
 */
export class RequestBudgets {
  private readonly limiter: RateLimiterRedis;
  private readonly leases = new Map<string, Lease>();
  private readonly taking = new Map<string, Promise<void>>();
  readonly leaseSize: number;

  constructor(
    redis: RedisConnection,
    keyPrefix: string,
    readonly perMinute: number,
  ) {
    this.limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix, points: perMinute, duration: 60 });
    this.leaseSize = Math.min(MAX_LEASE, Math.max(1, Math.floor(perMinute * LEASE_SHARE)));
  }

  /** Admits one request of `key`: answers the requests the key has left, or throws BudgetSpent. */
  async take(key: string): Promise<number> {
    for (;;) {
      const lease = this.leases.get(key);
      if (lease && lease.left > 0 && lease.until > Date.now()) {
        lease.left -= 1;
        return lease.leftInRedis + lease.left;
      }
      const pending = this.taking.get(key) ?? this.startLease(key, lease);
      await pending;
    }
  }

  private startLease(key: string, previous: Lease | undefined): Promise<void> {
    const taking = this.lease(key, previous).finally(() => this.taking.delete(key));
    this.taking.set(key, taking);
    return taking;
  }

  /** Counts a new lease in Redis: as large as the key's last known budget allows, smaller when Redis has less. */
  private async lease(key: string, previous: Lease | undefined): Promise<void> {
    const known = previous && previous.until > Date.now() ? previous.leftInRedis : this.perMinute;
    let size = Math.max(1, Math.min(this.leaseSize, known));
    for (;;) {
      try {
        const counted = await this.limiter.consume(key, size);
        this.remember(key, {
          left: size,
          until: Date.now() + counted.msBeforeNext,
          leftInRedis: counted.remainingPoints,
        });
        return;
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        // Redis counted the refused lease too: take it back, then ask for what was left, if anything was.
        const leftBefore = this.perMinute - (error.consumedPoints - size);
        if (size === 1 || leftBefore < 1) throw new BudgetSpent(error.msBeforeNext);
        await this.limiter.reward(key, size);
        size = Math.min(size - 1, leftBefore);
      }
    }
  }

  private remember(key: string, lease: Lease): void {
    this.leases.delete(key);
    if (this.leases.size >= MAX_LEASES) {
      const oldest = this.leases.keys().next().value;
      if (oldest !== undefined) this.leases.delete(oldest);
    }
    this.leases.set(key, lease);
  }
}
