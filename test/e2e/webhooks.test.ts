import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig } from '@threadwork/shared';
import { waitFor } from '@threadwork/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHandle, startApi } from '../../services/api/src/server.js';
import { startRunWorker } from '../../services/run-worker/src/worker.js';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const api = (key: string, method: string, path: string, body?: unknown) =>
  call(stack.api.url, key, method, path, body);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The sender is still waiting for an answer (it has not given up and closed the connection). */
  isOpen: () => boolean;
}

/** A local receiver; `answer` decides what each request gets (a status, or `hang`: no answer at all). */
class Receiver {
  readonly received: Received[] = [];
  answer: number | 'hang' = 204;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let isOpen = true;
    res.on('close', () => {
      isOpen = false;
    });
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        isOpen: () => isOpen,
      });
      if (this.answer !== 'hang') res.writeHead(this.answer).end();
    });
  });

  async listen(port = 0): Promise<string> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}

const receivers: Receiver[] = [];

async function newReceiver(port?: number): Promise<{ receiver: Receiver; url: string }> {
  const receiver = new Receiver();
  receivers.push(receiver);
  return { receiver, url: await receiver.listen(port) };
}

/** A URL on a port where nothing listens (yet). */
async function closedPortUrl(): Promise<{ url: string; port: number }> {
  const probe = http.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return { url: `http://127.0.0.1:${port}/hook`, port };
}

interface Delivery {
  attempt: number;
  status_code: number | null;
  error: string | null;
  next_retry_at: number | null;
  message_id: string;
  type: string;
  run_id: string;
}

async function deliveries(key: string, webhookId: string): Promise<Delivery[]> {
  const { status, body } = await api(key, 'GET', `/admin/webhooks/${webhookId}/deliveries`);
  expect(status).toBe(200);
  return (body.data as Delivery[]).slice().reverse();
}

async function register(key: string, url: string, events?: string[]) {
  const { status, body } = await api(key, 'POST', '/admin/webhooks', { url, ...(events ? { events } : {}) });
  expect(status, JSON.stringify(body)).toBe(201);
  return body as { id: string; url: string; events: string[]; secret: string };
}

async function chat(key: string, message: string): Promise<{ run_id: string; status: string }> {
  const { status, body } = await api(key, 'POST', '/api/chat', { message });
  expect(status, JSON.stringify(body)).toBe(200);
  return body as { run_id: string; status: string };
}

beforeAll(async () => {
  stack = await startStack({
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_DELAYS: '300ms,300ms,300ms',
    WEBHOOK_TIMEOUT_MS: '5000',
    WEBHOOK_DISABLE_AFTER_FAILURES: '2',
  });
});

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

afterAll(async () => {
  await stack?.close();
});

describe('webhooks when a run ends', () => {
  it('sends a chat run’s run.completed, signed per Standard Webhooks', async () => {
    const { key } = await stack.newUser('signed');
    const { receiver, url } = await newReceiver();
    const endpoint = await register(key, url);
    expect(endpoint.events).toEqual([
      'run.completed',
      'run.failed',
      'run.requires_action',
      'run.cancelled',
      'run.expired',
      'run.incomplete',
    ]);
    expect(endpoint.secret).toMatch(/^whsec_/);

    const run = await chat(key, 'Hello, webhooks');
    expect(run.status).toBe('completed');
    const [request] = await waitFor(async () => receiver.received.length > 0 && receiver.received, {
      what: 'the webhook',
    });
    const headers = {
      'webhook-id': String(request?.headers['webhook-id']),
      'webhook-timestamp': String(request?.headers['webhook-timestamp']),
      'webhook-signature': String(request?.headers['webhook-signature']),
    };
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = new Webhook(endpoint.secret).verify(request?.body ?? '', headers) as {
      type: string;
      created_at: number;
      data: { id: string; object: string; status: string };
    };
    expect(payload.type).toBe('run.completed');
    expect(payload.created_at).toBeTypeOf('number');
    expect(payload.data).toMatchObject({ id: run.run_id, object: 'thread.run', status: 'completed' });
    // Signed with another secret, the same request does not verify.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`).verify(request?.body ?? '', headers),
    ).toThrow();

    const [delivery] = await waitFor(async () => {
      const log = await deliveries(key, endpoint.id);
      return log.length > 0 && log;
    });
    expect(delivery).toMatchObject({
      attempt: 1,
      status_code: 204,
      error: null,
      next_retry_at: null,
      message_id: headers['webhook-id'],
      type: 'run.completed',
      run_id: run.run_id,
    });
  });

  it('retries until a receiver that was down at first gets the message', async () => {
    const { key } = await stack.newUser('down at first');
    const { url, port } = await closedPortUrl();
    const endpoint = await register(key, url, ['run.completed']);
    const run = await chat(key, 'Is anyone there?');
    const [failed] = await waitFor(async () => {
      const log = await deliveries(key, endpoint.id);
      return log.length > 0 && log;
    });
    expect(failed).toMatchObject({ attempt: 1, status_code: null });
    expect(failed?.error).toMatch(/ECONNREFUSED/);
    expect(failed?.next_retry_at).toBeTypeOf('number');

    const { receiver } = await newReceiver(port);
    const [request] = await waitFor(async () => receiver.received.length > 0 && receiver.received);
    const payload = new Webhook(endpoint.secret).verify(request?.body ?? '', {
      'webhook-id': String(request?.headers['webhook-id']),
      'webhook-timestamp': String(request?.headers['webhook-timestamp']),
      'webhook-signature': String(request?.headers['webhook-signature']),
    }) as { data: { id: string } };
    expect(payload.data.id).toBe(run.run_id);
    const log = await waitFor(async () => {
      const rows = await deliveries(key, endpoint.id);
      return rows.some((row) => row.status_code === 204) && rows;
    });
    const delivered = log.at(-1);
    expect(delivered?.attempt).toBeGreaterThan(1);
    // Every attempt of one message carries the same webhook-id.
    expect(new Set(log.map((row) => row.message_id)).size).toBe(1);
  });

  it('does not hold a run while a receiver hangs', async () => {
    const { key } = await stack.newUser('hanging');
    const { receiver, url } = await newReceiver();
    receiver.answer = 'hang';
    const endpoint = await register(key, url);
    await chat(key, 'first');
    await waitFor(async () => receiver.received.length === 1, { what: 'the first webhook, left hanging' });

    const second = await chat(key, 'second, while the receiver still hangs');
    expect(second.status).toBe('completed');
    // The first request is still waiting for its answer: the run completed while the receiver hung.
    expect(receiver.received[0]?.isOpen()).toBe(true);

    const log = await waitFor(async () => {
      const rows = await deliveries(key, endpoint.id);
      return rows.some((row) => row.error?.includes('No answer within 5000 ms')) && rows;
    });
    expect(log[0]).toMatchObject({ attempt: 1, status_code: null });
  });

  it('disables an endpoint whose messages keep failing every retry, with the reason', async () => {
    const { key } = await stack.newUser('failing');
    const { receiver, url } = await newReceiver();
    receiver.answer = 500;
    const endpoint = await register(key, url, ['run.completed']);
    await chat(key, 'one');
    await chat(key, 'two');
    const listed = await waitFor(async () => {
      const { body } = await api(key, 'GET', '/admin/webhooks');
      const [row] = body.data as Array<{ status: string; disabled_reason: string | null }>;
      return row?.status === 'disabled' && row;
    });
    expect(listed.disabled_reason).toMatch(/2 messages in a row failed every attempt; the last: HTTP 500/);
    // Two messages, four attempts each (the first try and three retries).
    expect(receiver.received).toHaveLength(8);
    const log = await deliveries(key, endpoint.id);
    expect(log.filter((row) => row.next_retry_at === null)).toHaveLength(2);

    const seen = receiver.received.length;
    await chat(key, 'three');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received).toHaveLength(seen);
  });
});

describe('a run ended by the API', () => {
  let idle: Stack;

  beforeAll(async () => {
    idle = await startStack({ WEBHOOK_ALLOW_PRIVATE: 'true' }, { runWorker: false, toolWorker: false });
  });

  afterAll(async () => {
    await idle?.close();
  });

  it('sends run.cancelled for a queued run the API cancels, once a run worker is up to deliver it', async () => {
    const { key } = await idle.newUser('canceller');
    const { receiver, url } = await newReceiver();
    const endpoint = await call(idle.api.url, key, 'POST', '/admin/webhooks', {
      url,
      events: ['run.cancelled'],
    });
    const assistant = await call(idle.api.url, key, 'POST', '/v1/assistants', { model: 'offline' });
    const queued = await call(idle.api.url, key, 'POST', '/v1/threads/runs', {
      assistant_id: assistant.body.id,
      thread: { messages: [{ role: 'user', content: 'never mind' }] },
    });
    expect(queued.body.status).toBe('queued');
    const runPath = `/v1/threads/${queued.body.thread_id}/runs/${queued.body.id}`;
    await call(idle.api.url, key, 'POST', `${runPath}/cancel`);
    // No worker holds the run: the API itself ended it, and published run.cancelled.
    expect((await call(idle.api.url, key, 'GET', runPath)).body.status).toBe('cancelled');

    const worker = await startRunWorker(
      idle.config,
      createLogger({ name: 'test', level: 'silent', pretty: false }),
    );
    try {
      const [request] = await waitFor(async () => receiver.received.length > 0 && receiver.received);
      const payload = new Webhook(String(endpoint.body.secret)).verify(request?.body ?? '', {
        'webhook-id': String(request?.headers['webhook-id']),
        'webhook-timestamp': String(request?.headers['webhook-timestamp']),
        'webhook-signature': String(request?.headers['webhook-signature']),
      });
      expect(payload).toMatchObject({
        type: 'run.cancelled',
        data: { id: queued.body.id, status: 'cancelled' },
      });
    } finally {
      await worker.close();
    }
  });
});

describe('/admin/webhooks', () => {
  it('scopes endpoints to their key; the admin sees all', async () => {
    const alice = (await stack.newUser('alice')).key;
    const bob = (await stack.newUser('bob')).key;
    const { url } = await newReceiver();
    const endpoint = await register(alice, url, ['run.failed']);
    const listed = (key: string) =>
      api(key, 'GET', '/admin/webhooks').then(({ body }) =>
        (body.data as Array<{ id: string }>).map((row) => row.id),
      );
    expect(await listed(alice)).toEqual([endpoint.id]);
    expect(await listed(bob)).toEqual([]);
    expect(await listed(ADMIN_KEY)).toContain(endpoint.id);
    expect((await api(bob, 'GET', `/admin/webhooks/${endpoint.id}/deliveries`)).status).toBe(404);
    expect((await api(bob, 'DELETE', `/admin/webhooks/${endpoint.id}`)).status).toBe(404);
    expect((await api(alice, 'DELETE', `/admin/webhooks/${endpoint.id}`)).body).toEqual({
      id: endpoint.id,
      object: 'webhook_endpoint.deleted',
      deleted: true,
    });
    expect(await listed(alice)).toEqual([]);
  });

  it('refuses unknown events and non-http URLs', async () => {
    const { key } = await stack.newUser('careless');
    const unknown = await api(key, 'POST', '/admin/webhooks', {
      url: 'https://example.com/',
      events: ['run.done'],
    });
    expect(unknown.status).toBe(400);
    const ftp = await api(key, 'POST', '/admin/webhooks', { url: 'ftp://example.com/hook' });
    expect(ftp.status).toBe(400);
    expect(ftp.body.error).toMatchObject({ param: 'url' });
  });

  it('still needs the admin key for the other admin routes', async () => {
    const { key } = await stack.newUser('not an admin');
    expect((await api(key, 'GET', '/admin/keys')).status).toBe(403);
  });
});

describe('without WEBHOOK_ALLOW_PRIVATE', () => {
  let strict: ApiHandle;

  beforeAll(async () => {
    const config = loadConfig({ ...stack.env, WEBHOOK_ALLOW_PRIVATE: 'false' });
    strict = await startApi(config, createLogger({ name: 'test', level: 'silent', pretty: false }));
  });

  afterAll(async () => {
    await strict?.close();
  });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://localhost/hook',
    'http://[::1]/hook',
    'http://10.1.2.3/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
  ])('refuses %s at registration', async (url) => {
    const { status, body } = await call(strict.url, ADMIN_KEY, 'POST', '/admin/webhooks', { url });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'url' });
    expect(String((body.error as { message: string }).message)).toMatch(/private|resolve/);
  });
});
