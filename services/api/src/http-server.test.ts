import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { listen, serverFor } from './http-server.js';

const app = express();
app.get('/hello', (req, res) => {
  res.json({ path: req.path, hasApp: req.app === app });
});
const server = serverFor(app);
const arrivedWith: unknown[] = [];
server.prependListener('request', (req) => arrivedWith.push(Object.getPrototypeOf(req)));
const listening = new Promise<string>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
});

afterAll(() => {
  server.close();
});

describe('serverFor', () => {
  it('hands express requests that already have its prototype, and express works as before', async () => {
    const base = await listening;
    for (const _ of [1, 2]) {
      const response = await fetch(`${base}/hello`);
      expect(await response.json()).toEqual({ path: '/hello', hasApp: true });
    }
    expect(arrivedWith).toEqual([app.request, app.request]);
  });
});

describe('listen', () => {
  it('keeps idle connections open as long as configured, and says so', async () => {
    const configured = await listen(express(), 0, 65_000);
    const { port } = configured.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true });
    const header = await new Promise<unknown>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
          response.resume();
          resolve(response.headers['keep-alive']);
        })
        .on('error', reject);
    });
    agent.destroy();
    configured.close();
    expect(header).toBe('timeout=65');
    expect(configured.headersTimeout).toBeGreaterThan(configured.keepAliveTimeout);
  });
});
