import { createLogger } from '@threadwork/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHandle, startApi } from '../../services/api/src/server.js';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let userKey: string;
/** A second API process on the same database and Redis: it learns of revocations only through the broadcast. */
let otherApi: ApiHandle;

beforeAll(async () => {
  // Verified keys are trusted for a minute, so only the revocation broadcast can explain a refusal.
  stack = await startStack({ AUTH_CACHE_MS: '60000' });
  otherApi = await startApi(
    stack.config,
    createLogger({ name: 'other-api', level: 'silent', pretty: false }),
  );
  userKey = (await stack.newUser()).key;
});

afterAll(async () => {
  await otherApi?.close();
  await stack?.close();
});

async function createKey(name: string): Promise<{ id: string; key: string }> {
  const created = await fetch(`${stack.api.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return (await created.json()) as { id: string; key: string };
}

const basic = (key: string) => `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`;

describe('operations endpoints', () => {
  it('reports liveness and readiness', async () => {
    const health = await fetch(`${stack.api.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${stack.api.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('exposes Prometheus metrics with queue depth and request timings', async () => {
    await fetch(`${stack.baseURL}/assistants`, { headers: { authorization: `Bearer ${userKey}` } });
    const response = await fetch(`${stack.api.url}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/threadwork_queue_jobs\{[^}]*queue="runs"/);
    expect(text).toMatch(/threadwork_http_request_duration_seconds_count\{[^}]*route="\/v1\/assistants"/);
  });

  it('serves an OpenAPI document built from the request schemas, and a docs page', async () => {
    const document = (await (await fetch(`${stack.api.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: { 'application/json': { schema: { required?: string[] } } } } }
        >
      >;
    };
    const createRun = document.paths['/v1/threads/{thread_id}/runs']?.post;
    expect(createRun?.requestBody?.content['application/json'].schema.required).toContain('assistant_id');
    const chat = document.paths['/api/chat']?.post;
    expect(chat?.requestBody?.content['application/json'].schema.required).toContain('message');
    const docs = await fetch(`${stack.api.url}/docs`);
    expect(await docs.text()).toContain('/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs');
  });

  it('answers GET /api/health without a key: status and which dependencies are configured and reachable', async () => {
    const response = await fetch(`${stack.api.url}/api/health`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: 'ok',
      dependencies: {
        postgres: { configured: true, reachable: true },
        redis: { configured: true, reachable: true },
        openai: { configured: false },
        model_providers: { configured: [] },
      },
      default_model: 'offline',
    });
    expect(text).not.toContain(stack.config.DATABASE_URL);
    expect(text).not.toContain('sk-tw-');
  });

  it('serves /redoc beside /docs, with ReDoc from the npm package rather than a CDN', async () => {
    const page = await fetch(`${stack.api.url}/redoc`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('spec-url="/openapi.json"');
    expect(html).not.toMatch(/https?:\/\//);
    const script = /<script src="([^"]+)"/.exec(html)?.[1];
    const bundle = await fetch(`${stack.api.url}${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });

  it('opens the queue dashboard for admin keys only', async () => {
    const anonymous = await fetch(`${stack.api.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    const user = await fetch(`${stack.api.url}/admin/queues`, { headers: { authorization: basic(userKey) } });
    expect(user.status).toBe(403);
    const admin = await fetch(`${stack.api.url}/admin/queues/api/queues`, {
      headers: { authorization: basic(ADMIN_KEY) },
    });
    expect(admin.status).toBe(200);
    const body = (await admin.json()) as { queues: Array<{ name: string }> };
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(['ingest', 'runs', 'tools']);
  });

  it('refuses admin endpoints to user keys and unknown keys', async () => {
    const asUser = await fetch(`${stack.api.url}/admin/keys`, {
      headers: { authorization: `Bearer ${userKey}` },
    });
    expect(asUser.status).toBe(403);
    const unknown = await fetch(`${stack.api.url}/admin/keys`, {
      headers: { authorization: 'Bearer sk-tw-nope-nope-nope' },
    });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('revokes a key so that it stops working at once', async () => {
    const { id, key } = await createKey('short-lived');
    const before = await fetch(`${stack.baseURL}/assistants`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(before.status).toBe(200);
    const revoked = await fetch(`${stack.api.url}/admin/keys/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(revoked.status).toBe(200);
    const after = await fetch(`${stack.baseURL}/assistants`, { headers: { authorization: `Bearer ${key}` } });
    expect(after.status).toBe(401);
  });

  it('refuses a revoked key on another API process that had it verified in memory', async () => {
    const { id, key } = await createKey('revoked elsewhere');
    const listAssistants = () =>
      fetch(`${otherApi.url}/v1/assistants`, { headers: { authorization: `Bearer ${key}` } });
    expect((await listAssistants()).status).toBe(200);
    expect((await listAssistants()).status).toBe(200);
    const revoked = await fetch(`${stack.api.url}/admin/keys/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(revoked.status).toBe(200);
    // The broadcast travels through Redis: the other process may answer a few requests before it lands.
    const deadline = Date.now() + 5_000;
    let status = (await listAssistants()).status;
    while (status === 200 && Date.now() < deadline) status = (await listAssistants()).status;
    expect(status).toBe(401);
  });
});
