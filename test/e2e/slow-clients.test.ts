// Clients that send too much or too slowly, repeated on a raw socket: a big body without a key is refused before it
// is read, a body trickled in (slow loris) is cut off at the request deadline, a silent connection at the idle one.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

const REQUEST_TIMEOUT_MS = 1_500;
const IDLE_TIMEOUT_MS = 600;

let stack: Stack;
let port: number;

beforeAll(async () => {
  stack = await startStack(
    {
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      CHAT_WAIT_TIMEOUT_MS: '200',
      SSE_HEARTBEAT_MS: '100',
    },
    { runWorker: false, toolWorker: false },
  );
  port = Number(new URL(stack.api.url).port);
});

afterAll(async () => {
  await stack?.close();
});

interface Exchange {
  socket: net.Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<{ received: string; atMs: number }>;
}

function connect(): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      const closed = new Promise<{ received: string; atMs: number }>((settle) => {
        socket.on('close', () => settle({ received, atMs: Date.now() - startedAt }));
      });
      resolve({ socket, closed });
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

function head(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', ...lines, '', ''].join('\r\n');
}

describe('slow and oversized clients', () => {
  it('refuses an 18 MB body without a key before reading it, and closes the connection', async () => {
    const { socket, closed } = await connect();
    const declared = 18 * 1024 * 1024;
    socket.write(
      head('/v1/threads', { 'content-type': 'application/json', 'content-length': String(declared) }),
    );
    const sent = 64 * 1024;
    socket.write(`[${'1,'.repeat(sent / 2 - 1)}`);
    const { received, atMs } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(received).toContain('missing_api_key');
    // Answered and closed on the headers alone: far sooner than the request deadline a read would have waited for.
    expect(atMs).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('refuses a declared body over the limit with 413 before reading it', async () => {
    const { socket, closed } = await connect();
    socket.write(
      head('/v1/threads', {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'content-length': String(18 * 1024 * 1024),
      }),
    );
    const { received, atMs } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(atMs).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('stops reading a chunked body at the limit with 413, without draining the rest', async () => {
    const { socket, closed } = await connect();
    socket.write(
      head('/v1/threads', {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      }),
    );
    const chunk = 'x'.repeat(256 * 1024);
    for (let sent = 0; sent < 5 && !socket.destroyed; sent += 1)
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const { received, atMs } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(atMs).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('cuts off a body trickled in a byte at a time (slow loris) at the request deadline with 408', async () => {
    const { socket, closed } = await connect();
    socket.write(
      head('/v1/threads', {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'content-length': '100000',
      }),
    );
    // A byte every 150 ms: never silent long enough for the idle timeout, so only the request deadline stops it.
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 150);
    const { received, atMs } = await closed;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('request_timeout');
    expect(atMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(atMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
  });

  it('closes a connection that falls silent in the middle of a request at the idle timeout', async () => {
    const { socket, closed } = await connect();
    socket.write(
      head('/v1/threads', {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'content-length': '1000',
      }),
    );
    socket.write('{"metadata":');
    const { received, atMs } = await closed;
    expect(received).toBe('');
    expect(atMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100);
    expect(atMs).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('sets the configured deadlines on the server (Node enforces the headers one on its own check)', () => {
    expect(stack.api.server.headersTimeout).toBe(500);
    expect(stack.api.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(stack.api.server.timeout).toBe(IDLE_TIMEOUT_MS);
  });

  it('still answers ordinary requests, including a wait longer than nothing but within the idle timeout', async () => {
    const response = await fetch(`${stack.baseURL}/threads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { a: 'b' } }),
    });
    expect(response.status).toBe(200);
  });
});
