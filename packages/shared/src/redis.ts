// The two Redis connection profiles: producers fail fast, workers and subscribers wait.
import { Redis } from 'ioredis';

export { Redis } from 'ioredis';

export type RedisProfile = 'producer' | 'worker';

export function createRedis(url: string, profile: RedisProfile, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    maxRetriesPerRequest: profile === 'worker' ? null : 2,
    enableOfflineQueue: profile === 'worker',
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
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
