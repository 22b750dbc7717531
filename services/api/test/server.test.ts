import http from 'node:http';
import { createLogger, loadConfig } from '@threadwork/shared';
import { createTestDatabase, randomPrefix, type TestDatabase } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiHandle, startApi } from '../src/server.js';

let database: TestDatabase;
let api: ApiHandle;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    TOOLS_DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: randomPrefix(),
    PORT: '0',
    DATABASE_POOL_SIZE: '2',
    HTTP_KEEP_ALIVE_MS: '65000',
  });
  api = await startApi(config, createLogger({ name: 'test', level: 'silent', pretty: false }));
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

describe('startApi', () => {
  it('keeps idle connections open as long as HTTP_KEEP_ALIVE_MS says, and says so', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const header = await new Promise<unknown>((resolve, reject) => {
      http
        .get(`${api.url}/healthz`, { agent }, (response) => {
          response.resume();
          resolve(response.headers['keep-alive']);
        })
        .on('error', reject);
    });
    agent.destroy();
    expect(header).toBe('timeout=65');
  });
});
