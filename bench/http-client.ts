// A lean HTTP client for the bench: JSON requests and SSE streams over keep-alive sockets to 127.0.0.1 only.
import http from 'node:http';
import { SseParser } from './sse-parse.js';

/** What a stream handler answers: keep reading, or stop (the connection is closed). */
export type StreamControl = 'continue' | 'stop';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

function assertLoopback(url: URL): void {
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.hostname !== '[::1]') {
    throw new Error(`the bench only sends traffic to this machine, not to ${url.hostname}`);
  }
}

/**
 * The server closed an idle keep-alive socket just as it was reused: the request never reached it, so sending it
 * again is safe (Node's documented pattern for `reusedSocket`).
 */
function isStaleSocket(req: http.ClientRequest, error: Error): boolean {
  return req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET';
}

export class ApiClient {
  readonly agent: http.Agent;
  private readonly base: URL;

  constructor(
    baseUrl: string,
    private readonly apiKey: string,
    options: { maxSockets?: number; timeoutMs?: number } = {},
  ) {
    this.base = new URL(baseUrl);
    assertLoopback(this.base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private readonly timeoutMs: number;

  /** The same key against another server (e.g. a restarted API). */
  at(baseUrl: string): ApiClient {
    return new ApiClient(baseUrl, this.apiKey, { timeoutMs: this.timeoutMs });
  }

  private request(method: string, path: string, body: unknown, accept: string): http.ClientRequest {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      host: this.base.hostname,
      port: this.base.port,
      method,
      path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
      agent: this.agent,
      timeout: this.timeoutMs,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        accept,
        ...(payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      },
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${this.timeoutMs} ms`)));
    req.end(payload);
    return req;
  }

  json<T>(method: string, path: string, body?: unknown, isRetry = false): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = this.request(method, path, body, 'application/json');
      req.on('error', (error) => {
        if (isRetry || !isStaleSocket(req, error)) reject(error);
        else this.json<T>(method, path, body, true).then(resolve, reject);
      });
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new HttpError(status, text));
          else resolve(JSON.parse(text) as T);
        });
      });
    });
  }

  /**
   * POSTs and reads the SSE answer frame by frame until the server ends it or the handler answers 'stop'.
   * `onOpen` receives a function that closes the stream from outside (used for streams held open on purpose).
   */
  stream(
    path: string,
    body: unknown,
    onFrame: (event: string, data: string) => StreamControl,
    onOpen?: (close: () => void) => void,
    isRetry = false,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = this.request('POST', path, body, 'text/event-stream');
      let isStopped = false;
      let hasResponse = false;
      const close = () => {
        if (isStopped) return;
        isStopped = true;
        req.destroy();
        resolve();
      };
      req.on('error', (error) => {
        if (isStopped) return;
        if (hasResponse || isRetry || !isStaleSocket(req, error)) reject(error);
        else this.stream(path, body, onFrame, onOpen, true).then(resolve, reject);
      });
      req.on('response', (res) => {
        hasResponse = true;
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => reject(new HttpError(status, Buffer.concat(parts).toString('utf8'))));
          return;
        }
        // A stream held open has no deadline of its own: the bench closes it.
        req.setTimeout(0);
        onOpen?.(close);
        const parser = new SseParser((event, data) => {
          if (!isStopped && onFrame(event, data) === 'stop') close();
        });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => parser.push(chunk));
        res.on('error', (error) => (isStopped ? undefined : reject(error)));
        res.on('end', () => {
          isStopped = true;
          resolve();
        });
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
