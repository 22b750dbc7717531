// Starts the whole system in-process for a test file: its own databases, its own queue prefix, real HTTP.

import {
  type Config,
  createLogger,
  loadConfig,
  loadSandboxConfig,
  sandboxWorkerEnvironment,
} from '@threadwork/shared';
import {
  createEmptyDatabase,
  createTestDatabase,
  randomPrefix,
  type TestDatabase,
} from '@threadwork/testing';
import OpenAI from 'openai';
import { inject } from 'vitest';
import { type ApiHandle, startApi } from '../../services/api/src/server.js';
import { startIngestWorker } from '../../services/ingest-worker/src/worker.js';
import { startRunWorker } from '../../services/run-worker/src/worker.js';
import { startSandboxWorker } from '../../services/sandbox-worker/src/worker.js';
import { startToolWorker } from '../../services/tool-worker/src/worker.js';

export const ADMIN_KEY = 'sk-tw-test-admin-key-0123456789';

export interface Stack {
  config: Config;
  /** The environment the stack was configured with, for services started as child processes. */
  env: Record<string, string>;
  api: ApiHandle;
  baseURL: string;
  admin: OpenAI;
  database: TestDatabase;
  toolsDatabase: TestDatabase;
  /** A new project with a server key, and an SDK client that uses it. */
  newUser(name?: string): Promise<{ key: string; client: OpenAI; projectId: string }>;
  /** A server key of the default project, whose SQL tools see the seeded demo shop (other projects' do not). */
  newDefaultProjectKey(name?: string): Promise<{ key: string; client: OpenAI }>;
  /** POSTs JSON to an admin endpoint with the bootstrap admin key and answers the JSON, refusing other statuses. */
  adminPost<T>(path: string, body: unknown, status?: number): Promise<T>;
  close(): Promise<void>;
}

export function sdkClient(baseURL: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
}

export interface StackOptions {
  /** `false` leaves a worker out, for tests that run it as a child process. */
  toolWorker?: boolean;
  runWorker?: boolean;
  /** Threadwork's database through a pooler: its URL there (migrations keep the direct one). */
  pooledUrl?: (directUrl: string) => string;
  ingestWorker?: boolean;
  /** `true` starts a sandbox worker too (code_interpreter), with the stack's Redis and prefix only. */
  sandboxWorker?: boolean;
}

export async function startStack(
  overrides: Record<string, string> = {},
  options: StackOptions = {},
): Promise<Stack> {
  const serverUrl = inject('databaseServerUrl');
  const [database, toolsDatabase] = await Promise.all([
    createTestDatabase(serverUrl),
    createEmptyDatabase(serverUrl),
  ]);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: options.pooledUrl?.(database.url) ?? database.url,
    ...(options.pooledUrl ? { MIGRATIONS_DATABASE_URL: database.url } : {}),
    TOOLS_DATABASE_URL: toolsDatabase.url,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: randomPrefix(),
    ADMIN_API_KEY: ADMIN_KEY,
    PORT: '0',
    RUN_WORKER_PORT: '0',
    TOOL_WORKER_PORT: '0',
    INGEST_WORKER_PORT: '0',
    SANDBOX_WORKER_PORT: '0',
    POLL_AFTER_MS: '20',
    DATABASE_POOL_SIZE: '5',
    ...overrides,
  };
  const config = loadConfig(env);
  const log = createLogger({ name: 'test', level: config.LOG_LEVEL, pretty: false });
  const api = await startApi(config, log);
  const runWorker = options.runWorker === false ? null : await startRunWorker(config, log);
  const toolWorker = options.toolWorker === false ? null : await startToolWorker(config, log);
  const ingestWorker = options.ingestWorker === false ? null : await startIngestWorker(config, log);
  const sandboxWorker = options.sandboxWorker
    ? await startSandboxWorker(loadSandboxConfig(sandboxWorkerEnvironment(env)), log)
    : null;
  const baseURL = `${api.url}/v1`;
  async function adminPost<T>(path: string, body: unknown, status = 201): Promise<T> {
    const response = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== status) throw new Error(`POST ${path} answered ${response.status}`);
    return (await response.json()) as T;
  }
  return {
    config,
    env,
    api,
    baseURL,
    admin: sdkClient(baseURL, ADMIN_KEY),
    database,
    toolsDatabase,
    adminPost,
    async newUser(name = 'test user') {
      const project = await adminPost<{ id: string }>('/admin/projects', { name });
      const { key } = await adminPost<{ key: string }>(`/admin/projects/${project.id}/keys`, { name });
      return { key, client: sdkClient(baseURL, key), projectId: project.id };
    },
    async newDefaultProjectKey(name = 'default project key') {
      const { key } = await adminPost<{ key: string }>('/admin/keys', { name });
      return { key, client: sdkClient(baseURL, key) };
    },
    async close() {
      await api.close();
      await runWorker?.close();
      await toolWorker?.close();
      await ingestWorker?.close();
      await sandboxWorker?.close();
      await Promise.all([database.drop(), toolsDatabase.drop()]);
    },
  };
}
