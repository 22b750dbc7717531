import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@threadwork/shared';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { logRequests } from './request-log.js';
import { openSse } from './sse/sse-response.js';

interface LogLine {
  msg: string;
  req: { id: string; method: string; url: string; headers: Record<string, string> };
  res: { statusCode: number; headers: Record<string, string> };
  responseTime: number;
}

const lines: LogLine[] = [];
const destination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(JSON.parse(chunk.toString()) as LogLine);
    done();
  },
});
const log = createLogger({ name: 'request-log-test', pretty: false, destination });

const app = express();
app.use(logRequests(log, (req) => req.url === '/healthz'));
app.get('/healthz', (_req, res) => {
  res.send('ok');
});
app.get('/broken', (_req, res) => {
  res.status(503).send('down');
});
app.get('/stream', (_req, res) => {
  openSse(res, { heartbeatMs: 1_000, maxLifetimeMs: 50 });
});
const server = createServer(app);
const listening = new Promise<string>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
});

afterAll(() => {
  server.close();
});

async function logged(count: number): Promise<LogLine[]> {
  const deadline = Date.now() + 5_000;
  while (lines.length < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return lines.splice(0, lines.length);
}

describe('logRequests', () => {
  it("answers the client's x-request-id, and logs the request once it is done, without its key", async () => {
    const response = await fetch(`${await listening}/broken?x=1`, {
      headers: { 'x-request-id': 'req_given', authorization: 'Bearer secret' },
    });
    expect(response.headers.get('x-request-id')).toBe('req_given');
    const [line] = await logged(1);
    expect(line).toMatchObject({
      msg: 'request errored',
      req: { id: 'req_given', method: 'GET', url: '/broken?x=1', headers: { authorization: '[redacted]' } },
      res: { statusCode: 503, headers: { 'x-request-id': 'req_given' } },
    });
    expect(line?.responseTime).toBeGreaterThanOrEqual(0);
  });

  it('redacts keys sent as x-api-key, api-key, ?api_key= and cookies, and keeps the rest of the URL', async () => {
    await fetch(`${await listening}/broken?x=1&api_key=sk-query-secret&key=sk-other&page=2`, {
      headers: { 'x-api-key': 'sk-header-secret', 'api-key': 'sk-azure-secret', cookie: 'session=secret' },
    });
    const [line] = await logged(1);
    expect(JSON.stringify(line)).not.toMatch(/secret|sk-other/);
    expect(line?.req.url).toBe('/broken?x=1&api_key=[redacted]&key=[redacted]&page=2');
    expect(line?.req.headers).toMatchObject({
      'x-api-key': '[redacted]',
      'api-key': '[redacted]',
      cookie: '[redacted]',
    });
  });

  it('makes an id when the client sent none, logs an SSE stream when it ends, and not the health checks', async () => {
    const base = await listening;
    await (await fetch(`${base}/healthz`)).text();
    const response = await fetch(`${base}/stream`);
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    await response.text();
    const found = await logged(1);
    expect(found.map((line) => [line.msg, line.req.url, line.req.id, line.res.statusCode])).toEqual([
      ['request completed', '/stream', id, 200],
    ]);
  });
});
