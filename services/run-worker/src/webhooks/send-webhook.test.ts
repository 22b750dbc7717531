import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWebhook } from './send-webhook.js';

let port: number;
let hits = 0;
const server = http.createServer((req, res) => {
  hits += 1;
  req.resume();
  res.writeHead(200).end('ok');
});

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const request = (url: string, allowPrivate: boolean) => ({
  url,
  secret,
  messageId: 'whmsg_test',
  body: '{"type":"run.completed"}',
  timeoutMs: 2000,
  allowPrivate,
  now: new Date(),
});

describe('sendWebhook', () => {
  it('refuses a private address at delivery, by name or literal, without connecting', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const result = await sendWebhook(request(`http://${host}:${port}/`, false));
      expect(result.statusCode).toBeNull();
      expect(result.error).toMatch(/private/);
    }
    expect(hits).toBe(0);
  });

  it('delivers when private addresses are allowed, with headers that verify', async () => {
    let headers: http.IncomingHttpHeaders = {};
    server.once('request', (req) => {
      headers = req.headers;
    });
    const sent = request(`http://localhost:${port}/`, true);
    const result = await sendWebhook(sent);
    expect(result).toMatchObject({ statusCode: 200, error: null });
    expect(hits).toBe(1);
    expect(
      new Webhook(secret).verify(sent.body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      }),
    ).toEqual({ type: 'run.completed' });
  });
});
