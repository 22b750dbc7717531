// Per-file test environment: a Threadwork database, a seeded tools database with its own read-only role, a prefix.
import { randomBytes } from 'node:crypto';
import { type Config, closeDb, createDb, createLogger, type Db, loadConfig } from '@threadwork/shared';
import { prepareToolsDatabase, readerDatabaseUrl } from '@threadwork/shared/tools-database';
import { createEmptyDatabase, createTestDatabase, databaseUrlFor, randomPrefix } from '@threadwork/testing';
import pg from 'pg';
import type { SqlToolDeps } from '../../src/tools/sql/sql-deps.js';

export const silentLog = createLogger({ name: 'tool-worker-test', level: 'silent' });

export interface TestEnvironment {
  serverUrl: string;
  redisUrl: string;
  databaseUrl: string;
  toolsUrl: string;
  readerRole: string;
  readerUrl: string;
  prefix: string;
  db: Db;
  toolsPool: pg.Pool;
  /** The environment variables of a tool worker of this environment, with overrides. */
  variables(overrides?: Record<string, string>): Record<string, string>;
  /** The configuration those variables give. */
  config(overrides?: Record<string, string>): Config;
  sqlDeps(overrides?: Partial<SqlToolDeps['limits']> & { protectedSchemas?: string[] }): SqlToolDeps;
  close(): Promise<void>;
}

export async function createEnvironment(serverUrl: string, redisUrl: string): Promise<TestEnvironment> {
  const [own, tools] = await Promise.all([createTestDatabase(serverUrl), createEmptyDatabase(serverUrl)]);
  const readerRole = `tw_reader_${randomBytes(5).toString('hex')}`;
  await prepareToolsDatabase(tools.url, { seed: true, readerRole });
  const db = createDb({ url: own.url, poolSize: 5 });
  const toolsPool = new pg.Pool({ connectionString: tools.url, max: 5 });
  const prefix = randomPrefix();
  const base = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: own.url,
    TOOLS_DATABASE_URL: tools.url,
    TOOLS_READONLY_ROLE: readerRole,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    TOOL_WORKER_PORT: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
  return {
    serverUrl,
    redisUrl,
    databaseUrl: own.url,
    toolsUrl: tools.url,
    readerRole,
    readerUrl: readerDatabaseUrl(tools.url, readerRole),
    prefix,
    db,
    toolsPool,
    variables: (overrides = {}) => ({ ...base, ...overrides }),
    config: (overrides = {}) => loadConfig({ ...base, ...overrides }),
    sqlDeps: ({ protectedSchemas = [], ...limits } = {}) => ({
      pool: toolsPool,
      space: {
        schema: 'public',
        isIsolated: false,
        readerUrl: readerDatabaseUrl(tools.url, readerRole),
        ownerRole: null,
      },
      protectedSchemas,
      // Generous, so a loaded machine or autovacuum (which yields a lock only after deadlock_timeout, 1 s) never
      // fails a test that is not about timeouts; those pass their own.
      limits: {
        statementTimeoutMs: 10_000,
        lockTimeoutMs: 5_000,
        maxRows: 200,
        maxResultBytes: 65_536,
        ...limits,
      },
    }),
    async close() {
      await Promise.all([closeDb(db), toolsPool.end()]);
      await Promise.all([own.drop(), tools.drop()]);
      const admin = new pg.Client({ connectionString: databaseUrlFor(serverUrl, 'postgres') });
      await admin.connect();
      await admin.query(`drop role if exists ${readerRole}`).finally(() => admin.end());
    },
  };
}
