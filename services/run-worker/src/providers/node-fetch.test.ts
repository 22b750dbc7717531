import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from './node-fetch.js';

interface Seen {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
/** Lets the streamed reply go on once the client has read its first chunk. */
let releaseStream: () => void = () => {};

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method ?? '', headers: req.headers, body });
    if (req.url === '/empty') {
      res.writeHead(204).end();
      return;
    }
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' });
      res.write('data: first\n\n');
      await new Promise<void>((resolve) => {
        releaseStream = resolve;
      });
      res.end('data: second\n\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"nope"}}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('createNodeFetch', () => {
  const fetchOver = createNodeFetch();

  it('sends the method, headers and body, and streams the reply as it comes', async () => {
    const response = await fetchOver(`${base}/stream`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
      body: '{"model":"m"}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    releaseStream();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).toBe('data: second\n\n');
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      body: '{"model":"m"}',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
    });
  });

  it('answers error statuses with their body, and bodiless statuses without one', async () => {
    const missing = await fetchOver(`${base}/missing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { message: 'nope' } });
    const empty = await fetchOver(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('ends the body with an AbortError when the signal fires mid-stream', async () => {
    const controller = new AbortController();
    const response = await fetchOver(`${base}/stream`, { method: 'POST', signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    releaseStream();
  });

  it('rejects when the request is aborted before any reply, or cannot connect', async () => {
    await expect(fetchOver(`${base}/stream`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await expect(fetchOver(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
