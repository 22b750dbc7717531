// With Postgres or Redis down the API answers 503 with Retry-After (never 500), and recovers by itself once it is back.
import { createLogger, ensureDatabase, loadConfig } from '@threadwork/shared';
import { databaseUrlFor, randomPrefix, waitFor } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHandle, startApi } from '../../services/api/src/server.js';
import { type OwnServer, startOwnPostgres, startOwnRedis } from '../support/own-services.js';
import { ADMIN_KEY } from '../support/stack.js';

const OUTAGE_TEST_MS = 60_000;

let postgres: OwnServer;
let redis: OwnServer;
let api: ApiHandle;
let userKey: string;
let assistantId: string;

function call(path: string, options: { method?: string; key?: string; body?: unknown } = {}) {
  return fetch(`${api.url}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      authorization: `Bearer ${options.key ?? userKey}`,
      'content-type': 'application/json',
      'openai-beta': 'assistants=v2',
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
}

const newThread = () => call('/v1/threads', { method: 'POST', body: {} });

async function expectUnavailable(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.type).toBe('server_error');
}

/** Polls until the request answers `status`, so recovery needs no restart and no fixed sleep. */
function eventually(request: () => Promise<Response>, status: number, what: string): Promise<Response> {
  return waitFor(
    async () => {
      const response = await request();
      return response.status === status ? response : null;
    },
    { timeoutMs: 20_000, intervalMs: 200, what },
  );
}

describe('the API while Postgres or Redis is down', () => {
  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startOwnPostgres(), startOwnRedis()]);
    const databaseUrl = databaseUrlFor(postgres.url, 'threadwork');
    await ensureDatabase(databaseUrl);
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      TOOLS_DATABASE_URL: databaseUrlFor(postgres.url, 'threadwork_demo'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: randomPrefix(),
      ADMIN_API_KEY: ADMIN_KEY,
      PORT: '0',
      DATABASE_POOL_SIZE: '3',
      // A verified key is remembered, so a request with it gets past authentication to the route's own queries.
      AUTH_CACHE_MS: '600000',
    });
    api = await startApi(config, createLogger({ name: 'test', level: 'silent', pretty: false }));
    const created = await call('/admin/keys', { method: 'POST', key: ADMIN_KEY, body: { name: 'outages' } });
    userKey = ((await created.json()) as { key: string }).key;
    const assistant = await call('/v1/assistants', { method: 'POST', body: { model: 'offline' } });
    assistantId = ((await assistant.json()) as { id: string }).id;
  }, 90_000);

  afterAll(async () => {
    await api?.close();
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
  }, 30_000);

  it(
    'answers 503 with Retry-After while Postgres is stopped, for a known and an unknown key, and 401 again after',
    async () => {
      expect((await newThread()).status).toBe(200);
      await postgres.stop();
      try {
        await expectUnavailable(await newThread());
        await expectUnavailable(
          await call('/v1/threads', { method: 'POST', key: 'sk-tw-not-a-key', body: {} }),
        );
        expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
      } finally {
        await postgres.start();
      }
      await eventually(newThread, 200, 'thread creation to succeed again');
      const unknownKey = await call('/v1/threads', { method: 'POST', key: 'sk-tw-not-a-key', body: {} });
      expect(unknownKey.status).toBe(401);
      expect(((await unknownKey.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    },
    OUTAGE_TEST_MS,
  );

  it(
    'answers 503 with Retry-After to run creation while Redis is stopped, and creates runs once it is back',
    async () => {
      const thread = (await (await newThread()).json()) as { id: string };
      const createRun = () =>
        call(`/v1/threads/${thread.id}/runs`, { method: 'POST', body: { assistant_id: assistantId } });
      await redis.stop();
      try {
        await expectUnavailable(await createRun());
        expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
        const health = await fetch(`${api.url}/api/health`);
        expect(health.status).toBe(503);
        expect(await health.json()).toMatchObject({
          status: 'degraded',
          dependencies: { postgres: { reachable: true }, redis: { configured: true, reachable: false } },
        });
      } finally {
        await redis.start();
      }
      const created = await eventually(createRun, 200, 'run creation to succeed again');
      expect(((await created.json()) as { status: string }).status).toBe('queued');
      await eventually(() => fetch(`${api.url}/readyz`), 200, 'readiness to come back');
    },
    OUTAGE_TEST_MS,
  );
});
