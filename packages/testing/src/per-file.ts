// Inside a test file: a fresh Threadwork database cloned from this run's migrated template.
import { inject } from 'vitest';
import { createDatabaseFrom, type TestDatabase } from './database.js';

export function createTestDatabase(serverUrl: string = inject('databaseServerUrl')): Promise<TestDatabase> {
  return createDatabaseFrom(serverUrl, inject('templateDatabase'));
}
