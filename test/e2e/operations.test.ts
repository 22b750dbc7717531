import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let userKey: string;

beforeAll(async () => {
  stack = await startStack();
  userKey = (await stack.newUser()).key;
});

afterAll(async () => {
  await stack?.close();
});

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
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(['runs', 'tools']);
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
    const created = await fetch(`${stack.api.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'short-lived' }),
    });
    const { id, key } = (await created.json()) as { id: string; key: string };
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
});
