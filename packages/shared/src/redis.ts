// The two Redis connection profiles: producers fail fast, workers and subscribers wait.
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export { Redis } from 'ioredis';

export type RedisProfile = 'producer' | 'worker';

/** With `log`, the connection's errors are logged (see `logConnectionErrors`) instead of printed by ioredis. */
export function createRedis(url: string, profile: RedisProfile, name: string, log?: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    maxRetriesPerRequest: profile === 'worker' ? null : 2,
    enableOfflineQueue: profile === 'worker',
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  if (log) redis.on('error', logConnectionErrors(log, name));
  return redis;
}

/**
 * An `error` listener for a Redis connection or a BullMQ Queue, Worker, FlowProducer or QueueEvents (without one a
 * BullMQ object prints every error and can stop a worker). Logs the first error, then at most one line per interval
 * with how many it left out, so a Redis outage is a few lines rather than one per reconnect attempt.
 */
export function logConnectionErrors(
  log: Logger,
  source: string,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (error: Error) => void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let leftOut = 0;
  return (error) => {
    if (now() - loggedAt < intervalMs) {
      leftOut += 1;
      return;
    }
    log.warn({ err: error, source, leftOut }, 'redis connection error');
    loggedAt = now();
    leftOut = 0;
  };
}

/** Resolves once the connection is ready; rejects on the first error so start-up can report it. */
export async function waitForRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => done();
    const onError = (error: Error) => done(error);
    function done(error?: Error) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    }
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}
