import { createLogger, loadConfig } from '@threadwork/shared';
import { createTestDatabase, randomPrefix, type TestDatabase } from '@threadwork/testing';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import type { OpenApiDocument } from '../src/openapi.js';
import { QUEUE_DASHBOARD_PATH } from '../src/routes/ops.js';
import { type ApiHandle, startApi } from '../src/server.js';

let database: TestDatabase;
let api: ApiHandle;
let document: OpenApiDocument;

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
  });
  api = await startApi(config, createLogger({ name: 'test', level: 'silent', pretty: false }));
  document = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

/** An express layer as far as the walk below reads it (express 5, router 2). */
interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/**
 * The routes express will answer, as `METHOD /path/:param`: route layers, and routers' stacks under the path they
 * are mounted at. Router internals (`router.stack`, a layer's `rawPath`) are not a documented API, hence the
 * checks that fail loudly if they change shape.
 */
function registeredRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods).filter((method) => method !== '_all');
      return methods.map((method) => `${method.toUpperCase()} ${prefix}${layer.route?.path}`);
    }
    if (!layer.handle.stack) return [];
    if (typeof layer.rawPath !== 'string') throw new Error('a mounted router without a string path');
    const mountPath = layer.rawPath === '/' ? '' : layer.rawPath;
    return registeredRoutes(layer.handle.stack, prefix + mountPath);
  });
}

function appRoutes(app: Express): string[] {
  return registeredRoutes((app.router as unknown as { stack: Layer[] }).stack);
}

/** `GET /v1/threads/{thread_id}` and `GET /v1/threads/:threadId` both become `GET /v1/threads/{}`. */
function shape(route: string): string {
  return route.replace(/:\w+/g, '{}').replace(/\{\w+\}/g, '{}');
}

function documentedRoutes(): string[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

type Content = Record<string, { schema?: Record<string, unknown> }>;

function operations() {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      method,
      path,
      operation: operation as {
        parameters: Array<{ name: string; in: string }>;
        requestBody?: { content: Content };
        responses: Record<string, { content?: Content }>;
      },
    })),
  );
}

/** POSTs that take no body: everything else that is posted is JSON (or, for the catalog, also text). */
const BODILESS_POSTS = [
  'POST /v1/threads/{thread_id}/runs/{run_id}/cancel',
  'POST /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel',
];

const STREAMING = [
  'POST /v1/threads/runs',
  'POST /v1/threads/{thread_id}/runs',
  'POST /v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs',
  'POST /v1/chat/completions',
  'POST /api/chat/stream',
  'GET /api/runs/{run_id}/events',
];

describe('GET /openapi.json', () => {
  it('documents every route the app registers, and nothing it does not', () => {
    const registered = appRoutes(createApp(api.deps)).filter(
      // The queue dashboard is bull-board's own UI and API, mounted as a whole: not part of Threadwork's API.
      (route) => !route.split(' ')[1]?.startsWith(QUEUE_DASHBOARD_PATH),
    );
    expect(registered.length).toBeGreaterThanOrEqual(42);
    expect(registered.map(shape).sort()).toEqual(documentedRoutes().map(shape).sort());
  });

  it('names every path parameter', () => {
    for (const { name, path, operation } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared, name).toEqual(inPath);
    }
  });

  it('gives every posted body a JSON (or, for an upload, a multipart form) request schema', () => {
    for (const { name, method, operation } of operations()) {
      if (method !== 'post' || BODILESS_POSTS.includes(name)) continue;
      const content = operation.requestBody?.content;
      const schema = content?.['application/json']?.schema ?? content?.['multipart/form-data']?.schema;
      expect(schema?.type, name).toBe('object');
    }
    const upload = operations().find((entry) => entry.name === 'POST /v1/files');
    expect(Object.keys(upload?.operation.requestBody?.content ?? {})).toEqual(['multipart/form-data']);
  });

  it('documents the query parameters of lists', () => {
    const listRuns = operations().find((entry) => entry.name === 'GET /v1/threads/{thread_id}/runs');
    const query = listRuns?.operation.parameters.filter((p) => p.in === 'query').map((p) => p.name);
    expect(query).toEqual(['limit', 'order', 'after', 'before']);
  });

  it('gives every operation a success response with its content', () => {
    for (const { name, operation } of operations()) {
      const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
      expect(success.length, name).toBeGreaterThan(0);
      for (const [, response] of success) {
        const content = Object.entries(response.content ?? {});
        expect(content.length, name).toBeGreaterThan(0);
        for (const [, media] of content) expect(media.schema, name).toBeDefined();
      }
      const isStreaming = Object.values(operation.responses).some((r) => r.content?.['text/event-stream']);
      expect(isStreaming, name).toBe(STREAMING.includes(name));
    }
  });

  it('describes answers with the wire objects', () => {
    const run = operations().find((entry) => entry.name === 'GET /v1/threads/{thread_id}/runs/{run_id}');
    expect(run?.operation.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/RunObject',
    });
    const components = document.components as { schemas: Record<string, { required?: string[] }> };
    expect(components.schemas.RunObject?.required).toContain('required_action');
  });
});

describe('GET /docs', () => {
  it('lists every operation', async () => {
    const page = await (await fetch(`${api.url}/docs`)).text();
    for (const path of Object.keys(document.paths)) expect(page).toContain(path);
  });
});
