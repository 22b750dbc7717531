import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@threadwork/testing';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { openSse } from './sse-response.js';

const closed: string[] = [];
const app = express();
app.get('/stream/:name/:lifetimeMs', (req, res) => {
  const name = req.params.name;
  const maxLifetimeMs = Number(req.params.lifetimeMs);
  const stream = openSse(res, { heartbeatMs: 20, maxLifetimeMs }, () => closed.push(name));
  stream.write(`event: hello\ndata: ${name}\n\n`);
});
const server = createServer(app);
const listening = new Promise<string>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
});

afterAll(() => {
  server.close();
});

describe('openSse', () => {
  it('sends the headers at once, beats, and ends the stream after its maximum lifetime', async () => {
    const response = await fetch(`${await listening}/stream/long/150`);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = await response.text();
    expect(body.startsWith('event: hello\ndata: long\n\n')).toBe(true);
    expect(body).toContain(': keep-alive\n\n');
    expect(closed).toContain('long');
  });

  it('runs the cleanup when the client goes away', async () => {
    const leaving = new AbortController();
    const response = await fetch(`${await listening}/stream/left/60000`, { signal: leaving.signal });
    const reader = response.body?.getReader();
    await reader?.read();
    leaving.abort();
    await waitFor(async () => closed.includes('left'), {
      timeoutMs: 5_000,
      intervalMs: 10,
      what: 'the stream to close',
    });
  });
});
