// Inside a test file: a fresh Threadwork database cloned from this run's migrated template, a Redis connection.
import { createRedis, type Redis, waitForRedis } from '@threadwork/shared';
import { inject } from 'vitest';
import { createDatabaseFrom, type TestDatabase } from './database.js';

export function createTestDatabase(serverUrl: string = inject('databaseServerUrl')): Promise<TestDatabase> {
  return createDatabaseFrom(serverUrl, inject('templateDatabase'));
}

/** A ready producer connection to this run's Redis, for tests that talk to Redis directly. */
export async function connectTestRedis(name: string): Promise<Redis> {
  const redis = createRedis(inject('redisUrl'), 'producer', name);
  await waitForRedis(redis);
  return redis;
}
